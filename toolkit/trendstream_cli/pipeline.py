"""What the pipeline holds, read back from AWS: the figures `run` shows live and `demo` checks.

Everything here reads the deployed resources through their APIs (stream, table, bucket), so the
figures are what a user would see with the AWS CLI, not what the runtime believes it did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from consumer.quarantine import QUARANTINE_PREFIX as CONSUMER_QUARANTINE
from trendstream_cli.lake_objects import row_count
from tweet_record.items import STATS_SK_PREFIX, topic_of_pk
from tweet_record.lake import ERRORS_PREFIX, TWEETS_PREFIX

CONSUMER_QUARANTINE_PREFIX = f"{CONSUMER_QUARANTINE}/"
"""Where the consumer quarantines records (its own constant), as an S3 listing prefix."""


@dataclass(frozen=True)
class PipelineCounts:
    """One snapshot of every stage's output."""

    stream_records: int
    tweet_items: int
    lake_lines: int
    """Tweets under tweets/: Parquet rows, or JSON lines."""
    lake_objects: int
    error_records: int
    quarantined: int
    topic_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def tweets_counted(self) -> int:
        """Tweets the per-minute stats count: equal to the tweet items once the consumer is done
        (a batch's minutes are updated after its tweet items are written)."""
        return sum(self.topic_counts.values())

    def top_topics(self, limit: int = 5) -> list[tuple[str, int]]:
        return Counter(self.topic_counts).most_common(limit)


class PipelineReader:
    """Counts what each stage of the deployed pipeline holds."""

    def __init__(self, outputs: Mapping[str, Any], endpoint: str | None) -> None:
        session = boto3.session.Session()
        self._kinesis = session.client("kinesis", endpoint_url=endpoint)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self._s3 = session.client("s3", endpoint_url=endpoint)
        self._stream = str(outputs["stream_name"])
        self._table = str(outputs["table_name"])
        self._bucket = str(outputs["lake_bucket"])

    def counts(self) -> PipelineCounts:
        lake_objects = list(self._objects(TWEETS_PREFIX))
        topic_counts: Counter[str] = Counter()
        for item in self._scan(STATS_SK_PREFIX, ["pk", "tweet_count"]):  # partials add up
            topic_counts[topic_of_pk(item["pk"]["S"])] += int(item["tweet_count"]["N"])
        return PipelineCounts(
            stream_records=self.stream_records(),
            tweet_items=sum(1 for _ in self._scan("TWEET#", ["pk"])),
            lake_lines=sum(self._row_count(key) for key in lake_objects),
            lake_objects=len(lake_objects),
            error_records=sum(self._row_count(key) for key in self._objects(ERRORS_PREFIX)),
            quarantined=sum(1 for _ in self._objects(CONSUMER_QUARANTINE_PREFIX)),
            topic_counts=dict(topic_counts),
        )

    def stream_records(self) -> int:
        """Every record the stream holds, read from TRIM_HORIZON on each shard."""
        total = 0
        shards = self._kinesis.list_shards(StreamName=self._stream)["Shards"]
        for shard in shards:
            iterator = self._kinesis.get_shard_iterator(
                StreamName=self._stream,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            while iterator:
                page = self._kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                total += len(page["Records"])
                if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                    break
                iterator = page.get("NextShardIterator")
        return total

    def _scan(self, sort_key_prefix: str, attributes: list[str]) -> Iterator[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(sk, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": sort_key_prefix}},
            ProjectionExpression=", ".join(attributes),
        ):
            yield from page["Items"]

    def _objects(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def _row_count(self, key: str) -> int:
        return row_count(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())
