"""Producer test helpers: v2 response builders, moto readers, a fake Lambda context."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from producer import service
from producer.checkpoints import CheckpointStore
from producer.config import ProducerConfig
from producer.deadline import unlimited
from producer.kinesis_writer import KinesisWriter

REGION = "us-east-1"
STREAM = "trendstream-test-tweets"
TABLE = "trendstream-test-EventData"
EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
REPLAY_DATASET = Path(__file__).resolve().parents[2] / "datasets" / "replay"
"""The demo's replay dataset: data of the repository, never of the producer zip."""


@dataclass
class FakeContext:
    """The LambdaContext attributes the handler and Powertools read."""

    remaining_millis: int = 300_000
    function_name: str = "trendstream-test-producer"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:trendstream-test-producer"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "6f1c2a4e-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/trendstream-test-producer"
    log_stream_name: str = "2026/11/22/[$LATEST]test"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def make_config(**overrides: Any) -> ProducerConfig:
    settings: dict[str, Any] = {"stream_name": STREAM, "table_name": TABLE}
    settings.update(overrides)
    return ProducerConfig(**settings)


def make_writer(**overrides: Any) -> KinesisWriter:
    options: dict[str, Any] = {"sleep": lambda _seconds: None, "deadline": unlimited()}
    options.update(overrides)
    return KinesisWriter(STREAM, service.kinesis_client, **options)


def make_checkpoints(now: float | None = None) -> CheckpointStore:
    if now is None:
        return CheckpointStore(TABLE, service.dynamodb_client)
    return CheckpointStore(TABLE, service.dynamodb_client, now=lambda: now)


def read_stream() -> list[dict[str, Any]]:
    """Every record on every shard: partition key and raw bytes."""
    kinesis = boto3.client("kinesis", region_name=REGION)
    records: list[dict[str, Any]] = []
    shards = kinesis.list_shards(StreamName=STREAM)["Shards"]
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records.extend(
                {"key": record["PartitionKey"], "data": record["Data"]}
                for record in response["Records"]
            )
            if not response["Records"] or response.get("MillisBehindLatest", 0) == 0:
                break
            iterator = response["NextShardIterator"]
    return records


def checkpoint_item(name: str) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    key = {"pk": {"S": f"CHECKPOINT#{name}"}, "sk": {"S": "SINCE_ID"}}
    item: dict[str, Any] = dynamodb.get_item(TableName=TABLE, Key=key).get("Item", {})
    return item


def search_page(
    tweets: list[dict[str, Any]], next_token: str | None = None, users: list[Any] | None = None
) -> dict[str, Any]:
    """A documented GET /2/tweets/search/recent body."""
    if not tweets:
        return {"meta": {"result_count": 0}}
    ids = [int(tweet["id"]) for tweet in tweets]
    meta: dict[str, Any] = {
        "newest_id": str(max(ids)),
        "oldest_id": str(min(ids)),
        "result_count": len(tweets),
    }
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"data": tweets, "meta": meta}
    authors = users if users is not None else [user(tweet["author_id"]) for tweet in tweets]
    body["includes"] = {"users": list({u["id"]: u for u in authors}.values())}
    return body


def tweet(
    tweet_id: int, text: str = "hello #Europe 🇪🇺", author_id: str = "2244994945"
) -> dict[str, Any]:
    return {
        "edit_history_tweet_ids": [str(tweet_id)],
        "id": str(tweet_id),
        "text": text,
        "author_id": author_id,
        "created_at": "2026-11-22T10:59:58.000Z",
        "lang": "en",
        "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 3, "quote_count": 0},
        "entities": {"hashtags": [{"start": 6, "end": 13, "tag": "Europe"}]},
    }


def user(user_id: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": "X Developers",
        "username": f"dev{user_id}",
        "public_metrics": {"followers_count": 10},
        "verified": False,
    }


def decode(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data)
    return document


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event
