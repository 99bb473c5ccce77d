"""Figure 1: the consumer handler's CPU time per record and its DynamoDB calls per 1,000 tweets.

The whole ``lambda_handler`` runs (Powertools batch processor, parsing, sentiment, stats
transactions, bulk writes, logging and metrics) on one Kinesis batch of realistic records, with
in-memory clients answering at once, so the figure is the CPU the function itself spends.
``time.process_time`` is used rather than wall time: on a shared machine other processes' load
inflates wall time, not this process's CPU time. One small batch runs first, as in a warm
Lambda, so VADER's lexicon load (~0.1 s, once per container) is not spread over the figure.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from base64 import b64encode
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from unittest import mock

from bench.dataset import StreamRecordBytes
from bench.fakes import FakeDynamoDB, FakeS3
from bench.figures import Figure, Goal, Spread, number, unavailable
from bench.naive import naive_consumer

TABLE_NAME = "trendstream-bench-EventData"
LAKE_BUCKET = "trendstream-bench-lake-123456789012"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/trendstream-bench-tweets"
SHARD_ID = "shardId-000000000000"
WARM_UP_RECORDS = 200
CPU_GOAL = Goal("at_most", 50.0)
BATCH_WRITE_FLOOR = Goal("at_most", 40.0)
ENGINES = ("vader", "off")

HANDLER_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "trendstream-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "trendstream",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TABLE_NAME": TABLE_NAME,
    "LAKE_BUCKET": LAKE_BUCKET,
}
"""Set before the handler module is imported. Log level WARNING as a production function would
run; the one INFO line per batch it saves is noise next to 10,000 records."""


@dataclass
class LambdaContextStandIn:
    function_name: str = "trendstream-bench-consumer"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:trendstream-bench-consumer"
    )
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass(frozen=True)
class ConsumerRun:
    cpu_seconds: float
    records: int
    failures: int
    tweet_items: int
    calls: dict[str, int]


def prepare_environment() -> None:
    for name, value in HANDLER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def kinesis_event(records: Sequence[StreamRecordBytes]) -> dict[str, Any]:
    """A Kinesis event source batch as Lambda delivers it (base64 data, one shard)."""
    entries = []
    for index, record in enumerate(records):
        sequence = f"4959033965810396212787{index:034d}"
        entries.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": sequence,
                    "data": b64encode(record.data).decode("ascii"),
                    "approximateArrivalTimestamp": 1795345205.0 + index / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD_ID}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/trendstream-bench-consumer",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": entries}


@contextlib.contextmanager
def _stand_ins(engine_name: str, dynamodb: FakeDynamoDB, s3: FakeS3) -> Iterator[Any]:
    """The handler module with its runtime built on the in-memory clients."""
    prepare_environment()
    from consumer import app
    from consumer.quarantine import Quarantine
    from consumer.store import TweetStore
    from tweet_record.sentiment import get_engine

    runtime = app.Runtime(
        store=TweetStore(
            client_factory=lambda: dynamodb,  # type: ignore[arg-type, return-value]
            table_name=TABLE_NAME,
            ttl_days=30,
            engine=get_engine(engine_name),
        ),
        quarantine=Quarantine(client_factory=lambda: s3, bucket=LAKE_BUCKET),  # type: ignore[arg-type, return-value]
    )
    with mock.patch.object(app, "runtime", new=lambda: runtime):
        yield app


def run_consumer(event: dict[str, Any], engine_name: str) -> ConsumerRun:
    """One timed handler call on ``event`` with fresh in-memory clients."""
    dynamodb, s3 = FakeDynamoDB(), FakeS3()
    with _stand_ins(engine_name, dynamodb, s3) as app, contextlib.redirect_stdout(io.StringIO()):
        started = time.process_time()
        response = app.lambda_handler(event, LambdaContextStandIn())
        cpu = time.process_time() - started
    tweet_items = sum(1 for _, sort_key in dynamodb.items if sort_key.startswith("TWEET#"))
    return ConsumerRun(
        cpu_seconds=cpu,
        records=len(event["Records"]),
        failures=len(response.get("batchItemFailures", [])),
        tweet_items=tweet_items,
        calls=dict(dynamodb.calls),
    )


def warm_up(records: Sequence[StreamRecordBytes], engine_name: str) -> None:
    run_consumer(kinesis_event(records[:WARM_UP_RECORDS]), engine_name)


def consumer_figures(records: Sequence[StreamRecordBytes], runs: int) -> list[Figure]:
    """Rows for figure 1; ``records`` are the batch (10,000 in ``make bench``)."""
    event = kinesis_event(records)
    expected_items = len({(record.topic, record.tweet_id) for record in records})
    figures: list[Figure] = []
    calls_per_thousand: list[float] = []
    batch_writes_per_thousand: list[float] = []
    transactions_per_thousand: list[float] = []
    ratios: list[float] = []
    naive_calls_per_thousand: list[float] = []
    naive_micros: list[float] = []
    for engine_name in ENGINES:
        warm_up(records, engine_name)
        micros: list[float] = []
        problem = ""
        for _ in range(runs):
            run = run_consumer(event, engine_name)
            if run.failures or run.tweet_items != expected_items:
                problem = (
                    f"{run.failures} records failed, {run.tweet_items} of "
                    f"{expected_items} tweet items written"
                )
                break
            micros.append(run.cpu_seconds / run.records * 1e6)
            if engine_name == ENGINES[0]:
                thousands = run.records / 1000
                total = sum(run.calls.values())
                calls_per_thousand.append(total / thousands)
                batch_writes_per_thousand.append(run.calls.get("BatchWriteItem", 0) / thousands)
                transactions_per_thousand.append(run.calls.get("TransactWriteItems", 0) / thousands)
                naive = FakeDynamoDB()
                started = time.process_time()
                naive_consumer(event, naive, TABLE_NAME)
                naive_micros.append((time.process_time() - started) / run.records * 1e6)
                naive_calls_per_thousand.append(naive.total_calls() / thousands)
                ratios.append(naive.total_calls() / total)
        name = f"consumer CPU per record, SENTIMENT_ENGINE={engine_name} ({len(records):,} batch)"
        if problem:
            figures.append(unavailable(name, "µs", problem, CPU_GOAL))
            continue
        figures.append(
            Figure(name, "µs", Spread.of(micros), CPU_GOAL, details={"engine": engine_name})
        )
    if calls_per_thousand:
        figures.append(
            Figure(
                "consumer DynamoDB calls per 1,000 tweets (BatchWriteItem + TransactWriteItems)",
                "calls",
                Spread.of(calls_per_thousand),
                baseline=(
                    "PutItem per record: "
                    f"{number(Spread.of(naive_calls_per_thousand).median)} calls; "
                    f"{number(Spread.of(ratios).median)}x fewer"
                ),
                details={
                    "batch_write_item_per_1000": Spread.of(batch_writes_per_thousand).median,
                    "transact_write_items_per_1000": Spread.of(transactions_per_thousand).median,
                    "ratio_naive_over_ours": ratios,
                    "naive_cpu_us_per_record": naive_micros,
                },
            )
        )
        figures.append(
            Figure(
                "consumer BatchWriteItem per 1,000 tweets (floor: 1,000 / 25)",
                "calls",
                Spread.of(batch_writes_per_thousand),
                BATCH_WRITE_FLOOR,
                baseline=(
                    f"naive PutItem loop: {number(Spread.of(naive_micros).median)} µs/record CPU "
                    "(no sentiment, no stats)"
                ),
            )
        )
    return figures
