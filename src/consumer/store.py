"""Storing one Lambda batch of parsed tweets: labels, then tweet items, then minute stats.

Version 2 records carry the producer's sentiment label; only version 1 records are scored here.
``consumer.writes`` has the write design and why it counts each tweet exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from consumer.processor import StagedRecord
from consumer.writes import TweetWrite, TweetWriter
from tweet_record.items import NO_KEY_PARTS, TopicKeyParts, record_origin, stats_key, tweet_item
from tweet_record.parse import ParsedTweet
from tweet_record.sentiment import SentimentEngine, SentimentUnavailableError, sentiment_labels
from tweet_record.timestamps import expiry_epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

StagedTweet = StagedRecord[ParsedTweet]


@dataclass
class StoreReport:
    """Index-aligned failures (``None`` = stored) plus the figures the metrics need."""

    failures: list[Exception | None] = field(default_factory=list)
    tweets_written: int = 0
    duplicates_skipped: int = 0
    stats_updates: int = 0
    write_retries: int = 0
    write_units: float = 0.0


def first_of_each_tweet(records: Sequence[StagedTweet]) -> list[int]:
    """Indexes of the first record (lowest position) of each (shard, topic, tweet).

    A redelivery that holds a later record of the tweet holds the first one too, or the first
    one's put landed before it: either way the choice is the same on every delivery.
    """
    order = sorted(
        range(len(records)),
        key=lambda i: (records[i].shard_id, records[i].position),
    )
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for index in order:
        record = records[index]
        identity = (record.shard_id, record.result.topic, record.result.tweet_id)
        if identity not in seen:
            seen.add(identity)
            kept.append(index)
    return sorted(kept)


class TweetStore:
    def __init__(
        self,
        client_factory: Callable[[], DynamoDBClient],
        table_name: str,
        ttl_days: int,
        engine: SentimentEngine,
        key_parts: TopicKeyParts = NO_KEY_PARTS,
    ) -> None:
        self._client_factory = client_factory
        self._table_name = table_name
        self._ttl_days = ttl_days
        self._engine = engine
        self._key_parts = key_parts

    def store(
        self, records: Sequence[StagedTweet], first_failures: Mapping[str, int] | None = None
    ) -> StoreReport:
        """Write and count ``records``; never raises for a per-record failure, reports it.

        ``first_failures``: per shard, the lowest position (``consumer.processor``) of the batch
        that already failed before this call (stats are only counted below it).
        """
        kept = first_of_each_tweet(records)
        unique = [records[i].result for i in kept]
        report = StoreReport(duplicates_skipped=len(records) - len(kept))
        try:
            labels = sentiment_labels(self._engine, unique)
        except SentimentUnavailableError as error:
            report.failures = [error] * len(records)
            return report

        writes = []
        for index, tweet, label in zip(kept, unique, labels, strict=True):
            record = records[index]
            origin = record_origin(record.shard_id, record.sequence_number, record.subsequence)
            expires_at = expiry_epoch(tweet.fetched_at, self._ttl_days)
            writes.append(
                TweetWrite(
                    topic=tweet.topic,
                    tweet_id=tweet.tweet_id,
                    sentiment=label,
                    expires_at=expires_at,
                    item=tweet_item(
                        tweet, label, self._ttl_days, expires_at, origin, key_parts=self._key_parts
                    ),
                    stats_key=stats_key(
                        tweet.topic, tweet.created_at, record.shard_id, self._key_parts
                    ),
                    shard_id=record.shard_id,
                    sequence=record.position,
                    origin=origin,
                )
            )
        writer = TweetWriter(self._client_factory(), self._table_name)
        outcome = writer.write(writes, first_failures or {})
        report.failures = [None] * len(records)
        for position, failure in outcome.failed.items():
            report.failures[kept[position]] = failure
        report.tweets_written = outcome.created
        report.duplicates_skipped += outcome.duplicates
        report.stats_updates = outcome.stats_updates
        report.write_retries = outcome.retries
        report.write_units = outcome.write_units
        return report
