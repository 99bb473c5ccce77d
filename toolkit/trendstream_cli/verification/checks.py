"""What each stage does to the stack, through the APIs a user has: one call or look each."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trendstream_cli.lake_objects import is_parquet, json_lines, lake_rows
from trendstream_cli.pipeline import CONSUMER_QUARANTINE_PREFIX
from trendstream_cli.verification.batch import Batch
from tweet_record.items import (
    NO_KEY_PARTS,
    STATS_SK_PREFIX,
    TopicKeyParts,
    minute_of_stats_sk,
    topic_pk,
    topic_pks,
)
from tweet_record.lake import TWEETS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_firehose import FirehoseClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client

PUT_ATTEMPTS = 4
DELETE_BATCH = 25
CLOCK_SKEW = dt.timedelta(minutes=2)
"""Objects S3 dates this much before the put still count as new (the local clock may be ahead)."""
LAKE_MARGIN_SECONDS = 60.0
LAKE_BUFFERING_FACTOR = 1.5
"""Buffering hints are hints: Firehose may hold data longer when it sees fit."""
PROCESSOR_INTERVAL_DEFAULT = 60.0
DESTINATION_INTERVAL_DEFAULT = 300.0


class CheckFailedError(Exception):
    """A stage can no longer succeed (or its deadline passed); the message says why."""


@dataclass(frozen=True)
class Observation:
    done: bool
    detail: str
    """What the stage has seen so far (shown while waiting, and as the result when done)."""
    shortfall: str = ""
    """What is still missing: the reason given when the deadline passes."""


def check_table(
    dynamodb: DynamoDBClient,
    table_name: str,
    batch: Batch,
    key_parts: TopicKeyParts = NO_KEY_PARTS,
) -> Observation:
    """Each tweet item exactly once and every minute's partial stats items adding up to exactly
    its tweets, over every key part of each topic.

    A count above the expected one can never come down again: it fails at once.
    """
    expected_minutes = batch.expected_minutes()
    wanted_ids = {tweet.tweet_id for tweet in batch.tweets}
    seen: Counter[str] = Counter()
    minutes: Counter[tuple[str, str]] = Counter()
    for topic in batch.topics:
        for item in _topic_items(dynamodb, table_name, topic, key_parts):
            sort_key = item["sk"]["S"]
            if sort_key.startswith("TWEET#"):
                tweet_id = item.get("tweet_id", {}).get("S", "")
                if tweet_id not in wanted_ids:
                    raise CheckFailedError(f"unexpected tweet {tweet_id!r} under topic {topic!r}")
                seen[tweet_id] += 1
            elif sort_key.startswith(STATS_SK_PREFIX):
                minute = (topic_pk(topic), f"{STATS_SK_PREFIX}{minute_of_stats_sk(sort_key)}")
                minutes[minute] += int(item.get("tweet_count", {}).get("N", 0))
    for key, count in sorted(minutes.items()):
        wanted = expected_minutes.get(key, 0)
        if count > wanted and wanted == 0:
            raise CheckFailedError(
                f"{key[0]} {key[1]} counts {count} tweets, but no synthetic tweet was created "
                "in that minute (stats must follow created_at)"
            )
        if count > wanted:
            raise CheckFailedError(
                f"{key[0]} {key[1]} counts {count} tweets, only {wanted} were put "
                "(a duplicate or redelivery was counted twice)"
            )
    missing = len(wanted_ids - set(seen))
    short = [key for key, wanted in expected_minutes.items() if minutes.get(key, 0) < wanted]
    total = len(wanted_ids)
    detail = (
        f"{total - missing} of {total} tweets, "
        f"{len(expected_minutes) - len(short)} of {len(expected_minutes)} minute stats exact"
    )
    if missing:
        shortfall = f"{missing} of {total} tweets missing"
    elif short:
        pk, sk = short[0]
        shortfall = (
            f"{len(short)} of {len(expected_minutes)} minute stats short "
            f"({pk} {sk}: {minutes.get((pk, sk), 0)} of {expected_minutes[(pk, sk)]})"
        )
    else:
        shortfall = ""
    return Observation(not missing and not short, detail, shortfall)


def _topic_items(
    dynamodb: DynamoDBClient, table_name: str, topic: str, key_parts: TopicKeyParts
) -> Iterable[dict[str, Any]]:
    """Every item of a topic (every key part), read consistently: what the consumer wrote just
    before counts."""
    paginator = dynamodb.get_paginator("query")
    for pk in topic_pks(topic, key_parts):
        for page in paginator.paginate(
            TableName=table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        ):
            yield from page.get("Items", [])


def hour_prefixes(root: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """`<root>year=…/month=…/day=…/hour=…/` of every UTC hour from `start` to `end`."""
    hour = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour <= end:
        prefixes.append(f"{root}year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/")
        hour += dt.timedelta(hours=1)
    return prefixes


class _NewObjects:
    """Objects under hourly partitions written since the put, each read once.

    An object's partition is the arrival hour of its oldest record, which may precede the put
    by as long as the object was buffered: `lookback` widens the hours listed accordingly.
    """

    def __init__(
        self,
        s3: S3Client,
        bucket: str,
        root: str,
        since: dt.datetime,
        lookback: dt.timedelta = dt.timedelta(0),
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._root = root
        self._since = since - CLOCK_SKEW
        self._first_hour = self._since - lookback
        self._read: set[str] = set()

    @property
    def read_count(self) -> int:
        return len(self._read)

    def fresh(self, now: dt.datetime) -> Iterable[tuple[str, bytes]]:
        """(key, body) of each new object not read before; gzip bodies come back decompressed."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for prefix in hour_prefixes(self._root, self._first_hour, now):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    key = entry["Key"]
                    if key in self._read or entry["LastModified"] < self._since:
                        continue
                    body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
                    self._read.add(key)
                    yield key, json_lines(body)


class QuarantineCheck:
    """The poison record, under quarantine/consumer/ with its raw bytes, shard and sequence."""

    def __init__(
        self, s3: S3Client, bucket: str, batch: Batch, poison: SyntheticPut, since: dt.datetime
    ) -> None:
        self._objects = _NewObjects(s3, bucket, CONSUMER_QUARANTINE_PREFIX, since)
        self._bucket = bucket
        self._batch = batch
        self._poison = poison
        self._found: str | None = None

    def __call__(self, now: dt.datetime) -> Observation:
        if self._found is None:
            for key, body in self._objects.fresh(now):
                try:
                    document = json.loads(body)
                except ValueError:
                    continue
                if not isinstance(document, dict) or not self._is_poison(document):
                    continue
                try:
                    raw = base64.b64decode(str(document.get("data_base64", "")), validate=True)
                except ValueError:
                    raw = b""
                if raw != self._batch.poison:
                    raise CheckFailedError(
                        f"s3://{self._bucket}/{key} holds other bytes than were put"
                    )
                self._found = f"s3://{self._bucket}/{key} ({document.get('reason', 'no reason')})"
                break
        if self._found is not None:
            return Observation(True, f"quarantined as {self._found}")
        read = self._objects.read_count
        return Observation(
            False,
            f"not yet quarantined ({read} new quarantine objects read)",
            f"the poison record is not under {CONSUMER_QUARANTINE_PREFIX} "
            f"({read} new objects read)",
        )

    def _is_poison(self, document: Mapping[str, Any]) -> bool:
        return (
            document.get("sequence_number") == self._poison.sequence_number
            and document.get("shard_id") in (self._poison.shard_id, None)
        ) or document.get("partition_key") == self._batch.poison_key


class LakeCheck:
    """A row under tweets/ (Parquet, or a JSON line) for every synthetic tweet, under its topic."""

    def __init__(
        self,
        s3: S3Client,
        bucket: str,
        batch: Batch,
        since: dt.datetime,
        buffered: dt.timedelta = dt.timedelta(0),
    ) -> None:
        self._objects = _NewObjects(s3, bucket, TWEETS_PREFIX, since, buffered)
        self._topics = {tweet.tweet_id: tweet.topic for tweet in batch.tweets}
        self._lines: Counter[str] = Counter()
        self._keys: set[str] = set()

    def __call__(self, now: dt.datetime) -> Observation:
        for key, body in self._objects.fresh(now):
            for tweet_id, topic in _lake_identities(body):
                if tweet_id not in self._topics:
                    continue
                if topic != self._topics[tweet_id]:
                    raise CheckFailedError(
                        f"tweet {tweet_id} is in the lake under topic {topic!r}, "
                        f"not {self._topics[tweet_id]!r}"
                    )
                self._lines[tweet_id] += 1
                self._keys.add(key)
        total = len(self._topics)
        found = len(self._lines)
        detail = (
            f"{found} of {total} tweets in {len(self._keys)} object(s), "
            f"{sum(self._lines.values())} rows"
        )
        shortfall = (
            f"{total - found} of {total} tweets have no row under {TWEETS_PREFIX} "
            f"({self._objects.read_count} new objects read; does the transformer drop them? "
            "see ALLOWED_LANGUAGES)"
        )
        return Observation(found == total, detail, shortfall)


def _lake_identities(body: bytes) -> list[tuple[str, str]]:
    """(tweet_id, topic) of each row of a lake object (Parquet, or JSON lines)."""
    if is_parquet(body):
        return [
            (str(row.get("tweet_id", "")), str(row.get("topic", ""))) for row in lake_rows(body)
        ]
    return [_lake_line_identity(line) for line in body.splitlines()]


def _lake_line_identity(line: bytes) -> tuple[str, str]:
    try:
        row = json.loads(line)
    except ValueError:
        return "", ""
    if not isinstance(row, dict):
        return "", ""
    return str(row.get("tweet_id", "")), str(row.get("topic", ""))


@dataclass(frozen=True)
class SyntheticPut:
    """Where one of verify's synthetic records landed on the stream."""

    partition_key: str
    shard_id: str
    sequence_number: str


def put_batch(
    kinesis: KinesisClient,
    stream_name: str,
    batch: Batch,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SyntheticPut]:
    """PutRecords, retrying the entries Kinesis refused (throttling) a few times."""
    entries = batch.entries()
    results: list[SyntheticPut | None] = [None] * len(entries)
    pending = list(range(len(entries)))
    refused: list[str] = []
    for attempt in range(PUT_ATTEMPTS):
        if attempt:
            sleep(0.2 * 2**attempt)
        response = kinesis.put_records(
            StreamName=stream_name,
            Records=[{"Data": entries[i][0], "PartitionKey": entries[i][1]} for i in pending],
        )
        retry: list[int] = []
        refused = []
        for index, outcome in zip(pending, response["Records"], strict=True):
            if "ErrorCode" in outcome:
                retry.append(index)
                refused.append(f"{outcome['ErrorCode']}: {outcome.get('ErrorMessage', '')}")
            else:
                results[index] = SyntheticPut(
                    entries[index][1], outcome["ShardId"], outcome["SequenceNumber"]
                )
        pending = retry
        if not pending:
            break
    if pending:
        raise CheckFailedError(
            f"{len(pending)} of {len(entries)} records refused by PutRecords after "
            f"{PUT_ATTEMPTS} attempts ({refused[0]})"
        )
    return [result for result in results if result is not None]


def delete_topics(
    dynamodb: DynamoDBClient,
    table_name: str,
    topics: Iterable[str],
    sleep: Callable[[float], None] = time.sleep,
    key_parts: TopicKeyParts = NO_KEY_PARTS,
) -> Counter[str]:
    """Delete every item under the given topics (every key part); the count deleted per sort-key
    kind."""
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for topic in topics
        for item in _topic_items(dynamodb, table_name, topic, key_parts)
    ]
    for start in range(0, len(keys), DELETE_BATCH):
        requests: list[Any] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + DELETE_BATCH]
        ]
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                sleep(0.2 * 2**attempt)
            response = dynamodb.batch_write_item(RequestItems={table_name: requests})
            requests = list(response.get("UnprocessedItems", {}).get(table_name, []))
            if not requests:
                break
        if requests:
            raise CheckFailedError(
                f"{len(requests)} items left undeleted after {PUT_ATTEMPTS} tries"
            )
    return Counter(key["sk"]["S"].split("#", 1)[0] for key in keys)


@dataclass(frozen=True)
class FirehoseBuffering:
    processor_seconds: float
    destination_seconds: float

    @property
    def longest(self) -> dt.timedelta:
        """How long a record may wait in Firehose's buffers, hints stretched."""
        seconds = LAKE_BUFFERING_FACTOR * (self.processor_seconds + self.destination_seconds)
        return dt.timedelta(seconds=seconds)

    def lake_deadline(self) -> float:
        """Both buffers, with room for Firehose to stretch its hints, plus a margin."""
        buffered = self.processor_seconds + self.destination_seconds
        return LAKE_BUFFERING_FACTOR * buffered + LAKE_MARGIN_SECONDS


def firehose_buffering(firehose: FirehoseClient, name: str) -> FirehoseBuffering:
    """The delivery stream's processor and destination buffering intervals (AWS defaults when
    unset: 60 s for a Lambda processor, 300 s for S3)."""
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    destinations = description.get("Destinations", [])
    s3 = destinations[0].get("ExtendedS3DestinationDescription", {}) if destinations else {}
    destination = float(
        s3.get("BufferingHints", {}).get("IntervalInSeconds", DESTINATION_INTERVAL_DEFAULT)
    )
    processor = 0.0
    processing = s3.get("ProcessingConfiguration", {})
    if processing.get("Enabled"):
        for processor_config in processing.get("Processors", []):
            parameters = {
                parameter["ParameterName"]: parameter["ParameterValue"]
                for parameter in processor_config.get("Parameters", [])
            }
            interval = parameters.get("BufferIntervalInSeconds", PROCESSOR_INTERVAL_DEFAULT)
            processor = max(processor, float(interval))
    return FirehoseBuffering(processor, destination)
