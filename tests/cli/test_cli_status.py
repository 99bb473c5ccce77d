"""`trendstream status`: health per resource, and the exit code that gates scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_stack import build_status_stack

from local_aws.moto_server import EmulatorHandle, start_emulator, stop_emulator
from trendstream_cli.main import main
from trendstream_cli.outputs import StackOutputsError, load_stack_outputs, read_outputs_file
from trendstream_cli.status import (
    Check,
    collect_status,
    count_items,
    is_healthy,
    iterator_age_ms,
)

PREFIX = "trendstream-local"
BUCKET = f"{PREFIX}-lake"


@pytest.fixture
def stack(aws: boto3.session.Session) -> dict[str, Any]:
    return build_status_stack(aws, PREFIX)


def by_resource(checks: list[Check]) -> dict[tuple[str, str], Check]:
    return {(check.resource, check.name): check for check in checks}


def test_healthy_stack_reports_every_resource(stack: dict[str, Any]) -> None:
    checks = collect_status(stack["outputs"], session=stack["session"])
    rows = by_resource(checks)

    assert [check for check in checks if check.health != "ok"] == []
    assert is_healthy(checks, strict=True)
    assert rows[("kinesis stream", f"{PREFIX}-tweets")].detail.startswith(
        "ACTIVE, 2 open shard(s), iterator age n/a"
    )
    assert rows[("dynamodb table", f"{PREFIX}-EventData")].detail.startswith("ACTIVE, 25 items")
    assert rows[("s3 lake", f"s3://{BUCKET}/tweets/")].detail == "2 objects, 150 B"
    assert rows[("s3 lake", f"s3://{BUCKET}/quarantine/")].detail == "0 objects, 0 B"
    assert rows[("firehose", f"{PREFIX}-lake")].detail == "ACTIVE"
    assert rows[("event source mapping", f"{PREFIX}-consumer <- stream")].detail.startswith(
        "Enabled, batch size 100"
    )
    assert {check.name for check in checks if check.resource == "lambda function"} == {
        f"{PREFIX}-producer",
        f"{PREFIX}-consumer",
        f"{PREFIX}-firehose-transformer",
        f"{PREFIX}-api",
    }
    assert {check.name for check in checks if check.resource == "alarm"} == {
        f"{PREFIX}-consumer-errors",
        f"{PREFIX}-iterator-age",
    }
    assert rows[("on-failure queue", f"{PREFIX}-consumer-failures")].health == "ok"


def test_quarantine_and_failed_batches_warn(stack: dict[str, Any]) -> None:
    session = stack["session"]
    session.client("s3").put_object(
        Bucket=BUCKET, Key="quarantine/consumer/year=2026/month=11/day=22/hour=10/q", Body=b"q" * 10
    )
    session.client("sqs").send_message(
        QueueUrl=stack["outputs"]["on_failure_queue_url"], MessageBody="{}"
    )

    checks = collect_status(stack["outputs"], session=session)
    rows = by_resource(checks)

    assert rows[("s3 lake", f"s3://{BUCKET}/quarantine/")] == Check(
        "s3 lake", f"s3://{BUCKET}/quarantine/", "warn", "1 object, 10 B"
    )
    assert rows[("on-failure queue", f"{PREFIX}-consumer-failures")].health == "warn"
    assert is_healthy(checks)
    assert not is_healthy(checks, strict=True)


def test_firing_alarm_and_disabled_mapping_fail(stack: dict[str, Any]) -> None:
    session = stack["session"]
    session.client("cloudwatch").set_alarm_state(
        AlarmName=f"{PREFIX}-consumer-errors", StateValue="ALARM", StateReason="3 errors"
    )
    session.client("lambda").update_event_source_mapping(UUID=stack["mapping_uuid"], Enabled=False)

    checks = collect_status(stack["outputs"], session=session)
    failing = {(check.resource, check.name) for check in checks if check.health == "fail"}

    assert failing == {
        ("alarm", f"{PREFIX}-consumer-errors"),
        ("event source mapping", f"{PREFIX}-consumer <- stream"),
    }
    assert by_resource(checks)[("alarm", f"{PREFIX}-consumer-errors")].detail == "ALARM: 3 errors"
    assert not is_healthy(checks)


def test_alarm_without_data_is_healthy_and_says_why(stack: dict[str, Any]) -> None:
    """Every alarm starts in INSUFFICIENT_DATA (PutMetricAlarm, CloudWatch API reference)."""
    session = stack["session"]
    session.client("cloudwatch").set_alarm_state(
        AlarmName=f"{PREFIX}-consumer-errors",
        StateValue="INSUFFICIENT_DATA",
        StateReason="Unchecked: Initial alarm creation",
    )

    checks = collect_status(stack["outputs"], session=session)

    alarm = by_resource(checks)[("alarm", f"{PREFIX}-consumer-errors")]
    assert (alarm.health, alarm.detail) == (
        "ok",
        "INSUFFICIENT_DATA: Unchecked: Initial alarm creation",
    )


def test_missing_resources_fail_without_stopping_the_report(stack: dict[str, Any]) -> None:
    outputs = {**stack["outputs"], "table_name": "gone", "delivery_stream_name": "gone-too"}
    del outputs["on_failure_queue_url"]

    checks = collect_status(outputs, session=stack["session"])
    rows = by_resource(checks)

    assert rows[("dynamodb table", "gone")].health == "fail"
    assert "ResourceNotFoundException" in rows[("dynamodb table", "gone")].detail
    assert rows[("firehose", "gone-too")].health == "fail"
    assert rows[("on-failure queue", "-")].health == "warn"
    assert rows[("kinesis stream", f"{PREFIX}-tweets")].health == "ok"


def test_item_count_scan_is_bounded(stack: dict[str, Any]) -> None:
    dynamodb = stack["session"].client("dynamodb")

    assert count_items(dynamodb, f"{PREFIX}-EventData", 10) == (10, False)
    assert count_items(dynamodb, f"{PREFIX}-EventData", 1000) == (25, True)
    checks = collect_status(stack["outputs"], session=stack["session"], scan_limit=10)
    detail = by_resource(checks)[("dynamodb table", f"{PREFIX}-EventData")].detail
    assert ">= 10 (scan stopped at 10)" in detail


def test_iterator_age_from_cloudwatch(stack: dict[str, Any]) -> None:
    session = stack["session"]
    now = dt.datetime.now(dt.UTC)
    session.client("cloudwatch").put_metric_data(
        Namespace="AWS/Kinesis",
        MetricData=[
            {
                "MetricName": "GetRecords.IteratorAgeMilliseconds",
                "Dimensions": [{"Name": "StreamName", "Value": f"{PREFIX}-tweets"}],
                "Timestamp": now - dt.timedelta(minutes=2),
                "Value": value,
            }
            for value in (1_500.0, 90_000.0)
        ],
    )

    age = iterator_age_ms(session.client("cloudwatch"), f"{PREFIX}-tweets", now)
    checks = collect_status(stack["outputs"], session=session, now=now)

    assert age == 90_000.0
    stream = by_resource(checks)[("kinesis stream", f"{PREFIX}-tweets")]
    assert (stream.health, stream.detail) == (
        "warn",
        "ACTIVE, 2 open shard(s), iterator age 90.0 s",
    )


def test_outputs_file_accepts_terraform_json_and_flat(tmp_path: Path) -> None:
    terraform = tmp_path / "tf.json"
    terraform.write_text(json.dumps({"table_name": {"value": "t", "type": "string"}}))
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"table_name": "t"}))

    assert read_outputs_file(terraform) == read_outputs_file(flat) == {"table_name": "t"}


def _write_outputs(path: Path, outputs: dict[str, Any]) -> Path:
    path.write_text(json.dumps({key: {"value": value} for key, value in outputs.items()}))
    return path


def test_command_exit_code_follows_health(
    stack: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = _write_outputs(tmp_path / "outputs.json", stack["outputs"])

    assert main(["status", "--outputs", str(outputs), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["health"] for row in rows} == {"ok"}

    stack["session"].client("sqs").send_message(
        QueueUrl=stack["outputs"]["on_failure_queue_url"], MessageBody="{}"
    )
    assert main(["status", "--outputs", str(outputs)]) == 0
    assert "warn" in capsys.readouterr().out
    assert main(["status", "--outputs", str(outputs), "--strict"]) == 1
    capsys.readouterr()

    stack["session"].client("kinesis").delete_stream(StreamName=f"{PREFIX}-tweets")
    assert main(["status", "--outputs", str(outputs), "--format", "json"]) == 1
    failing = [row for row in json.loads(capsys.readouterr().out) if row["health"] == "fail"]
    assert [(row["resource"], row["detail"].split(":")[0]) for row in failing] == [
        ("kinesis stream", "ResourceNotFoundException")
    ]


@pytest.fixture
def local_stack_dir(tmp_path: Path) -> Iterator[tuple[Path, EmulatorHandle]]:
    """A state directory as `trendstream up` leaves it: outputs and a running emulator."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "outputs.json").write_text(json.dumps({"table_name": "t"}))
    handle = start_emulator(0, pid_file=state_dir / "emulator.pid")
    try:
        yield state_dir, handle
    finally:
        stop_emulator(handle, pid_file=state_dir / "emulator.pid")


@pytest.mark.emulator
def test_the_local_stack_is_found_from_its_own_record(
    local_stack_dir: tuple[Path, EmulatorHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status`, `tail` and `query` find the local stack as `run` does, from the emulator `up`
    started for its state directory: neither LOCAL_AWS_PORT nor a stale AWS_ENDPOINT_URL can
    make them read another stack."""
    state_dir, handle = local_stack_dir
    monkeypatch.setenv("LOCAL_AWS_PORT", "45999")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:40001")

    outputs = load_stack_outputs(argparse.Namespace(outputs=None, state_dir=state_dir))

    assert outputs == {"table_name": "t"}
    assert os.environ["AWS_ENDPOINT_URL"] == handle.endpoint
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"


def test_a_stopped_emulator_is_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps({"table_name": "t", "stream_name": "s"}))
    (tmp_path / "emulator.pid").write_text("99999999\n")

    assert main(["status", "--state-dir", str(tmp_path)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("emulator is not running") == 1
    assert "make up" in captured.err


def test_an_unreachable_endpoint_is_one_error_not_one_per_resource(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    # Bound, never listening, held until the end: connections are refused, and no other test
    # process can take the port meanwhile.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    request.addfinalizer(closed.close)
    closed_port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    outputs = _write_outputs(
        tmp_path / "outputs.json",
        {"stream_name": f"{PREFIX}-tweets", "table_name": f"{PREFIX}-EventData"},
    )

    code = main(["status", "--outputs", str(outputs)])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("cannot reach") == 1
    assert "Traceback" not in captured.err


def test_no_local_stack_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "is the stack up" in capsys.readouterr().err
    with pytest.raises(StackOutputsError):
        load_stack_outputs(argparse.Namespace(outputs=None, state_dir=tmp_path / "none"))


def _put_function_metrics(session: boto3.session.Session, function: str, **sums: float) -> None:
    session.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
                "Value": value,
                "Unit": "Count",
            }
            for metric, value in sums.items()
        ],
    )


def test_a_producer_failing_every_run_fails_with_its_last_error(stack: dict[str, Any]) -> None:
    """Lambda's metrics ("Working with Lambda function metrics"): Invocations, Errors, Throttles
    and DeadLetterErrors per FunctionName in AWS/Lambda, the metrics the stack's alarms watch;
    the error itself is in the function's log group. A producer whose every run failed is not
    `ok` (it once was, with a wrong TWEET_SOURCE)."""
    session = stack["session"]
    producer = f"{PREFIX}-producer"
    _put_function_metrics(session, producer, Invocations=3, Errors=3)
    logs = session.client("logs")
    logs.create_log_group(logGroupName=f"/aws/lambda/{producer}")
    logs.create_log_stream(logGroupName=f"/aws/lambda/{producer}", logStreamName="s")
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=f"/aws/lambda/{producer}",
        logStreamName="s",
        logEvents=[
            {"timestamp": now_ms - 2000, "message": "[ERROR] old error"},
            {"timestamp": now_ms - 1000, "message": "START RequestId: 1"},
            {
                "timestamp": now_ms - 500,
                "message": "[ERROR] ConfigurationError: TWEET_SOURCE must be x or replay",
            },
        ],
    )
    _put_function_metrics(session, f"{PREFIX}-consumer", Invocations=10, Errors=1)

    checks = collect_status(stack["outputs"], session=session)
    rows = by_resource(checks)

    failing = rows[("lambda function", producer)]
    assert failing.health == "fail"
    assert "last 15 min: 3 invocations, 3 errors, 0 throttles" in failing.detail
    assert failing.detail.endswith(
        "last error: [ERROR] ConfigurationError: TWEET_SOURCE must be x or replay"
    )
    assert rows[("lambda function", f"{PREFIX}-consumer")].health == "warn"
    transformer = rows[("lambda function", f"{PREFIX}-firehose-transformer")]
    assert (transformer.health, transformer.detail.split("; ")[1]) == (
        "ok",
        "last 15 min: 0 invocations, 0 errors, 0 throttles",
    )
    assert not is_healthy(checks)


def test_the_api_function_is_listed_with_its_invocations_and_errors(
    stack: dict[str, Any],
) -> None:
    """The read API is one of the stack's functions (its `api_function_name` output): status
    shows what it did, as for the pipeline's functions."""
    session = stack["session"]
    _put_function_metrics(session, f"{PREFIX}-api", Invocations=7, Errors=2)

    rows = by_resource(collect_status(stack["outputs"], session=session))

    api = rows[("lambda function", f"{PREFIX}-api")]
    assert api.health == "warn"
    assert "last 15 min: 7 invocations, 2 errors, 0 throttles" in api.detail


def test_every_function_output_is_a_function_of_the_stack(stack: dict[str, Any]) -> None:
    """No list of functions kept beside the outputs: a function Terraform names in an output
    `<role>_function_name` is checked, one missing from the outputs is not."""
    outputs = {**stack["outputs"], "audit_function_name": f"{PREFIX}-audit"}
    del outputs["producer_function_name"]

    rows = by_resource(collect_status(outputs, session=stack["session"]))

    functions = {name for resource, name in rows if resource == "lambda function"}
    assert functions == {
        f"{PREFIX}-consumer", f"{PREFIX}-firehose-transformer", f"{PREFIX}-api", f"{PREFIX}-audit"
    }  # fmt: skip
    assert rows[("lambda function", f"{PREFIX}-audit")].health == "fail"


def test_dead_letters_and_throttles_warn(stack: dict[str, Any]) -> None:
    session = stack["session"]
    _put_function_metrics(session, f"{PREFIX}-consumer", Invocations=10, Throttles=2)
    session.client("sqs").send_message(
        QueueUrl=stack["outputs"]["producer_dead_letter_queue_url"], MessageBody="{}"
    )

    rows = by_resource(collect_status(stack["outputs"], session=session))

    assert rows[("lambda function", f"{PREFIX}-consumer")].health == "warn"
    queue = rows[("dead-letter queue", f"{PREFIX}-producer-dlq")]
    assert (queue.health, queue.detail) == (
        "warn",
        "1 failed producer event(s) waiting, 0 in flight",
    )
