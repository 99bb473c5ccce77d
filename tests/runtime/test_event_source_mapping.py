"""The Kinesis event source mapping, tested against the AWS Lambda documentation for Kinesis.

Pollers are driven step by step with ``poll_once`` and a manual clock: no sleeping.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.runtime.conftest import DeployedFunction, put_records, unique

from local_aws.clock import Clock, ManualClock, SystemClock
from local_aws.event_source_mapping import (
    KinesisEventSourceMapping,
    MappingConfig,
    mappings_for_function,
)
from local_aws.kinesis_reader import ShardCheckpoint, ShardCheckpointMismatchError, ShardReader
from local_aws.lambda_service import LambdaService

pytestmark = pytest.mark.emulator

# Records each batch it gets; fails on data "poison" as the event asks (error, partial, timeout).
CONSUMER = """
import base64, json, os, time

def lambda_handler(event, context):
    records = event["Records"]
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]
    with open(os.environ["CALLS_PATH"], "a") as calls:
        calls.write(json.dumps({"datas": datas, "event": event}) + "\\n")
    mode = os.environ.get("MODE", "error")
    poisoned = [r for r, d in zip(records, datas) if d.startswith("poison")]
    if not poisoned:
        return {"batchItemFailures": []}
    if mode == "error":
        raise RuntimeError("poison record")
    if mode == "sleep":
        time.sleep(30)
    if mode == "partial":
        return {"batchItemFailures": [
            {"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in poisoned]}
    if mode == "empty-identifier":
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    return {"batchItemFailures": [{"itemIdentifier": "no-such-sequence-number"}]}
"""


class Harness:
    """A deployed consumer, a stream and a mapping between them, stepped by hand."""

    def __init__(
        self,
        clients: Callable[[str], Any],
        function: DeployedFunction,
        stream_arn: str,
        *,
        service: LambdaService,
        state_dir: Path,
        clock: Any,
    ) -> None:
        self.clients = clients
        self.function = function
        self.stream_arn = stream_arn
        self.service = service
        self.state_dir = state_dir
        self.clock = clock
        self.queue_url = clients("sqs").create_queue(QueueName=unique("on-failure"))["QueueUrl"]
        self.queue_arn = clients("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    def map(self, **settings: Any) -> KinesisEventSourceMapping:
        lambda_client = self.clients("lambda")
        lambda_client.create_event_source_mapping(
            EventSourceArn=self.stream_arn,
            FunctionName=self.function.name,
            DestinationConfig={"OnFailure": {"Destination": self.queue_arn}},
            **settings,
        )
        return self.reopen()

    def reopen(self) -> KinesisEventSourceMapping:
        """The mapping as a (re)started runtime sees it."""
        [config] = mappings_for_function(self.clients("lambda"), self.function.name)
        mapping = KinesisEventSourceMapping(
            config, self.service, self.clients, state_dir=self.state_dir, clock=self.clock
        )
        mapping.open()
        return mapping

    def put(self, *datas: str) -> list[str]:
        return put_records(self.clients, self.stream_arn, [d.encode() for d in datas])

    def batches(self) -> list[list[str]]:
        return [call["datas"] for call in self.function.calls()]

    def on_failure_records(self) -> list[dict[str, Any]]:
        messages = (
            self.clients("sqs")
            .receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        return [json.loads(message["Body"]) for message in messages]


def drain(mapping: KinesisEventSourceMapping, limit: int = 50) -> None:
    """Step until the mapping has nothing left to do."""
    for _ in range(limit):
        if not mapping.poll_once():
            return
    raise AssertionError("the mapping kept working after 50 steps")


@pytest.fixture
def harness(
    clients: Callable[[str], Any],
    deploy: Callable[..., DeployedFunction],
    make_stream: Callable[..., str],
    lambda_service: LambdaService,
    tmp_path: Path,
) -> Callable[..., Harness]:
    def build(mode: str = "error", timeout: int = 10, clock: Clock | None = None) -> Harness:
        function = deploy(CONSUMER, timeout=timeout, environment={"MODE": mode})
        lambda_service.register(function.name, function.zip_path)
        return Harness(
            clients,
            function,
            make_stream(),
            service=lambda_service,
            state_dir=tmp_path / "state",
            clock=clock or ManualClock(time.time()),
        )

    return build


def test_event_has_the_documented_kinesis_shape(harness: Callable[..., Harness]) -> None:
    """Lambda docs, "Using Lambda with Kinesis Data Streams", example Kinesis record event:
    Records[].kinesis{kinesisSchemaVersion, partitionKey, sequenceNumber, data (base64),
    approximateArrivalTimestamp}, eventSource "aws:kinesis", eventVersion "1.0",
    eventID "shardId-000000000006:<sequence number>", eventName "aws:kinesis:record",
    invokeIdentityArn, awsRegion and eventSourceARN."""
    h = harness()
    mapping = h.map(StartingPosition="TRIM_HORIZON")
    [sequence] = h.put("hello")

    drain(mapping)

    [call] = h.function.calls()
    [record] = call["event"]["Records"]
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "pk"
    assert record["kinesis"]["sequenceNumber"] == sequence
    assert base64.b64decode(record["kinesis"]["data"]) == b"hello"
    assert abs(record["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 300
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventVersion"] == "1.0"
    assert record["eventID"] == f"shardId-000000000000:{sequence}"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["invokeIdentityArn"].endswith(":role/local-runtime-test")
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == h.stream_arn


def test_trim_horizon_reads_old_records_and_latest_only_new_ones(
    harness: Callable[..., Harness],
) -> None:
    """Lambda API reference, StartingPosition: "TRIM_HORIZON ... start reading at the oldest
    record in the shard", "LATEST ... start reading just after the most recent record in the
    shard"."""
    oldest = harness()
    oldest.put("before")
    trim = oldest.map(StartingPosition="TRIM_HORIZON")
    newest = harness()
    newest.put("before")
    latest = newest.map(StartingPosition="LATEST")
    newest.put("after")

    drain(trim)
    drain(latest)

    assert oldest.batches() == [["before"]]
    assert newest.batches() == [["after"]]


def test_at_timestamp_starts_at_the_given_time(harness: Callable[..., Harness]) -> None:
    """Lambda API reference, StartingPositionTimestamp: "With StartingPosition set to
    AT_TIMESTAMP, the time from which to start reading, in Unix time seconds"."""
    h = harness()
    h.put("old")
    # The API carries whole seconds: let the wall clock reach the next second before "new".
    boundary = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    while datetime.now(UTC) < boundary:
        time.sleep(0.01)
    h.put("new")
    h.map(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=boundary)
    [config] = mappings_for_function(h.clients("lambda"), h.function.name)
    # moto 5.2.5 stores but does not return StartingPositionTimestamp; give it back as AWS does.
    config = dataclasses.replace(config, starting_timestamp=boundary)
    mapping = KinesisEventSourceMapping(
        config, h.service, h.clients, state_dir=h.state_dir, clock=h.clock
    )
    mapping.open()

    drain(mapping)

    assert h.batches() == [["new"]]


def test_batches_hold_at_most_batch_size_records_in_order(harness: Callable[..., Harness]) -> None:
    """Lambda API reference, BatchSize: "The maximum number of records in each batch that Lambda
    pulls from your stream ... and sends to your function"; Kinesis docs: records of a shard
    are processed in order."""
    h = harness()
    mapping = h.map(StartingPosition="TRIM_HORIZON", BatchSize=100)
    datas = [f"r{i}" for i in range(250)]
    h.put(*datas)

    drain(mapping)

    assert [len(batch) for batch in h.batches()] == [100, 100, 50]
    assert [d for batch in h.batches() for d in batch] == datas
    assert mapping.stats.records_succeeded == 250


def test_batching_window_waits_for_a_full_batch_until_it_elapses(
    harness: Callable[..., Harness],
) -> None:
    """Lambda API reference, MaximumBatchingWindowInSeconds: "The maximum amount of time, in
    seconds, that Lambda spends gathering records before invoking the function"."""
    h = harness()
    mapping = h.map(
        StartingPosition="TRIM_HORIZON", BatchSize=100, MaximumBatchingWindowInSeconds=10
    )
    h.put("a", "b")

    mapping.poll_once()
    h.clock.advance(5)
    mapping.poll_once()
    assert h.batches() == []

    h.clock.advance(5)
    drain(mapping)
    assert h.batches() == [["a", "b"]]


def test_full_batch_does_not_wait_for_the_window(harness: Callable[..., Harness]) -> None:
    """Lambda docs, "batching behavior": Lambda invokes when the batching window expires, the
    batch size is met, or the payload limit is reached, whichever comes first."""
    h = harness()
    mapping = h.map(
        StartingPosition="TRIM_HORIZON", BatchSize=100, MaximumBatchingWindowInSeconds=60
    )
    h.put(*[f"r{i}" for i in range(100)])

    drain(mapping)

    assert [len(b) for b in h.batches()] == [100]


def test_function_error_retries_then_sends_the_on_failure_record(
    harness: Callable[..., Harness],
) -> None:
    """Lambda docs, Kinesis error handling: "If your function returns an error, Lambda retries
    the batch until processing succeeds or the data expires" ... "MaximumRetryAttempts: discard
    records after the specified number of retries" and, with an on-failure destination, "Lambda
    sends a record of the failed batch to the destination" (invocation record with
    requestContext, responseContext, version, timestamp and KinesisBatchInfo); "the shard
    continues processing" with the next batch."""
    h = harness("error")
    mapping = h.map(StartingPosition="TRIM_HORIZON", BatchSize=10, MaximumRetryAttempts=2)
    sequences = h.put("ok-1", "poison", "ok-2")

    drain(mapping)
    assert mapping.pollers[0].retry_delay() > 0
    h.put("after")
    drain(mapping)
    assert mapping.pollers[0].retry_delay() == 0

    assert h.batches() == [["ok-1", "poison", "ok-2"]] * 3 + [["after"]]
    [record] = h.on_failure_records()
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == h.function.arn
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    info = record["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == sequences[0]
    assert info["endSequenceNumber"] == sequences[-1]
    assert info["batchSize"] == 3
    assert info["streamArn"] == h.stream_arn
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert info["approximateArrivalOfLastRecord"].endswith("Z")
    assert mapping.stats.records_discarded == 3


def test_timeout_is_a_function_error_for_the_mapping(harness: Callable[..., Harness]) -> None:
    """Lambda docs, Kinesis error handling: "Lambda handles function errors (including
    timeouts) the same way": the batch is retried, then discarded after MaximumRetryAttempts."""
    h = harness("sleep", timeout=1)
    mapping = h.map(StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=0)
    h.put("poison")

    drain(mapping)

    # The handler ran (and then slept past its second): the timeout was the invocation's, not
    # a cold start's (Init has its own limit, see test_lambda_service).
    assert h.batches() == [["poison"]]
    [record] = h.on_failure_records()
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_partial_batch_response_retries_from_the_lowest_failed_record(
    harness: Callable[..., Harness],
) -> None:
    """Lambda docs, "Implementing partial batch responses" for Kinesis: "Lambda ... checkpoints
    at the lowest sequence number of the failed records and retries from there": records before
    it are not sent again."""
    h = harness("partial")
    mapping = h.map(
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
    )
    h.put("a", "b", "poison", "c")

    drain(mapping)

    assert h.batches() == [["a", "b", "poison", "c"], ["poison", "c"]]
    [record] = h.on_failure_records()
    assert record["KinesisBatchInfo"]["batchSize"] == 2
    assert mapping.stats.records_succeeded == 2


@pytest.mark.parametrize("mode", ["empty-identifier", "unknown-identifier"])
def test_invalid_item_identifier_fails_the_whole_batch(
    harness: Callable[..., Harness], mode: str
) -> None:
    """Lambda docs, partial batch responses: "If the batchItemFailures array contains ... an
    empty or null itemIdentifier ... or an invalid itemIdentifier, Lambda treats this as a
    complete failure and retries the whole batch"."""
    h = harness(mode)
    mapping = h.map(
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
    )
    h.put("a", "poison")

    drain(mapping)

    assert h.batches() == [["a", "poison"], ["a", "poison"]]
    [record] = h.on_failure_records()
    assert record["KinesisBatchInfo"]["batchSize"] == 2


def test_batch_item_failures_are_ignored_unless_the_mapping_reports_them(
    harness: Callable[..., Harness],
) -> None:
    """Lambda docs: to use partial batch responses "include the enum value
    ReportBatchItemFailures in the FunctionResponseTypes list"; without it a normal return is a
    successful batch."""
    h = harness("partial")
    mapping = h.map(StartingPosition="TRIM_HORIZON")
    h.put("a", "poison")

    drain(mapping)

    assert h.batches() == [["a", "poison"]]
    assert h.on_failure_records() == []


def test_bisect_splits_the_failing_batch_to_isolate_the_bad_record(
    harness: Callable[..., Harness],
) -> None:
    """Lambda API reference, BisectBatchOnFunctionError: "If the function returns an error, split
    the batch in two and retry." Good halves succeed; only the bad record is discarded."""
    h = harness("error")
    mapping = h.map(
        StartingPosition="TRIM_HORIZON", BisectBatchOnFunctionError=True, MaximumRetryAttempts=3
    )
    h.put("a", "b", "c", "poison")

    drain(mapping)

    batches = h.batches()
    assert batches[0] == ["a", "b", "c", "poison"]
    assert batches[1:3] == [["a", "b"], ["c", "poison"]]
    assert batches[3:5] == [["c"], ["poison"]]
    assert all(b == ["poison"] for b in batches[5:])
    [record] = h.on_failure_records()
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert mapping.stats.records_succeeded == 3


def test_records_older_than_the_maximum_age_are_discarded_not_sent(
    harness: Callable[..., Harness],
) -> None:
    """Lambda API reference, MaximumRecordAgeInSeconds: "Discard records older than the specified
    age"; the invocation record's condition is RecordAgeExceeded."""
    h = harness("error")
    mapping = h.map(StartingPosition="TRIM_HORIZON", MaximumRecordAgeInSeconds=60)
    h.put("poison")

    mapping.poll_once()
    h.clock.advance(120)
    drain(mapping)

    assert h.batches() == [["poison"]]
    [record] = h.on_failure_records()
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["KinesisBatchInfo"]["batchSize"] == 1


def test_at_60x_a_record_put_two_wall_minutes_after_start_is_not_discarded(
    harness: Callable[..., Harness],
) -> None:
    """Lambda API reference, MaximumRecordAgeInSeconds: "Discard records older than the specified
    age" (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
    A record's age is wall time from its arrival: a clock running 60x faster, started two wall
    minutes (two clock hours) before the record arrived, does not make a fresh record old."""
    h = harness("error", clock=SystemClock(60, running_for=120))
    mapping = h.map(StartingPosition="TRIM_HORIZON", MaximumRecordAgeInSeconds=3600)
    h.put("fresh")

    drain(mapping)

    assert h.batches() == [["fresh"]]
    assert h.on_failure_records() == []
    assert mapping.stats.records_discarded == 0


def test_at_60x_a_record_an_hour_old_in_wall_time_is_discarded(
    harness: Callable[..., Harness],
) -> None:
    """The same limit, crossed: an hour and a minute of wall time after its arrival the record
    is discarded with condition RecordAgeExceeded, whatever the clock's speed."""
    h = harness("error", clock=SystemClock(60, wall_time=lambda: time.time() + 3660))
    mapping = h.map(StartingPosition="TRIM_HORIZON", MaximumRecordAgeInSeconds=3600)
    h.put("stale")

    drain(mapping)

    assert h.batches() == []
    [record] = h.on_failure_records()
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_checkpoint_survives_a_runtime_restart(harness: Callable[..., Harness]) -> None:
    """Lambda keeps the mapping's position in the shard: after a restart the runtime resumes
    after the last processed batch instead of the starting position (TRIM_HORIZON)."""
    h = harness()
    mapping = h.map(StartingPosition="TRIM_HORIZON")
    h.put("first")
    drain(mapping)

    h.put("second")
    restarted = h.reopen()
    drain(restarted)

    assert h.batches() == [["first"], ["second"]]


def test_mapping_defaults_follow_the_api_reference() -> None:
    """Lambda API reference, CreateEventSourceMapping defaults for Kinesis: BatchSize 100,
    MaximumBatchingWindowInSeconds 0, MaximumRetryAttempts -1 (infinite),
    MaximumRecordAgeInSeconds -1 (infinite), BisectBatchOnFunctionError false."""
    config = MappingConfig.from_api(
        {
            "UUID": "u",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            "StartingPosition": "LATEST",
        }
    )
    assert config.batch_size == 100
    assert config.batching_window_seconds == 0
    assert config.maximum_retry_attempts == -1
    assert config.maximum_record_age_seconds == -1
    assert config.bisect_on_error is False
    assert config.report_batch_item_failures is False
    assert config.function_name == "f"


def test_checkpoints_of_a_stream_deleted_and_created_again_are_refused(
    harness: Callable[..., Harness], clients: Callable[[str], Any]
) -> None:
    """A stream deleted and created again under the same name is another stream (Kinesis tells
    them apart by creation time; its sequence numbers start over). The mapping's checkpoints of
    the old stream are an error the runtime reports, not a position it silently resumes from."""
    h = harness()
    mapping = h.map(StartingPosition="TRIM_HORIZON")
    h.put("first")
    drain(mapping)
    kinesis = clients("kinesis")
    name = h.stream_arn.rsplit("/", 1)[-1]
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name)
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)

    with pytest.raises(ShardCheckpointMismatchError, match="cannot be applied to this stream"):
        h.reopen()


def test_a_sequence_number_the_shard_does_not_hold_is_refused(
    clients: Callable[[str], Any], make_stream: Callable[..., str]
) -> None:
    """Kinesis answers GetShardIterator with a sequence number of another shard or stream with
    InvalidArgumentException: a checkpoint naming no record of the shard is refused, not used."""
    stream_arn = make_stream()
    [held] = put_records(clients, stream_arn, [b"a"])
    shard = "shardId-000000000000"

    foreign = ShardReader(
        clients,
        stream_arn,
        shard,
        "LATEST",
        checkpoint=ShardCheckpoint("AFTER_SEQUENCE_NUMBER", str(int(held) + 1000)),
    )
    with pytest.raises(
        ShardCheckpointMismatchError, match="names no record of shardId-000000000000"
    ):
        foreign.open()

    own = ShardReader(
        clients,
        stream_arn,
        shard,
        "LATEST",
        checkpoint=ShardCheckpoint("AFTER_SEQUENCE_NUMBER", held),
    )
    own.open()
    assert own.read() == []
