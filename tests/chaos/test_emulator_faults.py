"""The emulator side of the seam answers faults in AWS's shapes, and only writes what it says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_aws import fault_plan
from local_aws.moto_server import (
    EmulatorHandle,
    emulator_environment,
    start_emulator,
    stop_emulator,
)

pytestmark = [pytest.mark.emulator]


@contextmanager
def emulator_with_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, document: dict[str, Any]
) -> Iterator[tuple[EmulatorHandle, Path]]:
    plan = tmp_path / "fault_plan.json"
    plan.write_text(json.dumps(document))
    monkeypatch.setenv(fault_plan.ENVIRONMENT_VARIABLE, str(plan))
    handle = start_emulator(0, log_file=tmp_path / "emulator.log")
    try:
        yield handle, plan
    finally:
        stop_emulator(handle)


@pytest.fixture
def faulty_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[EmulatorHandle, Path]]:
    document = {
        "kinesis": {"put_records_fail_every": 2, "max": 2},
    }
    with emulator_with_plan(tmp_path, monkeypatch, document) as emulator:
        yield emulator


def client(endpoint: str, service: str) -> Any:
    environment = emulator_environment(endpoint)
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=environment["AWS_REGION"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def table_t(endpoint: str) -> Any:
    """A DynamoDB client on the emulator, with an empty table `t` keyed by `pk`."""
    dynamodb = client(endpoint, "dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def test_dynamodb_throttles_the_consumers_put_and_update_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer writes with PutItem and UpdateItem: the throttle fault must reach them."""
    document = {"dynamodb": {"throttle_every": 2, "max": 2}}
    with emulator_with_plan(tmp_path, monkeypatch, document) as (handle, plan):
        dynamodb = table_t(handle.endpoint)
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
        with pytest.raises(ClientError) as put_throttled:
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "b"}})
        update = {
            "TableName": "t",
            "Key": {"pk": {"S": "a"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        dynamodb.update_item(**update)
        with pytest.raises(ClientError) as update_throttled:
            dynamodb.update_item(**update)
        dynamodb.update_item(**update)  # the cap (2) is reached

        for throttled in (put_throttled, update_throttled):
            assert throttled.value.response["Error"]["Code"] == fault_plan.THROTTLE_CODE
        items = {i["pk"]["S"]: i for i in dynamodb.scan(TableName="t")["Items"]}
        assert set(items) == {"a"}, "a throttled put writes nothing"
        assert items["a"]["n"] == {"N": "2"}, "a throttled update changes nothing"
        assert fault_plan.read_fired(plan)[fault_plan.DYNAMODB_THROTTLE] == 2


def test_put_records_fails_entries_with_throughput_errors(
    faulty_emulator: tuple[EmulatorHandle, Path],
) -> None:
    handle, plan = faulty_emulator
    kinesis = client(handle.endpoint, "kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="s")
    records = [{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"} for i in range(6)]

    response = kinesis.put_records(StreamName="s", Records=records)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["FailedRecordCount"] == 2
    codes = [entry.get("ErrorCode") for entry in response["Records"]]
    assert codes == [None, fault_plan.THROTTLE_CODE, None, fault_plan.THROTTLE_CODE, None, None]
    assert all("ErrorMessage" in response["Records"][i] for i in (1, 3))
    shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    on_stream = [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
    assert on_stream == [b"r0", b"r2", b"r4", b"r5"]
    assert fault_plan.read_fired(plan)[fault_plan.KINESIS_FAILED_ENTRIES] == 2
