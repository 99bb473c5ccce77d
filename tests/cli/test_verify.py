"""`trendstream verify` against moto in process, with the real consumer and transformer handlers.

A double plays what AWS runs between the stream and the stores (the event source mapping and
Firehose) and invokes the real Lambda handlers on what the verifier put; each test breaks one
piece of it and expects the verification to fail at that stage, naming it. Time is virtual: the
verifier's `sleep` advances the clock and lets the double take one step.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber
from cli_stack import BUCKET, DATABASE, REGION, TABLE, WORKGROUP, LakeStack
from moto.athena.models import QueryResults, athena_backends
from tests.consumer.consumer_helpers import FakeLambdaContext
from tests.event_table import create_event_table

from trendstream_cli import stack, verification
from trendstream_cli.main import main
from trendstream_cli.verification import (
    CheckFailedError,
    FirehoseBuffering,
    Options,
    Report,
    Target,
    Verifier,
    firehose_buffering,
    make_batch,
    put_batch,
)
from tweet_record import RecordRejectedError, parse_stream_record
from tweet_record.timestamps import minute_of

STREAM = "verify-test-tweets"
EVENT_TABLE = "verify-test-EventData"
DELIVERY_STREAM = "verify-test-lake"
ROLE_ARN = "arn:aws:iam::123456789012:role/verify-test-firehose"
RUN_ID = "test-run"


def outputs() -> dict[str, Any]:
    return {
        "stream_name": STREAM,
        "table_name": EVENT_TABLE,
        "lake_bucket": BUCKET,
        "delivery_stream_name": DELIVERY_STREAM,
        "athena_workgroup": WORKGROUP,
        "glue_database": DATABASE,
        "glue_table": TABLE,
    }


def create_delivery_stream(
    session: boto3.session.Session,
    name: str = DELIVERY_STREAM,
    *,
    processor_parameters: list[dict[str, str]] | None = None,
    buffering_hints: dict[str, int] | None = None,
) -> None:
    stream_arn = session.client("kinesis").describe_stream_summary(StreamName=STREAM)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    destination: dict[str, Any] = {
        "RoleARN": ROLE_ARN,
        "BucketARN": f"arn:aws:s3:::{BUCKET}",
        "Prefix": "tweets/",
        "ProcessingConfiguration": {
            "Enabled": True,
            "Processors": [
                {
                    "Type": "Lambda",
                    "Parameters": [
                        {
                            "ParameterName": "LambdaArn",
                            "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:t",
                        },
                        *(processor_parameters or []),
                    ],
                }
            ],
        },
    }
    if buffering_hints is not None:
        destination["BufferingHints"] = buffering_hints
    session.client("firehose").create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE_ARN},
        ExtendedS3DestinationConfiguration=destination,
    )


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """The consumer and transformer handler modules, configured as Terraform configures them."""
    for name, value in {
        "TABLE_NAME": EVENT_TABLE,
        "LAKE_BUCKET": BUCKET,
        "SENTIMENT_ENGINE": "vader",
        "POWERTOOLS_SERVICE_NAME": "verify-test",
        "POWERTOOLS_METRICS_NAMESPACE": "trendstream-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALLOWED_LANGUAGES", raising=False)
    monkeypatch.delenv("DROP_RETWEETS", raising=False)
    from consumer import app as consumer_app
    from firehose_transformer import app as transformer_app

    cached = (consumer_app.dynamodb, consumer_app.s3, consumer_app.runtime)
    for function in cached:
        function.cache_clear()
    transformer_app.config.cache_clear()
    yield consumer_app, transformer_app
    for function in cached:
        function.cache_clear()
    transformer_app.config.cache_clear()


class PipelineDouble:
    """Plays the event source mapping (stream -> consumer) and Firehose (stream -> transformer
    -> S3) with the real handlers; each step moves whatever the stream holds."""

    def __init__(
        self,
        session: boto3.session.Session,
        handlers: tuple[Any, Any],
        *,
        consumer: bool = True,
        firehose: bool = True,
        firehose_from_step: int = 1,
    ) -> None:
        self._kinesis = session.client("kinesis")
        self._s3 = session.client("s3")
        self._consumer, self._transformer = handlers
        self._consumer_on = consumer
        self._firehose_on = firehose
        self._firehose_from_step = firehose_from_step
        self.steps = 0
        self.after_step: list[Callable[[int], None]] = []
        self._stream_arn = self._kinesis.describe_stream_summary(StreamName=STREAM)[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self._iterators = {
            shard["ShardId"]: self._kinesis.get_shard_iterator(
                StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in self._kinesis.list_shards(StreamName=STREAM)["Shards"]
        }
        self._firehose_backlog: list[dict[str, Any]] = []
        self.consumed: list[tuple[str, bytes]] = []
        """(shard id, data) of each record handed to the consumer, in order."""

    def step(self) -> None:
        self.steps += 1
        for shard_id, iterator in self._iterators.items():
            page = self._kinesis.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = page["NextShardIterator"]
            records = page["Records"]
            if records and self._consumer_on:
                self.consumed.extend((shard_id, record["Data"]) for record in records)
                self._consumer.lambda_handler(
                    self._kinesis_event(shard_id, records), FakeLambdaContext()
                )
            self._firehose_backlog.extend(records)
        if self._firehose_on and self._firehose_backlog and self.steps >= self._firehose_from_step:
            self._deliver(self._firehose_backlog)
            self._firehose_backlog = []
        for hook in self.after_step:
            hook(self.steps)

    def _kinesis_event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(),
                        "approximateArrivalTimestamp": record[
                            "ApproximateArrivalTimestamp"
                        ].timestamp(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": ROLE_ARN,
                    "awsRegion": REGION,
                    "eventSourceARN": self._stream_arn,
                }
                for record in records
            ]
        }

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        event = {
            "invocationId": "verify-test",
            "deliveryStreamArn": f"arn:aws:firehose:{REGION}:123456789012:deliverystream/x",
            "sourceKinesisStreamArn": self._stream_arn,
            "region": REGION,
            "records": [
                {
                    "recordId": f"{index:06d}",
                    "approximateArrivalTimestamp": int(
                        record["ApproximateArrivalTimestamp"].timestamp() * 1000
                    ),
                    "data": base64.b64encode(record["Data"]).decode(),
                }
                for index, record in enumerate(records)
            ],
        }
        response = self._transformer.lambda_handler(event, FakeLambdaContext())
        body = b"".join(
            base64.b64decode(result["data"])
            for result in response["records"]
            if result["result"] == "Ok"
        )
        arrived = records[0]["ApproximateArrivalTimestamp"].astimezone(dt.UTC)
        key = (
            f"tweets/year={arrived:%Y}/month={arrived:%m}/day={arrived:%d}/hour={arrived:%H}/"
            f"verify-test-{self.steps}"
        )
        self._s3.put_object(Bucket=BUCKET, Key=key, Body=body)


class VirtualTime:
    """The verifier's clock and sleep: sleeping moves time on and lets the double step."""

    def __init__(self, on_sleep: Callable[[], None]) -> None:
        self.now = 0.0
        self._on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self._on_sleep()


@pytest.fixture
def deployed(aws: boto3.session.Session, lake_stack: LakeStack) -> boto3.session.Session:
    """What `verify` reads: stream, table, lake with its query path, delivery stream."""
    aws.client("kinesis").create_stream(StreamName=STREAM, ShardCount=2)
    create_event_table(aws.client("dynamodb"), EVENT_TABLE)
    create_delivery_stream(aws, buffering_hints={"IntervalInSeconds": 60, "SizeInMBs": 1})
    return aws


def verify(
    session: boto3.session.Session,
    double: PipelineDouble | None,
    *,
    target_outputs: dict[str, Any] | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    **options: Any,
) -> Report:
    time_ = VirtualTime(double.step if double else lambda: None)
    verifier = Verifier(
        Target(outputs=target_outputs or outputs(), description="moto"),
        Options(**{"engine": "duckdb", "table_seconds": 10, "query_seconds": 10, **options}),
        session,
        clock=time_.clock,
        sleep=time_.sleep,
        now=now,
        run_id=RUN_ID,
    )
    return verifier.run()


def statuses(report: Report) -> dict[str, str]:
    return {stage.name: stage.status for stage in report.stages}


def topic_items(session: boto3.session.Session, topics: tuple[str, ...]) -> list[dict[str, Any]]:
    dynamodb = session.client("dynamodb")
    return [
        item
        for topic in topics
        for item in dynamodb.query(
            TableName=EVENT_TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TOPIC#{topic}"}},
        )["Items"]
    ]


def failure(report: Report) -> str:
    return verification.failure_message(report)


# ---------------------------------------------------------------------------------------------
# The synthetic batch


def test_the_batch_is_valid_tweet_records_a_duplicate_and_one_poison_record() -> None:
    now = dt.datetime(2026, 11, 22, 10, 0, 30, tzinfo=dt.UTC)
    batch = make_batch(now, "r1")

    parsed = [parse_stream_record(tweet.data) for tweet in batch.tweets]
    assert [tweet.topic for tweet in parsed] == [tweet.topic for tweet in batch.tweets]
    assert all(json.loads(tweet.data)["schema"] == "trendstream.tweet/1" for tweet in batch.tweets)
    assert len({tweet.tweet_id for tweet in batch.tweets}) == 5
    assert batch.topics == ("trendstream-verify-r1-a", "trendstream-verify-r1-b")
    entries = batch.entries()
    assert [key for _, key in entries].count(batch.duplicate.tweet_id) == 2
    assert entries[-1] == (batch.poison, batch.poison_key)
    with pytest.raises(RecordRejectedError, match="WRONG_SCHEMA"):
        parse_stream_record(batch.poison)
    # The first topic's oldest tweet is a minute older: two minute-stats items for that topic.
    assert batch.expected_minutes() == {
        ("TOPIC#trendstream-verify-r1-a", "MINUTE#2026-11-22T10:00"): 2,
        ("TOPIC#trendstream-verify-r1-a", "MINUTE#2026-11-22T09:59"): 1,
        ("TOPIC#trendstream-verify-r1-b", "MINUTE#2026-11-22T10:00"): 2,
    }


def test_two_runs_never_share_a_topic() -> None:
    now = dt.datetime.now(dt.UTC)
    assert not set(make_batch(now).topics) & set(make_batch(now).topics)


# ---------------------------------------------------------------------------------------------
# The whole run


def test_a_working_stack_passes_every_stage_and_leaves_nothing_in_the_table(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    dynamodb = deployed.client("dynamodb")
    other = {"pk": {"S": "TOPIC##Europe"}, "sk": {"S": "MINUTE#2026-11-22T10:00"}}
    dynamodb.put_item(TableName=EVENT_TABLE, Item=other)
    double = PipelineDouble(deployed, handlers)
    instants: list[dt.datetime] = []

    def now() -> dt.datetime:
        instants.append(dt.datetime.now(dt.UTC))
        return instants[-1]

    report = verify(deployed, double, now=now)

    # The tweets' ages put them in three to five distinct minutes, by the second the batch was made.
    minutes = len(make_batch(instants[0], RUN_ID).expected_minutes())
    # A minute's stats are one partial item per shard that carried its tweets, and each tweet's
    # shard follows from its (random) id, so the partials are counted from what each shard carried.
    partials_expected = set()
    for shard_id, data in double.consumed:
        try:
            tweet = parse_stream_record(data)
        except RecordRejectedError:
            continue
        partials_expected.add((tweet.topic, minute_of(tweet.created_at), shard_id))
    assert statuses(report) == dict.fromkeys(verification.STAGES, "ok"), failure(report)
    assert report.stage("lake").detail.startswith("5 of 5 tweets")
    assert "6 rows" in report.stage("lake").detail  # the duplicate reached the lake twice
    assert "quarantine/consumer/" in report.stage("quarantine").detail
    assert "WRONG_SCHEMA" in report.stage("quarantine").detail
    assert "topic IN ('trendstream-verify-test-run-a', 'trendstream-verify-test-run-b')" in (
        report.query_sql
    )
    cleanup = re.search(
        r"deleted (\d+) items .*\((\d+) MINUTE, 5 TWEET\)", report.stage("cleanup").detail
    )
    assert cleanup is not None, report.stage("cleanup").detail
    deleted, partials = int(cleanup[1]), int(cleanup[2])
    assert deleted == partials + 5
    assert partials == len(partials_expected) >= minutes
    assert topic_items(deployed, report.topics) == []
    assert dynamodb.get_item(TableName=EVENT_TABLE, Key=other).get("Item") == other
    assert failure(report).startswith("verify: OK in ")


def test_keep_leaves_the_items_for_a_look(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    report = verify(deployed, PipelineDouble(deployed, handlers), keep=True)

    assert report.ok, failure(report)
    assert report.stage("cleanup").status == "skipped"
    tweets = [i for i in topic_items(deployed, report.topics) if i["sk"]["S"].startswith("TWEET#")]
    assert len(tweets) == 5


def test_no_runtime_fails_at_the_table_stage_and_still_cleans_up(
    deployed: boto3.session.Session,
) -> None:
    report = verify(deployed, None, table_seconds=6, poll_seconds=2)

    assert failure(report) == ('verify: FAILED at stage "table": 5 of 5 tweets missing after 6 s')
    assert report.stage("table").seconds == 6
    assert report.stage("lake").seconds is None  # skipped: no time to show
    assert statuses(report) == {
        "stack": "ok",
        "put": "ok",
        "table": "failed",
        "quarantine": "skipped",
        "lake": "skipped",
        "query": "skipped",
        "cleanup": "ok",
    }


def test_a_consumer_that_cannot_quarantine_fails_the_quarantine_stage(
    deployed: boto3.session.Session,
    handlers: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAKE_BUCKET", "no-such-bucket")  # the consumer's quarantine target
    double = PipelineDouble(deployed, handlers)

    report = verify(deployed, double, table_seconds=4, poll_seconds=1)

    assert report.stage("table").status == "ok", failure(report)
    assert failure(report) == (
        'verify: FAILED at stage "quarantine": the poison record is not under '
        "quarantine/consumer/ (0 new objects read) after 4 s"
    )


def test_a_lake_without_the_lines_fails_the_lake_stage(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    double = PipelineDouble(deployed, handlers, firehose=False)

    report = verify(deployed, double, lake_seconds=5, poll_seconds=1)

    assert failure(report).startswith(
        'verify: FAILED at stage "lake": 5 of 5 tweets have no row under tweets/'
    )
    assert failure(report).endswith("after 5 s")
    assert statuses(report)["table"] == "ok"
    assert statuses(report)["quarantine"] == "ok"
    assert statuses(report)["query"] == "skipped"


def test_a_query_that_returns_nothing_fails_the_query_stage(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    glue = deployed.client("glue")
    table = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    storage = {**table["StorageDescriptor"], "Location": f"s3://{BUCKET}/tweets/elsewhere/"}
    glue.update_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": TABLE,
            "StorageDescriptor": storage,
            "PartitionKeys": table["PartitionKeys"],
            "TableType": table["TableType"],
            "Parameters": table["Parameters"],
        },
    )

    report = verify(deployed, PipelineDouble(deployed, handlers), query_seconds=3, poll_seconds=1)

    assert statuses(report)["lake"] == "ok"
    assert failure(report) == (
        "verify: FAILED at stage \"query\": named query 'top-topics-last-hour' on DuckDB: "
        "saw 0 of 2 synthetic topics after 3 s"
    )


def test_a_tweet_counted_twice_fails_the_table_stage_at_once(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    double = PipelineDouble(deployed, handlers)
    double.after_step.append(lambda _step: count_one_more(deployed, make_topic_key("a")))

    report = verify(deployed, double, table_seconds=100, poll_seconds=1)

    assert re.fullmatch(
        r'verify: FAILED at stage "table": TOPIC#trendstream-verify-test-run-a MINUTE#\S+ '
        r"counts \d tweets, only \d were put \(a duplicate or redelivery was counted twice\)",
        failure(report),
    )
    assert report.stage("table").seconds == 1  # at the first look after the count, not at 100 s


def test_a_count_that_grows_after_the_table_looked_right_is_caught_at_the_end(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    double = PipelineDouble(deployed, handlers, firehose_from_step=2)
    double.after_step.append(
        lambda step: count_one_more(deployed, make_topic_key("b")) if step == 2 else None
    )

    report = verify(deployed, double, poll_seconds=1)

    assert report.stage("lake").status == "ok"
    assert report.stage("query").status == "ok"
    assert failure(report).startswith('verify: FAILED at stage "table": TOPIC#')
    assert failure(report).endswith("(when checked again at the end)")


def make_topic_key(letter: str) -> str:
    return f"TOPIC#trendstream-verify-{RUN_ID}-{letter}"


def count_one_more(session: boto3.session.Session, pk: str) -> None:
    dynamodb = session.client("dynamodb")
    minutes = dynamodb.query(
        TableName=EVENT_TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :minute)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":minute": {"S": "MINUTE#"}},
    )["Items"]
    dynamodb.update_item(
        TableName=EVENT_TABLE,
        Key={"pk": minutes[-1]["pk"], "sk": minutes[-1]["sk"]},
        UpdateExpression="ADD tweet_count :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def test_missing_outputs_fail_the_stack_stage_before_anything_is_put(
    deployed: boto3.session.Session,
) -> None:
    partial = {key: value for key, value in outputs().items() if key != "athena_workgroup"}

    report = verify(deployed, None, target_outputs=partial)

    assert failure(report) == (
        'verify: FAILED at stage "stack": the Terraform outputs lack athena_workgroup'
    )
    assert statuses(report)["put"] == "skipped"
    assert statuses(report)["cleanup"] == "skipped"
    assert stream_record_count(deployed) == 0


def test_a_function_of_the_outputs_that_is_not_deployed_fails_the_stack_stage(
    deployed: boto3.session.Session,
) -> None:
    """verify checks the stack's functions, every `<role>_function_name` output, as status does."""
    named = {**outputs(), "api_function_name": "trendstream-local-api"}

    report = verify(deployed, None, target_outputs=named)

    assert failure(report).startswith('verify: FAILED at stage "stack": ')
    assert "ResourceNotFoundException" in failure(report)
    assert "trendstream-local-api" in failure(report)
    assert stream_record_count(deployed) == 0


def test_an_unknown_named_query_fails_the_stack_stage_before_anything_is_put(
    deployed: boto3.session.Session,
) -> None:
    report = verify(deployed, None, named_query="no-such-query")

    assert failure(report).startswith(
        "verify: FAILED at stage \"stack\": no named query 'no-such-query' in the workgroup"
    )
    assert stream_record_count(deployed) == 0


def stream_record_count(session: boto3.session.Session) -> int:
    kinesis = session.client("kinesis")
    total = 0
    for shard in kinesis.list_shards(StreamName=STREAM)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        total += len(kinesis.get_records(ShardIterator=iterator)["Records"])
    return total


def test_on_athena_the_named_query_runs_in_the_workgroup_scoped_to_the_topics(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    topics = [f"trendstream-verify-{RUN_ID}-a", f"trendstream-verify-{RUN_ID}-b"]
    columns = [{"Name": name, "Type": "varchar"} for name in ("topic", "topic_kind", "tweets")]

    def row(*values: str) -> dict[str, Any]:
        return {"Data": [{"VarCharValue": value} for value in values]}

    backend = athena_backends["123456789012"][REGION]
    backend.query_results_queue.append(
        QueryResults(
            rows=[
                row("topic", "topic_kind", "tweets"),
                row(topics[0], "query", "3"),
                row(topics[1], "query", "2"),
            ],
            column_info=columns,
        )
    )

    report = verify(deployed, PipelineDouble(deployed, handlers), engine="athena")

    assert report.ok, failure(report)
    assert "on Athena: saw 2 of 2 synthetic topics" in report.stage("query").detail
    executions = deployed.client("athena").list_query_executions(WorkGroup=WORKGROUP)
    assert len(executions["QueryExecutionIds"]) == 1
    execution = deployed.client("athena").get_query_execution(
        QueryExecutionId=executions["QueryExecutionIds"][0]
    )["QueryExecution"]
    assert execution["QueryExecutionContext"]["Database"] == DATABASE
    assert f"topic IN ('{topics[0]}', '{topics[1]}')" in execution["Query"]


def test_athena_rows_short_of_the_tweets_fail_the_query_stage(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    topics = [f"trendstream-verify-{RUN_ID}-a", f"trendstream-verify-{RUN_ID}-b"]
    backend = athena_backends["123456789012"][REGION]
    for _ in range(10):
        backend.query_results_queue.append(
            QueryResults(
                rows=[
                    {"Data": [{"VarCharValue": "topic"}, {"VarCharValue": "tweets"}]},
                    {"Data": [{"VarCharValue": topics[0]}, {"VarCharValue": "1"}]},
                    {"Data": [{"VarCharValue": topics[1]}, {"VarCharValue": "2"}]},
                ],
                column_info=[{"Name": "topic"}, {"Name": "tweets"}],
            )
        )

    report = verify(deployed, PipelineDouble(deployed, handlers), engine="athena", query_seconds=4)

    assert failure(report) == (
        "verify: FAILED at stage \"query\": named query 'top-topics-last-hour' on Athena: "
        f"saw 2 of 2 synthetic topics ({topics[0]}: 1 of 3 tweets) after 4 s"
    )


# ---------------------------------------------------------------------------------------------
# Pieces


def test_the_lake_deadline_follows_the_delivery_stream_buffering(
    aws: boto3.session.Session,
) -> None:
    """Firehose buffers for the Lambda processor (BufferIntervalInSeconds, default 60 s), then
    for the destination (BufferingHints.IntervalInSeconds, default 300 s): "Firehose then sends
    it to the destination when the specified destination buffering size or buffering interval
    is reached" (Amazon Data Firehose developer guide, "Transform source data in Amazon Data
    Firehose"; API reference, BufferingHints)."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.client("kinesis").create_stream(StreamName=STREAM, ShardCount=1)
    create_delivery_stream(
        aws,
        "tuned",
        processor_parameters=[
            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "120"}
        ],
        buffering_hints={"IntervalInSeconds": 900, "SizeInMBs": 64},
    )
    create_delivery_stream(aws, "defaults")
    firehose = aws.client("firehose")

    tuned = firehose_buffering(firehose, "tuned")
    defaults = firehose_buffering(firehose, "defaults")

    assert tuned == FirehoseBuffering(processor_seconds=120, destination_seconds=900)
    assert tuned.lake_deadline() == 1.5 * 1020 + verification.LAKE_MARGIN_SECONDS
    assert defaults == FirehoseBuffering(processor_seconds=60, destination_seconds=300)


def test_the_derived_lake_deadline_is_used_unless_overridden(
    deployed: boto3.session.Session,
) -> None:
    derived = verify(deployed, None, table_seconds=1)
    overridden = verify(deployed, None, table_seconds=1, lake_seconds=42)

    assert "lake deadline 240 s (Firehose buffers 60 s + 60 s)" in (derived.stage("stack").detail)
    assert derived.stage("lake").deadline == 240
    assert overridden.stage("lake").deadline == 42


def test_put_retries_the_entries_kinesis_refused() -> None:
    """PutRecords is not atomic: refused entries come back with an ErrorCode and must be sent
    again (Kinesis API reference, PutRecords)."""
    batch = make_batch(dt.datetime.now(dt.UTC), "r2")
    kinesis = boto3.client(
        "kinesis", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    entries = batch.entries()
    throttled = {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": "Rate exceeded for shard shardId-000000000000",
    }
    ok = [{"ShardId": "shardId-000000000000", "SequenceNumber": str(n)} for n in range(7)]
    sleeps: list[float] = []
    with Stubber(kinesis) as stubber:
        stubber.add_response(
            "put_records", {"FailedRecordCount": 1, "Records": [*ok[:6], throttled]}
        )
        stubber.add_response(
            "put_records",
            {"Records": [ok[6]]},
            {
                "StreamName": STREAM,
                "Records": [{"Data": entries[6][0], "PartitionKey": entries[6][1]}],
            },
        )
        results = put_batch(kinesis, STREAM, batch, sleeps.append)

    assert [result.partition_key for result in results] == [key for _, key in entries]
    assert results[-1].sequence_number == "6"
    assert len(sleeps) == 1


def test_put_gives_up_naming_what_kinesis_said() -> None:
    batch = make_batch(dt.datetime.now(dt.UTC), "r3")
    kinesis = boto3.client(
        "kinesis", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}
    with Stubber(kinesis) as stubber:
        stubber.add_response("put_records", {"FailedRecordCount": 7, "Records": [refused] * 7})
        for _ in range(verification.PUT_ATTEMPTS - 1):
            stubber.add_response("put_records", {"FailedRecordCount": 7, "Records": [refused] * 7})
        with pytest.raises(CheckFailedError, match=r"7 of 7 records refused .* \(InternalFailure"):
            put_batch(kinesis, STREAM, batch, lambda _seconds: None)


def test_scoping_keeps_the_named_query_and_adds_the_topics() -> None:
    sql = "SELECT topic, count(*) AS tweets FROM t WHERE year = '2026' GROUP BY topic LIMIT 20"

    scoped = verification.scoped_to_topics(sql, ["a", "it's"])

    assert scoped == (
        "SELECT topic, COUNT(*) AS tweets FROM t WHERE year = '2026' AND topic IN ('a', 'it''s') "
        "GROUP BY topic LIMIT 20"
    )
    with pytest.raises(CheckFailedError, match="not a single SELECT"):
        verification.scoped_to_topics("INSERT INTO t VALUES (1)", ["a"])


# ---------------------------------------------------------------------------------------------
# The command


def outputs_file(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(json.dumps({key: {"value": value} for key, value in values.items()}))
    return path


def test_the_command_names_the_failed_stage_and_exits_1(
    deployed: boto3.session.Session,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = outputs_file(tmp_path / "outputs.json", outputs())

    code = main(
        ["verify", "--outputs", str(file), "--engine", "duckdb",
         "--table-timeout", "1", "--poll-interval", "0.2"]
    )  # fmt: skip

    captured = capsys.readouterr()
    assert code == 1
    assert re.search(
        r'verify: FAILED at stage "table": 5 of 5 tweets missing after 1 s', captured.err
    )
    assert "run " in captured.out
    assert "table" in captured.out
    topics = tuple(re.findall(r"trendstream-verify-[\w-]+-[ab]\b", captured.out))
    assert len(topics) >= 2
    assert topic_items(deployed, topics) == []


def test_the_command_without_a_local_stack_fails_at_the_stack_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--state-dir", str(tmp_path)])

    assert code == 1
    error = capsys.readouterr().err
    assert 'verify: FAILED at stage "stack":' in error
    assert "make up" in error


def test_the_engine_is_duckdb_on_the_emulator_and_athena_on_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    local = Target(outputs={}, description="local", local=True)
    remote = Target(outputs={}, description="aws")

    assert verification.choose_engine(local, "auto") == "duckdb"
    assert verification.choose_engine(remote, "auto") == "athena"
    assert verification.choose_engine(remote, "duckdb") == "duckdb"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert verification.choose_engine(remote, "auto") == "duckdb"


# ---------------------------------------------------------------------------------------------
# What the lake and the quarantine hold besides the verifier's records


def test_the_lake_check_reads_gzip_objects_and_skips_other_tweets(
    deployed: boto3.session.Session,
) -> None:
    now = dt.datetime.now(dt.UTC)
    batch = make_batch(now, "r5")
    s3 = deployed.client("s3")
    partition = f"tweets/year={now:%Y}/month={now:%m}/day={now:%d}/hour={now:%H}/"
    lines = [
        json.dumps({"tweet_id": tweet.tweet_id, "topic": tweet.topic}) for tweet in batch.tweets
    ]
    other = json.dumps({"tweet_id": "1", "topic": "#Europe"})
    s3.put_object(Bucket=BUCKET, Key=partition + "a", Body="\n".join([other, *lines[:3]]))
    s3.put_object(Bucket=BUCKET, Key=partition + "b.gz", Body=gzip.compress(lines[3].encode()))
    check = verification.LakeCheck(s3, BUCKET, batch, now)

    first = check(now)
    s3.put_object(Bucket=BUCKET, Key=partition + "c", Body=lines[4] + "\n" + lines[0])
    second = check(now)

    assert (first.done, first.detail) == (False, "4 of 5 tweets in 2 object(s), 4 rows")
    assert (second.done, second.detail) == (True, "5 of 5 tweets in 3 object(s), 6 rows")


def test_the_lake_check_reads_parquet_objects(deployed: boto3.session.Session) -> None:
    """With record format conversion on (the stack's default), Firehose writes Parquet: the
    check reads its rows by column name."""
    now = dt.datetime.now(dt.UTC)
    batch = make_batch(now, "r6")
    s3 = deployed.client("s3")
    partition = f"tweets/year={now:%Y}/month={now:%m}/day={now:%d}/hour={now:%H}/"
    table = pa.table(
        {
            "tweet_id": [tweet.tweet_id for tweet in batch.tweets],
            "topic": [tweet.topic for tweet in batch.tweets],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    s3.put_object(Bucket=BUCKET, Key=partition + "converted", Body=sink.getvalue())

    observation = verification.LakeCheck(s3, BUCKET, batch, now)(now)

    assert (observation.done, observation.detail) == (True, "5 of 5 tweets in 1 object(s), 5 rows")


def test_the_lake_check_looks_back_as_far_as_firehose_may_buffer(
    deployed: boto3.session.Session,
) -> None:
    """ "When evaluating timestamps, Firehose uses the approximate arrival timestamp of the oldest
    record that's contained in the Amazon S3 object being written" (Amazon Data Firehose
    developer guide, "Understand custom prefixes for Amazon S3 objects"): with long buffers the
    lines may land in an hour partition older than the put."""
    now = dt.datetime.now(dt.UTC)
    batch = make_batch(now, "r8")
    early = now - dt.timedelta(hours=2)
    partition = f"tweets/year={early:%Y}/month={early:%m}/day={early:%d}/hour={early:%H}/"
    body = "\n".join(
        json.dumps({"tweet_id": tweet.tweet_id, "topic": tweet.topic}) for tweet in batch.tweets
    )
    s3 = deployed.client("s3")
    s3.put_object(Bucket=BUCKET, Key=partition + "long-buffered", Body=body)

    unbuffered = verification.LakeCheck(s3, BUCKET, batch, now)
    buffered = verification.LakeCheck(s3, BUCKET, batch, now, dt.timedelta(hours=3))

    assert not unbuffered(now).done
    assert buffered(now).done


def test_a_synthetic_tweet_under_another_topic_in_the_lake_fails_at_once(
    deployed: boto3.session.Session,
) -> None:
    now = dt.datetime.now(dt.UTC)
    batch = make_batch(now, "r6")
    partition = f"tweets/year={now:%Y}/month={now:%m}/day={now:%d}/hour={now:%H}/"
    line = json.dumps({"tweet_id": batch.tweets[0].tweet_id, "topic": "#Europe"})
    deployed.client("s3").put_object(Bucket=BUCKET, Key=partition + "a", Body=line)

    with pytest.raises(
        CheckFailedError, match="under topic '#Europe', not 'trendstream-verify-r6-a'"
    ):
        verification.LakeCheck(deployed.client("s3"), BUCKET, batch, now)(now)


def test_the_quarantine_check_finds_the_poison_among_others_and_checks_its_bytes(
    deployed: boto3.session.Session,
) -> None:
    now = dt.datetime.now(dt.UTC)
    batch = make_batch(now, "r7")
    poison = verification.SyntheticPut(batch.poison_key, "shardId-000000000001", "42")
    s3 = deployed.client("s3")
    partition = f"quarantine/consumer/year={now:%Y}/month={now:%m}/day={now:%d}/hour={now:%H}/"

    def document(sequence: str, data: bytes) -> str:
        return json.dumps(
            {
                "reason": "WRONG_SCHEMA",
                "shard_id": "shardId-000000000001",
                "sequence_number": sequence,
                "partition_key": batch.poison_key if sequence == "42" else "7",
                "data_base64": base64.b64encode(data).decode(),
            }
        )

    s3.put_object(Bucket=BUCKET, Key=partition + "other.json", Body=document("41", b"{}"))
    check = verification.QuarantineCheck(s3, BUCKET, batch, poison, now)
    assert not check(now).done
    s3.put_object(Bucket=BUCKET, Key=partition + "ours.json", Body=document("42", batch.poison))
    found = check(now)
    assert found.done
    assert found.detail == f"quarantined as s3://{BUCKET}/{partition}ours.json (WRONG_SCHEMA)"

    altered = verification.QuarantineCheck(s3, BUCKET, batch, poison, now)
    s3.put_object(Bucket=BUCKET, Key=partition + "ours.json", Body=document("42", b"altered"))
    with pytest.raises(CheckFailedError, match="holds other bytes than were put"):
        altered(now)


def test_hour_prefixes_cover_every_hour_from_the_put_to_now() -> None:
    start = dt.datetime(2026, 12, 31, 22, 59, tzinfo=dt.UTC)
    end = dt.datetime(2027, 1, 1, 0, 1, tzinfo=dt.UTC)

    assert verification.hour_prefixes("tweets/", start, end) == [
        "tweets/year=2026/month=12/day=31/hour=22/",
        "tweets/year=2026/month=12/day=31/hour=23/",
        "tweets/year=2027/month=01/day=01/hour=00/",
    ]


# ---------------------------------------------------------------------------------------------
# Which stack


FAKE_TERRAFORM = """#!{python}
import json, os, sys
assert sys.argv[2:] == ["output", "-no-color", "-json"], sys.argv
if os.environ.get("FAKE_TF_FAIL"):
    print("\\x1b[31mError: No outputs found\\x1b[0m\\n\\nRun terraform init.", file=sys.stderr)
    sys.exit(1)
if os.environ.get("FAKE_TF_EMPTY"):
    print("{{}}")
    sys.exit(0)
print(json.dumps({{"stream_name": {{"value": "s", "type": "string"}},
                  "region": {{"value": "eu-west-1", "type": "string"}}}}))
"""


def test_terraform_outputs_are_read_with_terraform_output_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "terraform"
    script.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setattr(stack, "TERRAFORM_WRAPPER", script)

    target = verification.terraform_target(tmp_path)

    assert target.outputs == {"stream_name": "s", "region": "eu-west-1"}
    assert target.region == "eu-west-1"
    assert (target.local, target.environment) == (False, {})
    monkeypatch.setenv("FAKE_TF_FAIL", "1")
    with pytest.raises(verification.TargetError) as failed:
        verification.terraform_target(tmp_path)
    assert str(failed.value) == "`terraform output -json` failed: Error: No outputs found"


def test_an_environment_never_deployed_is_one_line_naming_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make verify` right after `make up`: no `dev` data directory, so no Terraform run and
    no Terraform advice, one line naming `make verify ENV=local`."""
    monkeypatch.setattr(stack, "TERRAFORM_WRAPPER", tmp_path / "no-terraform-is-run")
    monkeypatch.setenv("TF_WORKSPACE", "dev")
    monkeypatch.setenv("TF_DATA_DIR", str(tmp_path / ".deploy" / "dev" / ".terraform"))

    code = main(["verify", "--terraform", "--state-dir", str(tmp_path / "no-local-stack")])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "verify: no stack is deployed for ENV=dev: after `make up` (and `make run`), run "
        "`make verify ENV=local`; `make deploy ENV=dev` deploys to AWS"
    ]


def test_a_state_without_outputs_is_no_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "terraform"
    script.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setattr(stack, "TERRAFORM_WRAPPER", script)
    monkeypatch.setenv("FAKE_TF_EMPTY", "1")

    with pytest.raises(verification.NoDeploymentError, match="ENV=prod"):
        verification.terraform_target(tmp_path, {"TF_WORKSPACE": "prod"})


def test_make_verify_without_a_deployment_prints_one_line_without_colour_codes(
    tmp_path: Path,
) -> None:
    """The Makefile's own command line: no Terraform output, no escape codes, no echoed
    command; only make's closing `Error 1` follows the line (the exit status stays 1)."""
    make = shutil.which("make")
    assert make is not None
    completed = subprocess.run(  # noqa: S603 - the repository's Makefile, arguments built here
        [make, "-s", "-o", ".venv/.installed", "verify", "ENV=never-deployed",
         f"VERIFY_ARGS=--state-dir {tmp_path / 'no-local-stack'}"],
        cwd=stack.REPO_ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "400"},
    )  # fmt: skip

    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "\x1b" not in output
    assert "Terraform" not in output and "terraform" not in output
    ours = [line for line in output.splitlines() if re.match(r"make(\[\d+\])?: ", line) is None]
    assert ours == [
        "verify: no stack is deployed for ENV=never-deployed: after `make up` (and `make run`), "
        "run `make verify ENV=local`; `make deploy ENV=never-deployed` deploys to AWS"
    ]


def test_a_local_stack_whose_emulator_is_gone_is_no_target(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps(outputs()))

    with pytest.raises(verification.TargetError, match=r"no local stack is running .* `make up`"):
        verification.local_target(tmp_path)


def test_a_bad_outputs_file_is_no_target(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text("[1, 2]")

    with pytest.raises(verification.TargetError, match=r"outputs\.json"):
        verification.outputs_file_target(tmp_path / "outputs.json")


def test_ctrl_c_while_waiting_fails_the_stage_and_still_cleans_up(
    deployed: boto3.session.Session, handlers: tuple[Any, Any]
) -> None:
    double = PipelineDouble(deployed, handlers, firehose=False)

    def interrupt(_seconds: float) -> None:
        double.step()
        raise KeyboardInterrupt

    verifier = Verifier(
        Target(outputs=outputs(), description="moto"),
        Options(engine="duckdb"),
        deployed,
        clock=lambda: 0.0,
        sleep=interrupt,
        run_id=RUN_ID,
    )
    report = verifier.run()

    assert failure(report) == 'verify: FAILED at stage "table": interrupted after 0 s'
    assert statuses(report)["cleanup"] == "ok"
    assert topic_items(deployed, report.topics) == []


def test_stats_under_a_minute_no_tweet_was_created_in_fail_at_once(
    deployed: boto3.session.Session,
) -> None:
    batch = make_batch(dt.datetime(2026, 11, 22, 10, 0, 30, tzinfo=dt.UTC), "r9")
    deployed.client("dynamodb").put_item(
        TableName=EVENT_TABLE,
        Item={
            "pk": {"S": "TOPIC#trendstream-verify-r9-b"},
            "sk": {"S": "MINUTE#2026-11-22T10:05"},
            "tweet_count": {"N": "2"},
        },
    )

    with pytest.raises(CheckFailedError, match=r"MINUTE#2026-11-22T10:05 counts 2 tweets, but no"):
        verification.check_table(deployed.client("dynamodb"), EVENT_TABLE, batch)
