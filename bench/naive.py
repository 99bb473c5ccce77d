"""The naive baselines the figures are compared with: one AWS call per tweet.

This is what the tweet-streaming reference architectures this project is measured against do
(a Kinesis-triggered Lambda calling ``table.put_item`` in a loop, a producer calling
``put_record`` per tweet). They are kept deliberately plain; they only exist to be counted
beside the real code on the same input.
"""

from __future__ import annotations

import json
from base64 import b64decode
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from boto3.dynamodb.types import TypeSerializer

from bench.dataset import StreamRecordBytes


class PutItemClient(Protocol):
    def put_item(self, *, TableName: str, Item: dict[str, Any]) -> dict[str, Any]: ...


class PutRecordClient(Protocol):
    def put_record(self, StreamName: str, Data: bytes, PartitionKey: str) -> dict[str, Any]: ...


def naive_consumer(event: Mapping[str, Any], client: PutItemClient, table_name: str) -> int:
    """One ``PutItem`` per Kinesis record, item serialised with boto3's ``TypeSerializer``."""
    serializer = TypeSerializer()
    written = 0
    for record in event["Records"]:
        payload = json.loads(b64decode(record["kinesis"]["data"]))
        tweet = payload["tweet"]
        topic = payload["topic"]["name"]
        item = {
            "pk": f"TOPIC#{topic}",
            "sk": f"TWEET#{tweet['created_at']}#{tweet['id']}",
            "tweet_id": tweet["id"],
            "topic": topic,
            "text": tweet["text"],
            "created_at": tweet["created_at"],
            "author_username": payload.get("author", {}).get("username", ""),
        }
        client.put_item(
            TableName=table_name, Item={k: serializer.serialize(v) for k, v in item.items()}
        )
        written += 1
    return written


def naive_producer(
    records: Iterable[StreamRecordBytes], client: PutRecordClient, stream_name: str
) -> int:
    """One ``PutRecord`` per tweet."""
    sent = 0
    for record in records:
        client.put_record(
            StreamName=stream_name, Data=record.data, PartitionKey=record.partition_key
        )
        sent += 1
    return sent
