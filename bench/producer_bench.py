"""Figure 2: the producer's ``PutRecords`` calls per 1,000 tweets, beside one ``PutRecord`` each.

The producer's own ``KinesisWriter`` runs on realistic records (tagged by topic, as the run loop
adds them) against a counting client that accepts every record; the naive baseline sends the
same records one ``PutRecord`` at a time to another counting client in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.dataset import StreamRecordBytes
from bench.fakes import CountingKinesis
from bench.figures import Figure, Goal, Spread, number, unavailable
from bench.naive import naive_producer
from producer.kinesis_writer import KinesisWriter, OutgoingRecord

STREAM_NAME = "trendstream-bench-tweets"
CALLS_FLOOR = Goal("at_most", 2.0)
"""500 records per PutRecords call: 1,000 tweets cannot take fewer than 2 calls."""


def put_records_calls(records: Sequence[StreamRecordBytes]) -> CountingKinesis:
    client = CountingKinesis()
    writer = KinesisWriter(STREAM_NAME, lambda: client)  # type: ignore[arg-type, return-value]
    for record in records:
        writer.add(OutgoingRecord(record.partition_key, record.data, record.topic))
        writer.send_full_batches()
    writer.flush()
    return client


def producer_figures(records: Sequence[StreamRecordBytes], runs: int) -> list[Figure]:
    name = f"producer PutRecords calls per 1,000 tweets ({len(records):,} tweets)"
    per_thousand: list[float] = []
    ratios: list[float] = []
    naive_per_thousand: list[float] = []
    thousands = len(records) / 1000
    for _ in range(runs):
        ours = put_records_calls(records)
        if ours.records != len(records):
            return [unavailable(name, "calls", f"{ours.records} of {len(records)} records put")]
        naive = CountingKinesis()
        naive_producer(records, naive, STREAM_NAME)
        ours_calls = ours.calls["PutRecords"]
        per_thousand.append(ours_calls / thousands)
        naive_per_thousand.append(naive.calls["PutRecord"] / thousands)
        ratios.append(naive.calls["PutRecord"] / ours_calls)
    return [
        Figure(
            name,
            "calls",
            Spread.of(per_thousand),
            CALLS_FLOOR,
            baseline=(
                f"PutRecord per tweet: {number(Spread.of(naive_per_thousand).median)} calls; "
                f"{number(Spread.of(ratios).median)}x fewer"
            ),
            details={"ratio_naive_over_ours": ratios},
        )
    ]
