"""The handler against the moto server: the only link to the emulator is AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest
from producer_helpers import REPLAY_DATASET, FakeContext, load_event
from tests.event_table import create_event_table

pytestmark = [pytest.mark.emulator, pytest.mark.usefixtures("aws_env")]


def wait_for_stream(name: str, deadline_seconds: float = 30.0) -> None:
    kinesis = boto3.client("kinesis")
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        status = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if status["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.1)  # polling a condition with a deadline, not synchronising on time
    raise AssertionError(f"stream {name} never became ACTIVE")


def count_records(stream: str) -> int:
    kinesis = boto3.client("kinesis")
    total = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            total += len(response["Records"])
            if not response["Records"]:
                break
            iterator = response["NextShardIterator"]
    return total


def test_replay_run_twice_against_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    from producer.app import lambda_handler

    suffix = uuid.uuid4().hex[:8]
    stream, table = f"producer-e2e-{suffix}", f"producer-e2e-{suffix}"
    boto3.client("kinesis").create_stream(StreamName=stream, ShardCount=1)
    create_event_table(boto3.client("dynamodb"), table)
    wait_for_stream(stream)
    for name, value in {
        "STREAM_NAME": stream,
        "TABLE_NAME": table,
        "TWEET_SOURCE": "replay",
        "REPLAY_DATASET_URI": str(REPLAY_DATASET),
    }.items():
        monkeypatch.setenv(name, value)
    counts: dict[str, Any] = json.loads((REPLAY_DATASET / "manifest.json").read_text())["counts"]
    event = load_event("eventbridge_scheduled.json")

    first = lambda_handler(event, FakeContext())
    second = lambda_handler(event, FakeContext())

    assert first["records_put"] == counts["pairs"] == count_records(stream)
    assert second["records_put"] == 0
    assert count_records(stream) == first["records_put"]
