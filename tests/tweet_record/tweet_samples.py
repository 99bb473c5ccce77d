"""Realistic X API v2 objects, stream records and AWS-shaped events shared by the record tests."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tweet_record import build_stream_record, encode_stream_record, make_topic, with_sentiment
from tweet_record.schema import LakeRow

LAKE_COLUMNS: tuple[str, ...] = tuple(LakeRow.__annotations__)
"""Column order of the lake rows, as the Glue table declares it."""

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/trendstream-local-tweets"
FETCHED_AT = datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)


def x_tweet(
    *,
    tweet_id: str = "1578516068309794817",
    text: str = "What a wonderful day for #Europe with @someone https://t.co/x",
    created_at: str = "2026-11-22T10:59:58.000Z",
    lang: str | None = "en",
    author_id: str = "2244994945",
) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet_id],
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": created_at,
        "public_metrics": {
            "retweet_count": 3,
            "reply_count": 1,
            "like_count": 12,
            "quote_count": 0,
        },
        "entities": {
            "hashtags": [{"start": 24, "end": 31, "tag": "Europe"}],
            "mentions": [{"start": 37, "end": 45, "username": "someone", "id": "123"}],
            "urls": [
                {
                    "start": 46,
                    "end": 69,
                    "url": "https://t.co/x",
                    "expanded_url": "https://example.com/article",
                }
            ],
        },
    }
    if lang is not None:
        tweet["lang"] = lang
    return tweet


def x_author(author_id: str = "2244994945") -> dict[str, Any]:
    return {
        "id": author_id,
        "name": "X Developers",
        "username": "xdevelopers",
        "public_metrics": {"followers_count": 570_000, "following_count": 2000},
    }


def record_bytes(
    *,
    tweet_id: str = "1578516068309794817",
    topic: str = "#Europe",
    kind: str = "trend",
    text: str = "What a wonderful day for #Europe with @someone https://t.co/x",
    created_at: str = "2026-11-22T10:59:58.000Z",
    lang: str | None = "en",
    sentiment: str | None = None,
) -> bytes:
    """A version 1 record, or version 2 when ``sentiment`` is given (the producer's label)."""
    record = build_stream_record(
        make_topic(topic, kind, woeid=1 if kind == "trend" else None),
        x_tweet(tweet_id=tweet_id, text=text, created_at=created_at, lang=lang),
        x_author(),
        FETCHED_AT,
    )
    if sentiment is not None:
        record = with_sentiment(record, sentiment)
    return encode_stream_record(record)


def record_dict(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(record_bytes(**overrides))
    return document


def kinesis_sequence(position: int) -> str:
    """The sequence number of the record at ``position`` of the sample shard (ascending)."""
    return f"4959033965810396212787{position:034d}"


def kinesis_event(
    payloads: Iterable[bytes], shard: str = "shardId-000000000000", first: int = 0
) -> dict[str, Any]:
    """A Kinesis event-source-mapping event as Lambda delivers it; its records sit at positions
    ``first``, ``first + 1``, … of the shard (a redelivery repeats their sequence numbers)."""
    records = []
    for index, payload in enumerate(payloads, start=first):
        sequence = kinesis_sequence(index)
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(index),
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(payload).decode("ascii"),
                    "approximateArrivalTimestamp": round(1795345203.123 + index / 1000, 3),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/trendstream-local-consumer",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}


def firehose_event(payloads: Iterable[bytes]) -> dict[str, Any]:
    """A Firehose data-transformation event with a Kinesis stream as source."""
    records = []
    for index, payload in enumerate(payloads):
        records.append(
            {
                "recordId": f"49590339658103962127879537581111112222333344445555{index:06d}000000",
                "approximateArrivalTimestamp": 1795345203123 + index,
                "data": base64.b64encode(payload).decode("ascii"),
                "kinesisRecordMetadata": {
                    "sequenceNumber": f"4959033965810396212787{index:034d}",
                    "subsequenceNumber": 0,
                    "partitionKey": str(index),
                    "shardId": "shardId-000000000000",
                    "approximateArrivalTimestamp": 1795345203123 + index,
                },
            }
        )
    return {
        "invocationId": "7d4e6c1a-3d5f-4a8e-9a3b-2f1e0c9d8b7a",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/"
        "trendstream-local-lake",
        "sourceKinesisStreamArn": STREAM_ARN,
        "region": "us-east-1",
        "records": records,
    }


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return copy.deepcopy(event)
