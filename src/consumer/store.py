"""Storing one Lambda batch of parsed tweets: labels, then tweet items and stats in transactions.

Version 2 records carry the producer's sentiment label; only version 1 records are scored here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from consumer.stats import TweetTransactions, TweetWrite
from tweet_record.backoff import Backoff
from tweet_record.items import tweet_item, tweet_item_bytes_bound
from tweet_record.parse import ParsedTweet
from tweet_record.sentiment import SentimentEngine, SentimentUnavailable, sentiment_labels
from tweet_record.timestamps import expiry_epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class StoreReport:
    """Index-aligned failures (``None`` = stored) plus the figures the metrics need."""

    failures: list[Exception | None] = field(default_factory=list)
    tweets_written: int = 0
    duplicates_skipped: int = 0
    write_retries: int = 0
    write_units: float = 0.0


class TweetStore:
    def __init__(
        self,
        client_factory: Callable[[], DynamoDBClient],
        table_name: str,
        ttl_days: int,
        engine: SentimentEngine,
        backoff: Backoff | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._table_name = table_name
        self._ttl_days = ttl_days
        self._engine = engine
        self._backoff = backoff or Backoff()

    def store(self, tweets: Sequence[ParsedTweet]) -> StoreReport:
        """Count and write ``tweets``; never raises for a per-tweet failure, reports it."""
        latest: dict[tuple[str, str], ParsedTweet] = {}
        for tweet in tweets:
            latest[(tweet.topic, tweet.tweet_id)] = tweet
        unique = list(latest.values())
        report = StoreReport(duplicates_skipped=len(tweets) - len(unique))
        try:
            labels = sentiment_labels(self._engine, unique)
        except SentimentUnavailable as error:
            report.failures = [error] * len(tweets)
            return report

        writes = []
        for tweet, label in zip(unique, labels, strict=True):
            expires_at = expiry_epoch(tweet.fetched_at, self._ttl_days)
            item = tweet_item(tweet, label, self._ttl_days, expires_at)
            writes.append(
                TweetWrite(
                    tweet.topic,
                    tweet.tweet_id,
                    tweet.created_at,
                    label,
                    expires_at,
                    item,
                    tweet_item_bytes_bound(tweet),
                )
            )
        client = self._client_factory()
        outcome = TweetTransactions(client, self._table_name, self._backoff).write(writes)
        report.failures = [outcome.failed.get((t.topic, t.tweet_id)) for t in tweets]
        report.tweets_written = len(outcome.written)
        report.duplicates_skipped += len(outcome.duplicates)
        report.write_retries = outcome.retries
        report.write_units = outcome.write_units
        return report
