"""`query` and `tail` end to end through the patched moto server, over HTTP like the real CLI.

In process, moto answers from Python; the server answers on the wire, where the commands meet
what the emulator really implements (it lacks BatchGetNamedQuery: `query` reads named queries
one by one there).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import boto3
import pytest
from cli_stack import REGION, build_lake_stack, build_status_stack, lake_row
from tests.event_table import create_event_table

from trendstream_cli.main import main

pytestmark = pytest.mark.emulator


def _outputs_file(path: Path, outputs: dict[str, str]) -> Path:
    path.write_text(json.dumps({key: {"value": value} for key, value in outputs.items()}))
    return path


def test_named_query_over_the_emulators_lake(
    aws_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.session.Session(region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    stack = build_lake_stack(
        session,
        bucket=f"cli-query-{suffix}",
        database=f"cli_query_{suffix}",
        workgroup=f"cli-query-{suffix}",
    )
    now = dt.datetime.now(dt.UTC)
    stack.put_tweets([lake_row("1", now, topic="#A", author="a", hashtags=("Rust", "duckdb"))])
    stack.put_tweets(
        [lake_row("2", now - dt.timedelta(hours=2), topic="#B", author="b", hashtags=("rust",))],
        compress=True,
    )
    outputs = _outputs_file(tmp_path / "outputs.json", stack.outputs)

    code = main(["query", "--outputs", str(outputs), "--format", "json", "Top-Hashtags"])

    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"hashtag": "rust", "tweets": 2},
        {"hashtag": "duckdb", "tweets": 1},
    ]


def test_tail_over_the_emulators_table(
    aws_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb = boto3.session.Session(region_name=REGION).client("dynamodb")
    table = f"cli-tail-{uuid.uuid4().hex[:8]}"
    create_event_table(dynamodb, table)
    for minute in range(3):
        created = f"2026-11-22T10:0{minute}:00.000Z"
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": "TOPIC##A"},
                "sk": {"S": f"TWEET#{created}#{minute}"},
                "tweet_id": {"S": str(minute)},
                "created_at": {"S": created},
                "text": {"S": f"tweet {minute}"},
            },
        )
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": "TOPIC##A"}, "sk": {"S": f"MINUTE#2026-11-22T10:0{minute}"}},
        )
    outputs = _outputs_file(tmp_path / "outputs.json", {"table_name": table})

    code = main(["tail", "--outputs", str(outputs), "--limit", "2", "--format", "json"])

    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["topic"], row["tweet_id"]) for row in rows] == [("#A", "2"), ("#A", "1")]


def test_status_of_a_healthy_stack_on_the_emulator(
    aws_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = boto3.session.Session(region_name=REGION)
    stack = build_status_stack(session, f"cli-status-{uuid.uuid4().hex[:8]}")
    outputs = _outputs_file(tmp_path / "outputs.json", stack["outputs"])

    code = main(["status", "--outputs", str(outputs), "--format", "json", "--strict"])

    rows = json.loads(capsys.readouterr().out)
    assert [row for row in rows if row["health"] != "ok"] == []
    assert code == 0
    assert {row["resource"] for row in rows} == {
        "kinesis stream", "dynamodb table", "s3 lake", "lambda function",
        "event source mapping", "firehose", "athena", "on-failure queue", "dead-letter queue",
        "alarm",
    }  # fmt: skip
