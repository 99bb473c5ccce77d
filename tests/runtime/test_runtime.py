"""The composed runtime: schedule -> producer -> stream -> consumer and Firehose -> lake."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.runtime.conftest import (
    ROLE_ARN,
    EmulatorHandle,
    create_test_role,
    unique,
    zip_source,
)

from local_aws.clock import ManualClock
from local_aws.lambda_service import CodeMismatchError
from local_aws.moto_server import REGION, start_emulator, stop_emulator
from local_aws.runtime import (
    InstanceLock,
    LocalRuntime,
    RuntimeAlreadyRunningError,
    client_factory,
)

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PRODUCER = """
import json, os, boto3

def lambda_handler(event, context):
    kinesis = boto3.client("kinesis")
    records = [{"Data": json.dumps({"n": i}).encode(), "PartitionKey": str(i)}
               for i in range(int(os.environ["COUNT"]))]
    for start in range(0, len(records), 500):
        chunk = records[start:start + 500]
        kinesis.put_records(StreamName=os.environ["STREAM_NAME"], Records=chunk)
    return {"produced": len(records)}
"""

CONSUMER = """
def lambda_handler(event, context):
    return {"batchItemFailures": []}
"""

TRANSFORMER = """
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
"""


def wait_for(condition: Callable[[], bool], runtime: LocalRuntime, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met before the deadline: {runtime.stats()}")
        time.sleep(0.05)


def deploy_stack(
    clients: Callable[[str], Any],
    build_dir: Path,
    count: int | str,
    prefix: str | None = None,
    producer_dead_letter_arn: str | None = None,
) -> dict[str, Any]:
    """A miniature of the Terraform stack, deployed with boto3; `prefix` fixes its names, as the
    stack's `name_prefix` does (otherwise they are unique)."""

    def name(kind: str) -> str:
        return f"{prefix}-{kind}" if prefix else unique(kind)

    build_dir.mkdir(exist_ok=True)
    kinesis, lambda_client = clients("kinesis"), clients("lambda")
    stream = name("tweets")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    names: dict[str, str] = {}
    arns: dict[str, str] = {}
    for output, zip_name, source in (
        ("producer_function_name", "producer.zip", PRODUCER),
        ("consumer_function_name", "consumer.zip", CONSUMER),
        ("transformer_function_name", "firehose_transformer.zip", TRANSFORMER),
    ):
        body = zip_source(source)
        (build_dir / zip_name).write_bytes(body)
        function_name = name(zip_name.removesuffix(".zip").replace("_", "-"))
        arns[output] = lambda_client.create_function(
            FunctionName=function_name,
            Runtime="python3.11",
            Role=ROLE_ARN,
            Handler="app.lambda_handler",
            Code={"ZipFile": body},
            Timeout=30,
            Environment={"Variables": {"STREAM_NAME": stream, "COUNT": str(count)}},
            **(
                {"DeadLetterConfig": {"TargetArn": producer_dead_letter_arn}}
                if producer_dead_letter_arn and output == "producer_function_name"
                else {}
            ),
        )["FunctionArn"]
        names[output] = function_name
    lambda_client.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=names["consumer_function_name"],
        StartingPosition="LATEST",
        BatchSize=500,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    bucket = name("lake")
    clients("s3").create_bucket(Bucket=bucket)
    delivery = name("delivery")
    clients("firehose").create_delivery_stream(
        DeliveryStreamName=delivery,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE_ARN},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE_ARN,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "tweets/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {
                                "ParameterName": "LambdaArn",
                                "ParameterValue": arns["transformer_function_name"],
                            },
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
                        ],
                    }
                ],
            },
        },
    )
    events = clients("events")
    rule = name("schedule")
    events.put_rule(Name=rule, ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule=rule, Targets=[{"Id": "producer", "Arn": arns["producer_function_name"]}]
    )
    return {
        **names,
        "stream_name": stream,
        "stream_arn": stream_arn,
        "delivery_stream_name": delivery,
        "lake_bucket": bucket,
        "schedule_rule_name": rule,
    }


def test_the_schedule_drives_records_through_consumer_and_firehose(
    clients: Callable[[str], Any], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """End to end on a manual clock: a daily schedule fires once and the producer puts 1,200
    records; the event source mapping delivers them all to the consumer, Firehose writes them
    all to the lake after its buffer intervals, and stopping the runtime leaves no worker
    process behind."""
    count = 1200
    outputs = deploy_stack(clients, tmp_path / "build", count)
    clock = ManualClock(time.time())

    with LocalRuntime(
        {k: {"value": v} for k, v in outputs.items()},
        emulator.endpoint,
        tmp_path / "build",
        tmp_path / "state",
        clock=clock,
    ) as runtime:
        clock.advance(86400)
        wait_for(lambda: runtime.stats()["consumed"] == count, runtime)
        clock.advance(60)
        wait_for(
            lambda: (
                runtime.stats()["functions"][outputs["transformer_function_name"]]["invocations"]
                > 0
            ),
            runtime,
        )
        clock.advance(60)
        wait_for(lambda: runtime.stats()["delivered"] == count, runtime)
        stats = runtime.stats()
        assert runtime.lambda_service is not None
        pids = runtime.lambda_service.worker_pids()

    assert stats["produced"] == count
    assert stats["scheduled_events"] == 1
    assert stats["consumer_discarded"] == 0
    assert set(stats["iterator_lag_ms"]["consumer"]) == {
        "shardId-000000000000",
        "shardId-000000000001",
    }
    assert stats["functions"][outputs["producer_function_name"]]["invocations"] == 1
    lake = clients("s3").list_objects_v2(Bucket=outputs["lake_bucket"], Prefix="tweets/")
    body = b"".join(
        clients("s3").get_object(Bucket=outputs["lake_bucket"], Key=o["Key"])["Body"].read()
        for o in lake["Contents"]
    )
    assert body.count(b'{"n": ') == count
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_each_function_runs_from_the_built_zip_with_its_deployed_hash(
    clients: Callable[[str], Any], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """The runtime hosts every function the outputs name (`<role>_function_name`), each from
    the zip whose hash is the deployed CodeSha256, whatever the file is called; a function whose
    code no built zip holds is refused, not run from the wrong code."""
    build = tmp_path / "build"
    outputs = deploy_stack(clients, build, 1)
    (build / "consumer.zip").rename(build / "renamed.zip")

    with LocalRuntime(
        outputs, emulator.endpoint, build, tmp_path / "state", clock=ManualClock(time.time())
    ) as runtime:
        assert runtime.lambda_service is not None
        hosted = set(runtime.lambda_service.stats())

    assert hosted == {
        outputs["producer_function_name"],
        outputs["consumer_function_name"],
        outputs["transformer_function_name"],
    }
    (build / "renamed.zip").write_bytes(b"not the deployed code")
    with pytest.raises(CodeMismatchError, match=outputs["consumer_function_name"]):
        LocalRuntime(
            outputs, emulator.endpoint, build, tmp_path / "state", clock=ManualClock(time.time())
        ).start()


def destroy_stack(clients: Callable[[str], Any], outputs: dict[str, Any]) -> None:
    """What `terraform destroy` does to the miniature stack."""
    events, lambda_client = clients("events"), clients("lambda")
    events.remove_targets(Rule=outputs["schedule_rule_name"], Ids=["producer"])
    events.delete_rule(Name=outputs["schedule_rule_name"])
    for mapping in lambda_client.list_event_source_mappings(
        FunctionName=outputs["consumer_function_name"]
    )["EventSourceMappings"]:
        lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
    for key in ("producer_function_name", "consumer_function_name", "transformer_function_name"):
        lambda_client.delete_function(FunctionName=outputs[key])
    clients("firehose").delete_delivery_stream(DeliveryStreamName=outputs["delivery_stream_name"])
    kinesis = clients("kinesis")
    kinesis.delete_stream(StreamName=outputs["stream_name"])
    kinesis.get_waiter("stream_not_exists").wait(StreamName=outputs["stream_name"])
    s3 = clients("s3")
    for entry in s3.list_objects_v2(Bucket=outputs["lake_bucket"]).get("Contents", []):
        s3.delete_object(Bucket=outputs["lake_bucket"], Key=entry["Key"])
    s3.delete_bucket(Bucket=outputs["lake_bucket"])


def lake_records(clients: Callable[[str], Any], bucket: str) -> int:
    s3 = clients("s3")
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="tweets/").get("Contents", [])
    return sum(
        s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read().count(b'{"n": ')
        for entry in listing
    )


def run_stack(
    clients: Callable[[str], Any], endpoint: str, tmp_path: Path, count: int
) -> dict[str, Any]:
    """`make up` then `make run`: deploy the stack named `trendstream-local`, run the runtime
    (one producer run at start) until the consumer got every record, deliver Firehose's buffers.
    Returns the outputs and what each stage holds."""
    create_test_role(clients)
    outputs = deploy_stack(clients, tmp_path / "build", count, prefix="trendstream-local")
    with LocalRuntime(
        outputs,
        endpoint,
        tmp_path / "build",
        tmp_path / "state",
        clock=ManualClock(time.time()),
        start_with_producer_run=True,
    ) as runtime:
        wait_for(lambda: runtime.stats()["consumed"] == count, runtime)
        runtime.flush()
        stats = runtime.stats()
    return {
        "outputs": outputs,
        "stats": stats,
        "lake": lake_records(clients, outputs["lake_bucket"]),
    }


@pytest.mark.parametrize("teardown", ["make down", "emulator killed"])
def test_a_new_stack_with_the_same_names_starts_clean(teardown: str, tmp_path: Path) -> None:
    """up, run, (down | the emulator killed), up, run: the second stack's lake holds every record
    its consumer got. Firehose identifies a delivery stream by ARN and creation time and Lambda a
    mapping by UUID, not by name: the first stack's checkpoints must not skip the second's
    records (they once did, every one of them)."""
    count = 300
    first_emulator = start_emulator(0)
    emulators = [first_emulator]
    try:
        clients = client_factory(first_emulator.endpoint, REGION)
        first = run_stack(clients, first_emulator.endpoint, tmp_path, count)
        assert (first["stats"]["consumed"], first["lake"]) == (count, count)

        if teardown == "make down":
            destroy_stack(clients, first["outputs"])
            endpoint = first_emulator.endpoint
        else:
            os.killpg(first_emulator.pid, signal.SIGKILL)
            stop_emulator(first_emulator)
            emulators.append(start_emulator(0))
            endpoint = emulators[-1].endpoint
            clients = client_factory(endpoint, REGION)
        second = run_stack(clients, endpoint, tmp_path, count)
    finally:
        for emulator in emulators:
            stop_emulator(emulator)

    assert second["outputs"] == first["outputs"]
    # The records came from the run at start: the daily schedule is a day away (clock unmoved).
    assert (second["stats"]["producer_runs_at_start"], second["stats"]["scheduled_events"]) == (
        1,
        0,
    )
    assert 86_000 < second["stats"]["next_scheduled_run_in"] <= 86_400
    assert second["stats"]["consumed"] == count
    assert second["lake"] == count


def test_a_second_runtime_on_the_same_stack_is_refused(
    clients: Callable[[str], Any], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """AWS runs one event source mapping and one delivery stream per resource: a second local
    runtime on the same stack would deliver every record twice, so it is refused, naming the
    runtime that holds the stack; once that one stops, a new one starts."""
    outputs = deploy_stack(clients, tmp_path / "build", 1)

    def runtime() -> LocalRuntime:
        return LocalRuntime(
            outputs, emulator.endpoint, tmp_path / "build", tmp_path / "state",
            clock=ManualClock(time.time()),
        )  # fmt: skip

    with runtime():
        second = runtime()
        with pytest.raises(
            RuntimeAlreadyRunningError,
            match=rf"already running on this stack \(pid {os.getpid()}, since 20",
        ):
            second.start()
        assert second.lambda_service is None
    with runtime() as third:
        assert third.lambda_service is not None


def test_the_instance_lock_is_held_across_processes_and_freed_when_its_holder_dies(
    tmp_path: Path,
) -> None:
    """An OS lock (flock), not a pid file: another process is refused while the holder lives,
    and the kernel frees the lock when the holder dies, even by SIGKILL."""
    lock_path = tmp_path / "runtime.lock"
    holder = subprocess.Popen(  # noqa: S603 - our interpreter, our code
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from local_aws.runtime import InstanceLock;"
            f"InstanceLock(Path({str(lock_path)!r})).acquire(); print('held', flush=True);"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RuntimeAlreadyRunningError, match=f"pid {holder.pid}, since "):
            InstanceLock(lock_path).acquire()
    finally:
        holder.kill()
        holder.communicate()
    lock = InstanceLock(lock_path)
    lock.acquire()
    lock.release()


FAILING_PRODUCER_COUNT = "not-a-number"


def test_producer_failures_show_as_metrics_log_events_and_dead_letters(
    clients: Callable[[str], Any], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Lambda developer guide, "Error handling and automatic retries in Lambda": an asynchronous
    invocation that fails is retried twice, then its event goes to the dead-letter queue, with
    message attributes RequestID, ErrorCode and ErrorMessage. "Working with Lambda function
    metrics": Invocations, Errors, Throttles and DeadLetterErrors per FunctionName in AWS/Lambda,
    where the stack's alarms (and `trendstream status`) look; the error itself is in the
    function's log group."""
    sqs = clients("sqs")
    queue_url = sqs.create_queue(QueueName=unique("producer-dlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    outputs = deploy_stack(
        clients, tmp_path / "build", FAILING_PRODUCER_COUNT, producer_dead_letter_arn=queue_arn
    )
    producer = outputs["producer_function_name"]
    clients("logs").create_log_group(logGroupName=f"/aws/lambda/{producer}")

    with LocalRuntime(
        outputs, emulator.endpoint, tmp_path / "build", tmp_path / "state",
        clock=ManualClock(time.time()), start_with_producer_run=True,
    ) as runtime:  # fmt: skip
        wait_for(lambda: runtime.stats()["functions"][producer]["dead_letters"] == 1, runtime)
        stats = runtime.stats()["functions"][producer]

    assert (stats["invocations"], stats["errors"]) == (3, 3)
    assert stats["last_error"] == (
        "ValueError: invalid literal for int() with base 10: 'not-a-number'"
    )
    now = datetime.now(UTC)
    sums = {
        metric: sum(
            point["Sum"]
            for point in clients("cloudwatch").get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": producer}],
                StartTime=now - timedelta(minutes=10),
                EndTime=now + timedelta(minutes=1),
                Period=60,
                Statistics=["Sum"],
            )["Datapoints"]
        )
        for metric in ("Invocations", "Errors", "Throttles", "DeadLetterErrors")
    }
    assert sums == {"Invocations": 3, "Errors": 3, "Throttles": 0, "DeadLetterErrors": 0}
    events = clients("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{producer}", filterPattern="ERROR"
    )["events"]
    assert [event["message"] for event in events] == [f"[ERROR] {stats['last_error']}"]
    [message] = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == {"source": "trendstream.local.start"}
    attributes = message["MessageAttributes"]
    assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert attributes["ErrorMessage"]["StringValue"].startswith("invalid literal for int()")


def test_a_step_that_keeps_failing_logs_its_traceback_once_and_counts_the_rest(
    clients: Callable[[str], Any],
    emulator: EmulatorHandle,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stream deleted under a running runtime (`make down` during `make run`): every poller
    fails each second; each says why once, and the count and last failure are in the stats for
    the live table, instead of a traceback per thread per second."""
    outputs = deploy_stack(clients, tmp_path / "build", 1)
    with LocalRuntime(
        outputs, emulator.endpoint, tmp_path / "build", tmp_path / "state",
        clock=ManualClock(time.time()),
    ) as runtime:  # fmt: skip
        caplog.set_level(logging.ERROR, logger="local_aws.runtime")
        clients("kinesis").delete_stream(StreamName=outputs["stream_name"])
        pollers = {thread.name for thread in runtime._threads} - {"eventbridge", "metrics"}
        wait_for(lambda: runtime.stats()["loop_errors"] >= 2 * len(pollers), runtime)
        stats = runtime.stats()

    failures = [record for record in caplog.records if record.exc_info]
    assert sorted(record.threadName for record in failures) == sorted(pollers)
    assert "ResourceNotFoundException" in stats["last_loop_error"]
