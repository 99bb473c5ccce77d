"""Storing one Lambda batch of parsed tweets: sentiment, exactly-once stats, tweet items.

Cost per new tweet (PAY_PER_REQUEST; tweet item ≤ 1 KB, marker and stats items ≪ 1 KB):

- calls: 1/25 ``BatchWriteItem`` + about 1/(100 - m) ``TransactWriteItems`` (a transaction holds
  up to 100 actions: one marker per tweet plus one update per distinct (topic, minute) ``m``),
  i.e. 40 ``BatchWriteItem`` and ~11 transactions per 1,000 tweets of a few busy topics;
- write units: 1 for the tweet item + 2 for the marker Put (transactional writes cost double)
  + 2 per stats update shared by the tweets of its minute: ≈ 3.04 WCU per tweet at 50 tweets per
  topic-minute, 5 when every tweet is alone in its minute. Tweet items over 1 KB cost 1 WCU
  per extra KB.
- a redelivered tweet: its marker's condition fails (the cancelled transaction is retried
  without it) and its tweet item is rewritten unchanged (1 WCU).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from consumer.retry import Backoff
from consumer.stats import CountRequest, StatsCounter
from consumer.writer import TweetWriter
from tweet_record.items import tweet_item, tweet_key
from tweet_record.parse import ParsedTweet
from tweet_record.sentiment import SentimentDocument, SentimentEngine, SentimentUnavailable, score
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
    transactions: int = 0
    batch_write_calls: int = 0


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
            latest[(tweet.topic, tweet.tweet_id)] = tweet  # a later fetch has fresher metrics
        unique = list(latest.values())
        report = StoreReport(duplicates_skipped=len(tweets) - len(unique))
        try:
            labels = score(self._engine, [SentimentDocument(t.text, t.lang) for t in unique])
        except SentimentUnavailable as error:
            report.failures = [error] * len(tweets)
            return report

        client = self._client_factory()
        requests = [
            CountRequest(
                t.topic, t.tweet_id, t.created_at, label, expiry_epoch(t.fetched_at, self._ttl_days)
            )
            for t, label in zip(unique, labels, strict=True)
        ]
        counted = StatsCounter(client, self._table_name, self._backoff).count(requests)
        items = [
            tweet_item(t, request.sentiment, self._ttl_days, request.expires_at)
            for t, request in zip(unique, requests, strict=True)
            if (t.topic, t.tweet_id) not in counted.failed
        ]
        written = TweetWriter(client, self._table_name, self._backoff).write(items)

        failure_by_pair: dict[tuple[str, str], Exception] = dict(counted.failed)
        for tweet in unique:
            write_failure = written.failed.get(tweet_key(tweet))
            if write_failure is not None:
                failure_by_pair[(tweet.topic, tweet.tweet_id)] = write_failure
        report.failures = [failure_by_pair.get((t.topic, t.tweet_id)) for t in tweets]
        report.tweets_written = len(written.written)
        report.duplicates_skipped += len(counted.duplicates)
        report.write_retries = counted.retries + written.retries
        report.transactions = counted.transactions
        report.batch_write_calls = written.calls
        return report
