"""Quarantine: records the consumer can never process, kept in the lake instead of retried.

A poison record retried forever would block its shard (Kinesis delivers a shard in order), so
it is written to ``quarantine/consumer/year=…/month=…/day=…/hour=…/<stream>/<shard>-<seq>.json``
and reported as processed. A poison user record of a KPL aggregate is quarantined alone, as
``<shard>-<seq>-<subsequence>.json`` with its own bytes and partition key; a corrupt aggregate
is quarantined whole under the Kinesis record's name. The key is a function of the record alone,
so a redelivered poison record overwrites its own object instead of duplicating it; it names the
stream because shard ids and sequence numbers are only unique within one stream. If the write
fails, the caller reports the record as failed: a record is never dropped without a trace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tweet_record.lake import QUARANTINE_PREFIX as LAKE_QUARANTINE_PREFIX
from tweet_record.parse import RecordRejectedError
from tweet_record.timestamps import format_utc

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

QUARANTINE_PREFIX = f"{LAKE_QUARANTINE_PREFIX}consumer"


@dataclass(frozen=True)
class KinesisRecordMeta:
    """What the event says about a Kinesis record, independent of its content."""

    data_base64: str
    shard_id: str
    sequence_number: str
    partition_key: str
    arrival_epoch: float
    event_source_arn: str
    subsequence: int | None = None
    """The user record's index in its KPL aggregate; None for a whole Kinesis record."""


def shard_of(event_id: str) -> str:
    """``shardId-000000000000`` from an eventID ``shardId-000000000000:4959…``."""
    return event_id.split(":", 1)[0] or "unknown-shard"


def stream_of(event_source_arn: str) -> str:
    """``trendstream-dev-tweets`` from ``arn:aws:kinesis:<region>:<account>:stream/<name>``."""
    _, _, name = event_source_arn.partition(":stream/")
    name = name.split("/", 1)[0]
    return name or "unknown-stream"


def quarantine_key(record: KinesisRecordMeta) -> str:
    arrived = datetime.fromtimestamp(record.arrival_epoch, tz=UTC)
    return (
        f"{QUARANTINE_PREFIX}/year={arrived:%Y}/month={arrived:%m}/day={arrived:%d}"
        f"/hour={arrived:%H}/{stream_of(record.event_source_arn)}"
        f"/{record.shard_id}-{record.sequence_number}{_subsequence_suffix(record)}.json"
    )


def _subsequence_suffix(record: KinesisRecordMeta) -> str:
    return "" if record.subsequence is None else f"-{record.subsequence}"


def quarantine_document(record: KinesisRecordMeta, rejection: RecordRejectedError) -> bytes:
    arrived = datetime.fromtimestamp(record.arrival_epoch, tz=UTC)
    document = {
        "reason": str(rejection.reason),
        "detail": rejection.detail,
        "shard_id": record.shard_id,
        "sequence_number": record.sequence_number,
        **({} if record.subsequence is None else {"sub_sequence_number": record.subsequence}),
        "partition_key": record.partition_key,
        "approximate_arrival_timestamp": format_utc(arrived),
        "event_source_arn": record.event_source_arn,
        "data_base64": record.data_base64,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Quarantine:
    def __init__(self, client_factory: Callable[[], S3Client], bucket: str) -> None:
        self._client_factory = client_factory
        self._bucket = bucket

    def put(self, record: KinesisRecordMeta, rejection: RecordRejectedError) -> str:
        """Store the record with its rejection; raises when S3 did not take it."""
        key = quarantine_key(record)
        self._client_factory().put_object(
            Bucket=self._bucket,
            Key=key,
            Body=quarantine_document(record, rejection),
            ContentType="application/json",
        )
        return key
