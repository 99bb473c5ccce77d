"""Figure 2: the producer's PutRecords calls, its CPU per tweet and its sentiment calls.

The producer's own ``ScoringWriter`` in front of its ``KinesisWriter`` runs on realistic
records (tagged by topic, as the run loop adds them) against a counting client that accepts
every record; the naive baseline sends the same records one ``PutRecord`` at a time to another
counting client in the same run. CPU per tweet covers labelling (VADER, as deployed by default),
encoding and batching, with the lexicon loaded beforehand as in a warm Lambda. Sentiment calls
are counted with Comprehend's engine against an in-memory ``BatchDetectSentiment``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bench.dataset import StreamRecordBytes
from bench.fakes import CountingKinesis, FakeComprehend
from bench.figures import Figure, Goal, Spread, number, unavailable
from bench.naive import naive_producer
from capacity_plan.measured import PRODUCER_CPU_PER_TWEET
from producer.deadline import unlimited
from producer.kinesis_writer import KinesisWriter
from producer.scoring import ScoringWriter
from tweet_record.sentiment import (
    COMPREHEND_BATCH_SIZE,
    ComprehendEngine,
    SentimentEngine,
    VaderEngine,
)

STREAM_NAME = "trendstream-bench-tweets"
CALLS_FLOOR = Goal("at_most", 2.0)
"""500 records per PutRecords call: 1,000 tweets cannot take fewer than 2 calls."""
SENTIMENT_CALLS_FLOOR = Goal("at_most", 1000 / COMPREHEND_BATCH_SIZE)
"""25 documents per BatchDetectSentiment call: 1,000 distinct tweets take at least 40 calls
(fewer per 1,000 records when a tweet is seen under several topics: it is scored once)."""


def produce(
    records: Sequence[StreamRecordBytes], engine: SentimentEngine
) -> tuple[CountingKinesis, ScoringWriter, float]:
    """Every record through the producer's writers; the CPU seconds it took."""
    client = CountingKinesis()
    kinesis = KinesisWriter(STREAM_NAME, lambda: client)  # type: ignore[arg-type, return-value]
    writer = ScoringWriter(kinesis, engine, unlimited())
    started = time.process_time()
    for record in records:
        writer.add_record(record.unscored, record.topic)
        writer.send_full_batches()
    writer.flush()
    return client, writer, time.process_time() - started


def producer_figures(records: Sequence[StreamRecordBytes], runs: int) -> list[Figure]:
    name = f"producer PutRecords calls per 1,000 tweets ({len(records):,} tweets)"
    per_thousand: list[float] = []
    ratios: list[float] = []
    naive_per_thousand: list[float] = []
    micros: list[float] = []
    thousands = len(records) / 1000
    vader = VaderEngine()
    produce(records[:200], vader)  # the lexicon loads once per container
    for _ in range(runs):
        ours, _, cpu = produce(records, vader)
        if ours.records != len(records):
            problem = f"{ours.records} of {len(records)} records put"
            return [
                unavailable("producer_put_records_calls_per_1000_tweets", name, "calls", problem)
            ]
        micros.append(cpu / len(records) * 1e6)
        naive = CountingKinesis()
        naive_producer(records, naive, STREAM_NAME)
        ours_calls = ours.calls["PutRecords"]
        per_thousand.append(ours_calls / thousands)
        naive_per_thousand.append(naive.calls["PutRecord"] / thousands)
        ratios.append(naive.calls["PutRecord"] / ours_calls)
    comprehend = FakeComprehend()
    _, scoring, _ = produce(records, ComprehendEngine(lambda: comprehend))  # type: ignore[arg-type, return-value]
    distinct = scoring.figures.scored
    return [
        Figure(
            "producer_put_records_calls_per_1000_tweets",
            name,
            "calls",
            Spread.of(per_thousand),
            CALLS_FLOOR,
            baseline=(
                f"PutRecord per tweet: {number(Spread.of(naive_per_thousand).median)} calls; "
                f"{number(Spread.of(ratios).median)}x fewer"
            ),
            details={"ratio_naive_over_ours": ratios},
        ),
        Figure(
            PRODUCER_CPU_PER_TWEET,
            "producer CPU per tweet, sentiment included (VADER)",
            "µs",
            Spread.of(micros),
            baseline="labels, encodes and batches; once per tweet for both readers",
        ),
        Figure(
            "comprehend_calls_per_1000_tweets",
            "sentiment calls per 1,000 tweets (Comprehend, 25 per call, one language each)",
            "calls",
            Spread.of([comprehend.calls / thousands]),
            SENTIMENT_CALLS_FLOOR,
            baseline=(
                f"{comprehend.calls} calls for {distinct:,} distinct tweets in {len(records):,} "
                "records; before, each of the 2 readers scored every record: 80 at best"
            ),
            details={"calls": comprehend.calls, "documents": comprehend.documents},
        ),
    ]
