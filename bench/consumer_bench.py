"""Figure 1: the consumer handler's CPU per record, its DynamoDB calls and write units.

The whole ``lambda_handler`` runs (Powertools batch processor, parsing, the conditional tweet
puts on the write threads, the watermarked stats updates, logging and metrics) on one Kinesis
batch of realistic version 2 records (labelled by the producer), with in-memory clients answering
at once, so the figure is the CPU the function itself spends. A second figure keeps botocore in
the path (a real client whose HTTP sends are answered in memory): its serialising and parsing is
paid per call, and the consumer now makes a call per tweet. ``time.process_time`` is used rather
than wall time: on a shared machine other processes' load inflates wall time, not this process's
CPU time. One small batch runs first, as in a warm Lambda. Write units are what the in-memory
table charges, sized by DynamoDB's documented rules (``bench.fakes``), including puts refused by
their condition.
"""

from __future__ import annotations

import contextlib
import io
import json
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
from tweet_record.items import item_size

TABLE_NAME = "trendstream-bench-EventData"
LAKE_BUCKET = "trendstream-bench-lake-123456789012"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/trendstream-bench-tweets"
SHARD_ID = "shardId-000000000000"
WARM_UP_RECORDS = 200
CPU_GOAL = Goal("at_most", 50.0)
WRITE_UNITS_GOAL = Goal("at_most", 2.0)
TRANSACTIONAL_WRITE_UNITS = 2.10
TRANSACTIONAL_CALLS_PER_THOUSAND = 10.6
"""The transactional design's figures (make bench, 2026-11-29), which this design replaced."""
ESM_BATCH_SIZE = 100
"""Terraform's default ``consumer_batch_size``: the batches a deployed consumer receives."""
INTERLEAVED_TOPICS = 50
"""The capacity model's default number of topics with stats (``--stats-topics``)."""
ENGINE = "vader"
"""Configured as deployed; version 2 records never reach it."""

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
    write_units: float
    tweet_item_units: float


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
        cpu = time.process_time() - started - dynamodb.cpu_seconds
    tweets = [item for key, item in dynamodb.items.items() if key[1].startswith("TWEET#")]
    return ConsumerRun(
        cpu_seconds=cpu,
        records=len(event["Records"]),
        failures=len(response.get("batchItemFailures", [])),
        tweet_items=len(tweets),
        calls=dict(dynamodb.calls),
        write_units=dynamodb.write_units,
        tweet_item_units=sum(tweet_item_write_units(item) for item in tweets),
    )


BOTOCORE_RECORDS = 2_000
"""Enough calls for a stable figure; botocore's CPU per call does not depend on the batch."""


def _answer_in_memory(request: Any, **_: Any) -> Any:
    """A DynamoDB HTTP answer for every send: the write succeeded, 1 write unit."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = "bench"
    response = AWSResponse(request.url, 200, headers, None)
    capacity = {"ConsumedCapacity": {"TableName": TABLE_NAME, "CapacityUnits": 1.0}}
    response._content = json.dumps(capacity).encode()  # type: ignore[attr-defined]
    return response


def botocore_cpu_per_record(records: Sequence[StreamRecordBytes], runs: int) -> list[float]:
    """µs of CPU per record with the consumer's own botocore client, HTTP answered in memory."""
    prepare_environment()
    from consumer import app
    from consumer.quarantine import Quarantine
    from consumer.store import TweetStore
    from tweet_record.sentiment import get_engine

    credentials = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # never sent anywhere
    }
    app.dynamodb.cache_clear()
    with mock.patch.dict(os.environ, credentials):
        client = app.dynamodb()  # the consumer's own client, as its factory builds it
    app.dynamodb.cache_clear()
    client.meta.events.register("before-send.dynamodb.*", _answer_in_memory)
    runtime = app.Runtime(
        store=TweetStore(lambda: client, TABLE_NAME, 30, get_engine(ENGINE)),
        quarantine=Quarantine(client_factory=FakeS3, bucket=LAKE_BUCKET),  # type: ignore[arg-type]
    )
    micros = []
    with mock.patch.object(app, "runtime", new=lambda: runtime):
        for run in range(runs + 1):
            event = kinesis_event(records[:BOTOCORE_RECORDS])
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.process_time()
                app.lambda_handler(event, LambdaContextStandIn())
                cpu = time.process_time() - started
            if run:  # the first run warms botocore's caches up
                micros.append(cpu / len(event["Records"]) * 1e6)
    return micros


def tweet_item_write_units(item: dict[str, Any]) -> int:
    """A standard write: 1 unit per started KB of the item."""
    return -(-item_size(item) // 1024)


def warm_up(records: Sequence[StreamRecordBytes], engine_name: str) -> None:
    run_consumer(kinesis_event(records[:WARM_UP_RECORDS]), engine_name)


def interleaved_topics(
    records: Sequence[StreamRecordBytes], topics: int = INTERLEAVED_TOPICS
) -> list[StreamRecordBytes]:
    """The records dealt round-robin over ``topics`` topics, each (topic, tweet) distinct.

    The replay dataset arrives topic after topic, as the producer puts it, so a batch shares one
    stats update among many tweets. Dealt out like this, the tweets of a 100-record batch fall
    in as many (topic, minute) items as there are tweets: the worst case for stats updates.
    """
    dealt = []
    for index, record in enumerate(records):
        document = json.loads(record.data)
        document["topic"]["name"] = f"#topic{index % topics}"
        document["tweet"]["id"] = tweet_id = str(10**18 + index)
        data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        topic = document["topic"]["name"]
        dealt.append(StreamRecordBytes(tweet_id, data, topic, tweet_id, record.unscored))
    return dealt


def write_units_in_esm_batches(records: Sequence[StreamRecordBytes]) -> tuple[float, float]:
    """Write units per new tweet and tweet-item units per tweet, in batches of 100 records."""
    units = item_units = tweets = 0.0
    dynamodb, s3 = FakeDynamoDB(), FakeS3()
    with _stand_ins(ENGINE, dynamodb, s3) as app, contextlib.redirect_stdout(io.StringIO()):
        for start in range(0, len(records), ESM_BATCH_SIZE):
            app.lambda_handler(
                kinesis_event(records[start : start + ESM_BATCH_SIZE]), LambdaContextStandIn()
            )
    for key, item in dynamodb.items.items():
        if key[1].startswith("TWEET#"):
            tweets += 1
            item_units += tweet_item_write_units(item)
    units = dynamodb.write_units
    return units / tweets, item_units / tweets


def consumer_figures(records: Sequence[StreamRecordBytes], runs: int) -> list[Figure]:
    """Rows for figure 1; ``records`` are the batch (10,000 in ``make bench``)."""
    event = kinesis_event(records)
    expected_items = len({(record.topic, record.tweet_id) for record in records})
    calls_per_thousand: list[float] = []
    units_per_tweet: list[float] = []
    item_units_per_tweet: list[float] = []
    ratios: list[float] = []
    naive_calls_per_thousand: list[float] = []
    naive_micros: list[float] = []
    micros: list[float] = []
    cpu_name = f"consumer CPU per record ({len(records):,}-record batch)"
    warm_up(records, ENGINE)
    for _ in range(runs):
        run = run_consumer(event, ENGINE)
        if run.failures or run.tweet_items != expected_items:
            problem = (
                f"{run.failures} records failed, {run.tweet_items} of "
                f"{expected_items} tweet items written"
            )
            return [unavailable(cpu_name, "µs", problem, CPU_GOAL)]
        micros.append(run.cpu_seconds / run.records * 1e6)
        thousands = run.records / 1000
        total = sum(run.calls.values())
        calls_per_thousand.append(total / thousands)
        units_per_tweet.append(run.write_units / run.tweet_items)
        item_units_per_tweet.append(run.tweet_item_units / run.tweet_items)
        naive = FakeDynamoDB()
        started = time.process_time()
        naive_consumer(event, naive, TABLE_NAME)
        naive_micros.append((time.process_time() - started) / run.records * 1e6)
        naive_calls_per_thousand.append(naive.total_calls() / thousands)
        ratios.append(naive.total_calls() / total)
    botocore_micros = botocore_cpu_per_record(records, runs)
    esm_units, esm_item_units = write_units_in_esm_batches(records)
    dealt_units, dealt_item_units = write_units_in_esm_batches(interleaved_topics(records))
    item_units = Spread.of(item_units_per_tweet).median
    stats_units = Spread.of(units_per_tweet).median - item_units
    return [
        Figure(
            cpu_name,
            "µs",
            Spread.of(micros),
            CPU_GOAL,
            baseline=(
                f"naive PutItem loop: {number(Spread.of(naive_micros).median)} µs/record CPU "
                "(no stats)"
            ),
        ),
        Figure(
            "consumer CPU per record with botocore (HTTP answered in memory, "
            f"{min(len(records), BOTOCORE_RECORDS):,}-record batch)",
            "µs",
            Spread.of(botocore_micros),
            baseline="a PutItem per tweet: botocore serialises and parses each call",
        ),
        Figure(
            f"consumer write units per new tweet ({len(records):,}-record batch)",
            "WCU",
            Spread.of(units_per_tweet),
            WRITE_UNITS_GOAL,
            baseline=(
                f"tweet items {number(item_units)}, stats updates {number(stats_units)}; "
                f"transactional design: {number(TRANSACTIONAL_WRITE_UNITS)}"
            ),
            details={"tweet_item_units": item_units},
        ),
        Figure(
            f"consumer write units per new tweet (batches of {ESM_BATCH_SIZE}, as deployed)",
            "WCU",
            Spread.of([esm_units]),
            details={"tweet_item_units": esm_item_units},
        ),
        Figure(
            f"consumer write units per new tweet ({INTERLEAVED_TOPICS} topics interleaved, "
            f"batches of {ESM_BATCH_SIZE})",
            "WCU",
            Spread.of([dealt_units]),
            WRITE_UNITS_GOAL,
            baseline="worst case: a stats update per tweet",
            details={"tweet_item_units": dealt_item_units},
        ),
        Figure(
            "consumer DynamoDB calls per 1,000 tweets (PutItem + UpdateItem)",
            "calls",
            Spread.of(calls_per_thousand),
            baseline=(
                "naive PutItem per record (no stats): "
                f"{number(Spread.of(naive_calls_per_thousand).median)} calls; "
                f"transactional design: {number(TRANSACTIONAL_CALLS_PER_THOUSAND)} calls "
                "(requests are billed per write unit, not per call)"
            ),
            details={"ratio_naive_over_ours": ratios, "naive_cpu_us_per_record": naive_micros},
        ),
    ]
