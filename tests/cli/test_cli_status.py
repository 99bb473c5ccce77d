"""`trendstream status`: health per resource, and the exit code that gates scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_stack import build_status_stack

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


def test_local_stack_outputs_point_boto3_at_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOCAL_AWS_PORT", "45999")
    (tmp_path / "outputs.json").write_text(json.dumps({"table_name": "t"}))

    outputs = load_stack_outputs(argparse.Namespace(outputs=None, state_dir=tmp_path))

    assert outputs == {"table_name": "t"}
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:45999"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"


def test_an_endpoint_already_set_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:40001")
    (tmp_path / "outputs.json").write_text(json.dumps({"table_name": "t"}))

    load_stack_outputs(argparse.Namespace(outputs=None, state_dir=tmp_path))

    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:40001"


def test_no_local_stack_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "is the stack up" in capsys.readouterr().err
    with pytest.raises(StackOutputsError):
        load_stack_outputs(argparse.Namespace(outputs=None, state_dir=tmp_path / "none"))
