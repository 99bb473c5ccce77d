"""Figure 3: Firehose transformer records per second, one process, realistic tweets.

The whole ``lambda_handler`` runs on Firehose transformation events of the size the stack's
processor buffer delivers (1 MB of record data, about 1,200 realistic records), so the figure
includes the Powertools event and response classes, not only the per-record transformation.
It is records per CPU-second of this process (``time.process_time``): wall time on a loaded
shared machine would measure the other tenants.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from base64 import b64encode
from collections.abc import Sequence
from typing import Any

from bench.consumer_bench import POWERTOOLS_ENVIRONMENT, LambdaContextStandIn
from bench.dataset import StreamRecordBytes
from bench.figures import Figure, Goal, Spread, unavailable
from capacity_plan.measured import TRANSFORMER_RECORDS_PER_SECOND

RATE_GOAL = Goal("at_least", 30_000.0)
EVENT_DATA_BYTES = 1024 * 1024
"""Firehose's default processor buffer: the records one transformation invocation receives."""
ENGINE = "vader"
"""Configured as deployed; the producer's version 2 records never reach it."""


def firehose_events(records: Sequence[StreamRecordBytes]) -> list[dict[str, Any]]:
    """Transformation events of at most ``EVENT_DATA_BYTES`` of record data each."""
    events: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for index, record in enumerate(records):
        if batch and size + len(record.data) > EVENT_DATA_BYTES:
            events.append(_event(batch))
            batch, size = [], 0
        batch.append(
            {
                "recordId": f"4959033965810396212787{index:034d}",
                "approximateArrivalTimestamp": 1795345205000 + index,
                "data": b64encode(record.data).decode("ascii"),
            }
        )
        size += len(record.data)
    if batch:
        events.append(_event(batch))
    return events


def _event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "invocationId": "00000000-0000-4000-8000-000000000000",
        "deliveryStreamArn": (
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/trendstream-bench-lake"
        ),
        "sourceKinesisStreamArn": (
            "arn:aws:kinesis:us-east-1:123456789012:stream/trendstream-bench-tweets"
        ),
        "region": "us-east-1",
        "records": records,
    }


def run_transformer(events: Sequence[dict[str, Any]], engine_name: str) -> tuple[float, int]:
    """CPU seconds for every event, and how many records came back ``Ok``."""
    for name, value in POWERTOOLS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from firehose_transformer import app

    previous = os.environ.get("SENTIMENT_ENGINE")
    os.environ["SENTIMENT_ENGINE"] = engine_name
    ok = 0
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.process_time()
            responses = [app.lambda_handler(event, LambdaContextStandIn()) for event in events]
            cpu = time.process_time() - started
    finally:
        if previous is None:
            del os.environ["SENTIMENT_ENGINE"]
        else:
            os.environ["SENTIMENT_ENGINE"] = previous
    for response in responses:
        ok += sum(1 for record in response["records"] if record["result"] == "Ok")
    return cpu, ok


def transformer_figures(records: Sequence[StreamRecordBytes], runs: int) -> list[Figure]:
    events = firehose_events(records)
    name = f"transformer records/s (CPU; {len(records):,} tweets, {len(events)} events)"
    run_transformer(events[:1], ENGINE)  # warm, as a Lambda container is after its first event
    rates: list[float] = []
    for _ in range(runs):
        cpu, ok = run_transformer(events, ENGINE)
        if ok != len(records):
            problem = f"{ok} of {len(records)} records Ok"
            return [
                unavailable(TRANSFORMER_RECORDS_PER_SECOND, name, "records/s", problem, RATE_GOAL)
            ]
        rates.append(len(records) / cpu)
    return [
        Figure(
            TRANSFORMER_RECORDS_PER_SECOND,
            name,
            "records/s",
            Spread.of(rates),
            RATE_GOAL,
            details={"events": len(events)},
        )
    ]
