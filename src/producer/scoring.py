"""Sentiment, scored once per tweet in the producer, carried in the stream record (version 2).

Both readers of the stream (the consumer and the Firehose transformer) used to score every tweet,
so with Amazon Comprehend the stack paid for each tweet twice per topic. ``ScoringWriter`` sits
in front of the Kinesis writer: a tweet seen under several topics in a run is scored once, and
with Comprehend records wait until 25 documents of one language can share a
``BatchDetectSentiment`` call (across topics, so the calls approach one per 25 tweets).

Time bound: a Comprehend call is started only if its worst case fits in what the invocation has
left before its safety margin. When it does not, or the service fails, the waiting records are
put as version 1 records (no label) rather than held back: every reader still accepts and
scores version 1 records, so nothing is lost or delayed, and only that tail is scored twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from function_support.environment import ConfigurationError
from producer.deadline import Deadline
from producer.kinesis_writer import KinesisWriter, OutgoingRecord
from tweet_record import StreamRecord, encode_stream_record, with_sentiment
from tweet_record.sentiment import (
    SentimentDocument,
    SentimentEngine,
    SentimentUnavailableError,
    engine_from_env,
)

if TYPE_CHECKING:
    from producer.kinesis_writer import PutRecordsStats


def engine_from_config(env: Mapping[str, str]) -> SentimentEngine:
    """``SENTIMENT_ENGINE`` (default ``vader``); a typo is the operator's to fix."""
    try:
        return engine_from_env(env)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


@dataclass
class _Waiting:
    document: SentimentDocument
    records: list[tuple[StreamRecord, str]] = field(default_factory=list)


@dataclass
class ScoringFigures:
    scored: int = 0
    reused: int = 0
    """Records whose tweet was already scored in this run (under another topic)."""
    unscored: int = 0
    """Put as version 1: no time left for a call, or the service failed."""
    calls: int = 0


class ScoringWriter:
    """The Kinesis writer's interface, scoring each record's tweet before it is put."""

    def __init__(self, writer: KinesisWriter, engine: SentimentEngine, deadline: Deadline) -> None:
        self._writer = writer
        self._engine = engine
        self._deadline = deadline
        self._labels: dict[str, str] = {}
        self._waiting: dict[str, dict[str, _Waiting]] = defaultdict(dict)
        self._held: Counter[str] = Counter()
        self._unavailable: SentimentUnavailableError | None = None
        self.figures = ScoringFigures()

    @property
    def stats(self) -> PutRecordsStats:
        return self._writer.stats

    @property
    def pending_by_tag(self) -> Counter[str]:
        """Records not yet landed, including those waiting for their label."""
        return self._writer.pending_by_tag + self._held

    def is_delivered(self, tag: str) -> bool:
        return self._held[tag] == 0 and self._writer.is_delivered(tag)

    def add(self, record: OutgoingRecord) -> None:
        """Raw bytes put as they are (the replay dataset's poison records)."""
        self._writer.add(record)

    def add_record(self, record: StreamRecord, tag: str) -> None:
        tweet = record["tweet"]
        tweet_id = str(tweet["id"])
        label = self._labels.get(tweet_id)
        if label is not None:
            self.figures.reused += 1
            self._put(record, tag, label)
            return
        lang = tweet.get("lang")
        document = SentimentDocument(str(tweet["text"]), lang if isinstance(lang, str) else None)
        group = self._engine.group(document)
        if group is None:  # labelled without a call (Comprehend: an unsupported language)
            self._labels[tweet_id] = label = str(self._engine.classify([document])[0])
            self.figures.scored += 1
            self._put(record, tag, label)
            return
        waiting = self._waiting[group]
        waiting.setdefault(tweet_id, _Waiting(document)).records.append((record, tag))
        self._held[tag] += 1
        if len(waiting) >= self._engine.batch_size:
            self._score(group)

    def send_full_batches(self) -> None:
        self._writer.send_full_batches()

    def flush(self) -> None:
        """Score what still waits (partial batches), then put everything."""
        for group in list(self._waiting):
            while self._waiting[group]:
                self._score(group)
        self._writer.flush()

    def _score(self, group: str) -> None:
        waiting = self._waiting[group]
        tweet_ids = list(waiting)[: self._engine.batch_size]
        batch = [waiting.pop(tweet_id) for tweet_id in tweet_ids]
        labels: list[str | None] = [None] * len(batch)
        if self._unavailable is None and self._deadline.allows_wait(self._engine.call_seconds):
            if self._engine.call_seconds:
                self.figures.calls += 1
            try:
                labels = [
                    str(label) for label in self._engine.classify([w.document for w in batch])
                ]
            except SentimentUnavailableError as error:
                self._unavailable = error  # one outage, not one wait per batch
        for tweet_id, entry, label in zip(tweet_ids, batch, labels, strict=True):
            if label is None:
                self.figures.unscored += 1
            else:
                self._labels[tweet_id] = label
                self.figures.scored += 1
            for record, tag in entry.records:
                self._held[tag] -= 1
                self._put(record, tag, label)

    def _put(self, record: StreamRecord, tag: str, label: str | None) -> None:
        scored = record if label is None else with_sentiment(record, label)
        self._writer.add(OutgoingRecord(record["tweet"]["id"], encode_stream_record(scored), tag))

    @property
    def unavailable(self) -> SentimentUnavailableError | None:
        return self._unavailable
