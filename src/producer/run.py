"""One producer run: topics -> pages -> stream records -> Kinesis -> checkpoints.

A topic's since_id moves forward only when its fetch ended normally (no more pages, or the page
cap) and every one of its records landed in Kinesis. A topic interrupted by a 429, a server error
or the time budget keeps its old since_id: its tweets are fetched again next run (at-least-once;
the consumer is idempotent) instead of being skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from producer.checkpoints import CheckpointStore
from producer.config import ProducerConfig
from producer.deadline import Deadline
from producer.kinesis_writer import KinesisWriter
from producer.pages import (
    MalformedPageError,
    merge_topics,
    newest_id,
    parse_search_page,
    parse_trends,
    search_query,
)
from producer.scoring import ScoringWriter
from producer.sources import RateLimitedError, SourceUnavailableError, TweetSource
from tweet_record import Topic, utc_now
from tweet_record.sentiment import SentimentEngine, engine_from_env

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT_PAUSE_SECONDS = 15 * 60
"""X rate-limit windows are 15 minutes: the pause when a 429 carries no x-rate-limit-reset."""


@dataclass
class RunSummary:
    topics: int = 0
    topics_completed: int = 0
    topics_skipped_rate_limited: int = 0
    topics_failed: int = 0
    pages_fetched: int = 0
    tweets_fetched: int = 0
    tweets_skipped: int = 0
    records_put: int = 0
    records_retried: int = 0
    records_failed: int = 0
    rate_limited: int = 0
    fetches: int = 0
    """Trend lookups and topic searches started (pages of one topic count once)."""
    fetches_failed: int = 0
    put_records_calls: int = 0
    tweets_scored: int = 0
    sentiment_calls: int = 0
    records_unscored: int = 0
    checkpoints_advanced: int = 0
    stopped_for_time: bool = False
    credentials_not_set: bool = False
    """The run found no usable X API credentials and fetched nothing (a fresh stack)."""
    errors: list[str] = field(default_factory=list)

    @property
    def all_fetches_failed(self) -> bool:
        """Something was fetched for and nothing came back: an outage or a broken setting."""
        return self.fetches > 0 and self.fetches_failed == self.fetches

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "all_fetches_failed": self.all_fetches_failed}


@dataclass
class _TopicOutcome:
    topic: Topic
    newest: str | None
    finished: bool


class ProducerRun:
    def __init__(
        self,
        config: ProducerConfig,
        *,
        source: TweetSource,
        writer: KinesisWriter,
        checkpoints: CheckpointStore,
        deadline: Deadline,
        now: Callable[[], float] = time.time,
        engine: SentimentEngine | None = None,
    ) -> None:
        self._config = config
        self._source = source
        self._writer = ScoringWriter(writer, engine or engine_from_env(), deadline)
        self._checkpoints = checkpoints
        self._deadline = deadline
        self._now = now
        self._summary = RunSummary()
        self._awaiting_delivery: list[_TopicOutcome] = []

    def execute(self) -> RunSummary:
        try:
            trends = self._fetch_trends()
            queries = self._config.search_queries
            if queries is None:
                queries = self._source.default_queries()
            topics = merge_topics(trends, queries)
            self._summary.topics = len(topics)
            for topic in topics:
                if self._deadline.expired():
                    self._stop_for_time()
                    break
                self._produce_topic(topic)
                self._writer.send_full_batches()
                self._commit_delivered()
        finally:
            # Even when the run stops on an error (401, AWS failure), what was fetched is written.
            self._writer.flush()
            self._commit_delivered()
        stats = self._writer.stats
        self._summary.records_put = stats.put
        self._summary.records_retried = stats.retried
        self._summary.records_failed = stats.failed
        self._summary.put_records_calls = stats.calls
        scoring = self._writer.figures
        self._summary.tweets_scored = scoring.scored
        self._summary.sentiment_calls = scoring.calls
        self._summary.records_unscored = scoring.unscored
        if self._writer.unavailable is not None:
            self._summary.errors.append(f"sentiment not scored: {self._writer.unavailable}")
        if stats.failed:
            self._summary.errors.append(
                f"{stats.failed} record(s) not delivered to Kinesis: {dict(stats.failures_by_code)}"
            )
        return self._summary

    def _fetch_trends(self) -> list[Topic]:
        topics: list[Topic] = []
        if self._config.max_trends == 0:
            return topics
        for woeid in self._config.trend_woeids:
            name = f"TRENDS#{woeid}"
            if self._deadline.expired():
                self._stop_for_time()
                break
            if self._rate_limited(name, self._checkpoints.load(name).rate_limited_until):
                continue
            self._summary.fetches += 1
            try:
                page = self._source.trends(woeid, self._config.max_trends)
                topics.extend(parse_trends(page, woeid, self._config.max_trends))
            except RateLimitedError as limited:
                self._record_rate_limit(name, limited)
            except (SourceUnavailableError, MalformedPageError) as error:
                self._fail(f"trends for WOEID {woeid}: {error}")
        return topics

    def _produce_topic(self, topic: Topic) -> None:
        name = topic["name"]
        checkpoint = self._checkpoints.load(name)
        if self._rate_limited(name, checkpoint.rate_limited_until):
            return
        query = search_query(topic)
        token: str | None = None
        ids: list[str] = []
        finished = False
        pages = 0
        self._summary.fetches += 1
        try:
            while True:
                if self._deadline.expired():
                    self._stop_for_time()
                    break
                page = self._source.search(
                    query,
                    since_id=checkpoint.since_id,
                    next_token=token,
                    max_results=self._config.max_results_per_page,
                )
                parsed = parse_search_page(page, topic, utc_now())
                pages += 1
                self._summary.pages_fetched += 1
                self._summary.tweets_fetched += len(parsed.records)
                self._summary.tweets_skipped += parsed.skipped
                for record in parsed.records:
                    self._writer.add_record(record, name)
                ids.extend(parsed.tweet_ids)
                token = parsed.next_token
                if token is None or pages >= self._config.max_pages_per_topic:
                    finished = True
                    break
        except RateLimitedError as limited:
            self._record_rate_limit(name, limited)
        except (SourceUnavailableError, MalformedPageError) as error:
            self._fail(f"topic {name!r}: {error}")
        if finished:
            self._summary.topics_completed += 1
        self._awaiting_delivery.append(_TopicOutcome(topic, newest_id(ids), finished))

    def _commit_delivered(self) -> None:
        """Advance the checkpoints of finished topics whose records all landed."""
        still_waiting: list[_TopicOutcome] = []
        for outcome in self._awaiting_delivery:
            name = outcome.topic["name"]
            if self._writer.pending_by_tag[name]:
                still_waiting.append(outcome)
                continue
            if outcome.finished and outcome.newest and self._writer.is_delivered(name):
                self._checkpoints.save_since_id(name, outcome.newest)
                self._summary.checkpoints_advanced += 1
        self._awaiting_delivery = still_waiting

    def _rate_limited(self, name: str, until: int | None) -> bool:
        if until is not None and until > self._now():
            self._summary.topics_skipped_rate_limited += 1
            logger.info(
                "Skipping until the rate limit resets", extra={"topic": name, "until": until}
            )
            return True
        return False

    def _record_rate_limit(self, name: str, limited: RateLimitedError) -> None:
        self._summary.rate_limited += 1
        logger.warning(
            "X API rate limit hit; topic paused until reset",
            extra={"topic": name, "endpoint": limited.endpoint, "reset_at": limited.reset_at},
        )
        reset_at = limited.reset_at or int(self._now()) + DEFAULT_RATE_LIMIT_PAUSE_SECONDS
        self._checkpoints.save_rate_limit(name, reset_at)

    def _stop_for_time(self) -> None:
        if not self._summary.stopped_for_time:
            logger.warning("Stopping fetches: invocation time budget nearly spent")
        self._summary.stopped_for_time = True

    def _fail(self, message: str) -> None:
        self._summary.topics_failed += 1
        self._summary.fetches_failed += 1
        self._summary.errors.append(message)
        logger.error("Fetch failed; continuing with the other topics", extra={"error": message})
