"""PutRecords batching (moto) and partial-failure handling (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from producer_helpers import REGION, STREAM, read_stream

from producer.deadline import Deadline
from producer.kinesis_writer import (
    MAX_BYTES_PER_CALL,
    KinesisWriter,
    OutgoingRecord,
)


class CountingClient:
    """Wraps a real client to record every PutRecords request."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.batches: list[list[dict[str, Any]]] = []

    def put_records(self, **kwargs: Any) -> Any:
        self.batches.append(kwargs["Records"])
        return self._client.put_records(**kwargs)


def record(index: int, size: int = 100, tag: str = "t") -> OutgoingRecord:
    return OutgoingRecord(str(10_000 + index), b"x" * size, tag)


@pytest.mark.usefixtures("aws")
def test_records_land_with_tweet_id_partition_keys_in_batches_of_500() -> None:
    counting = CountingClient(boto3.client("kinesis", region_name=REGION))
    writer = KinesisWriter(STREAM, lambda: counting, sleep=lambda _s: None)  # type: ignore[arg-type,return-value]

    for index in range(1_201):
        writer.add(record(index))
    writer.send_full_batches()
    assert [len(batch) for batch in counting.batches] == [500, 500]  # partial batch waits
    writer.flush()

    assert [len(batch) for batch in counting.batches] == [500, 500, 201]
    landed = read_stream()
    assert sorted(item["key"] for item in landed) == sorted(str(10_000 + i) for i in range(1_201))
    assert writer.stats.put == 1_201
    assert writer.stats.calls == 3
    assert writer.is_delivered("t")


@pytest.mark.usefixtures("aws")
def test_batches_split_at_5_mib_counting_key_and_data_bytes() -> None:
    counting = CountingClient(boto3.client("kinesis", region_name=REGION))
    writer = KinesisWriter(STREAM, lambda: counting, sleep=lambda _s: None)  # type: ignore[arg-type,return-value]
    size = 400_000  # 13 of these exceed 5 MiB

    for index in range(30):
        writer.add(record(index, size=size))
    writer.flush()

    sizes = [
        sum(len(e["Data"]) + len(e["PartitionKey"]) for e in batch) for batch in counting.batches
    ]
    assert all(total <= MAX_BYTES_PER_CALL for total in sizes)
    assert [len(batch) for batch in counting.batches] == [13, 13, 4]
    assert len(read_stream()) == 30


def stubbed_writer(max_attempts: int = 3) -> tuple[KinesisWriter, Stubber, list[float]]:
    client = boto3.client("kinesis", region_name=REGION)
    stubber = Stubber(client)
    sleeps: list[float] = []
    writer = KinesisWriter(
        STREAM,
        lambda: client,
        max_attempts=max_attempts,
        sleep=sleeps.append,
        jitter=lambda: 1.0,
    )
    return writer, stubber, sleeps


def entries(records: list[OutgoingRecord]) -> list[dict[str, Any]]:
    return [{"Data": r.data, "PartitionKey": r.partition_key} for r in records]


def ok() -> dict[str, str]:
    return {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}


def throttled() -> dict[str, str]:
    return {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": "Rate exceeded for shard",
    }


def test_only_failed_entries_are_resent() -> None:
    writer, stubber, sleeps = stubbed_writer()
    batch = [record(i) for i in range(5)]
    stubber.add_response(
        "put_records",
        {
            "FailedRecordCount": 2,
            "Records": [ok(), throttled(), ok(), {"ErrorCode": "InternalFailure"}, ok()],
        },
        {"StreamName": STREAM, "Records": entries(batch)},
    )
    stubber.add_response(
        "put_records",
        {"Records": [ok(), ok()]},
        {"StreamName": STREAM, "Records": entries([batch[1], batch[3]])},
    )

    with stubber:
        for item in batch:
            writer.add(item)
        writer.flush()

    stubber.assert_no_pending_responses()
    assert writer.stats.put == 5
    assert writer.stats.retried == 2
    assert writer.stats.failed == 0
    assert writer.stats.calls == 2
    assert sleeps == [0.1]
    assert writer.is_delivered("t")


def test_failures_are_bounded_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    writer, stubber, sleeps = stubbed_writer(max_attempts=3)
    batch = [record(i, tag="alpha") for i in range(3)]
    stubber.add_response(
        "put_records",
        {"FailedRecordCount": 1, "Records": [ok(), throttled(), ok()]},
        {"StreamName": STREAM, "Records": entries(batch)},
    )
    for _ in range(2):
        stubber.add_response(
            "put_records",
            {"FailedRecordCount": 1, "Records": [throttled()]},
            {"StreamName": STREAM, "Records": entries([batch[1]])},
        )

    with stubber, caplog.at_level("WARNING"):
        for item in batch:
            writer.add(item)
        writer.flush()

    stubber.assert_no_pending_responses()
    assert writer.stats.put == 2
    assert writer.stats.failed == 1
    assert writer.stats.retried == 2
    assert dict(writer.stats.failures_by_code) == {"ProvisionedThroughputExceededException": 1}
    assert sleeps == [0.1, 0.2]
    assert not writer.is_delivered("alpha")
    assert any(r.levelname == "ERROR" and "not delivered" in r.message for r in caplog.records)


def test_a_call_that_raises_counts_every_entry_as_failed() -> None:
    writer, stubber, _ = stubbed_writer(max_attempts=2)
    batch = [record(i) for i in range(2)]
    stubber.add_client_error("put_records", "ResourceNotFoundException", http_status_code=400)
    stubber.add_client_error("put_records", "ResourceNotFoundException", http_status_code=400)

    with stubber:
        for item in batch:
            writer.add(item)
        writer.flush()

    assert writer.stats.failed == 2
    assert dict(writer.stats.failures_by_code) == {"ResourceNotFoundException": 2}


def test_no_retry_wait_past_the_time_budget() -> None:
    client = boto3.client("kinesis", region_name=REGION)
    stubber = Stubber(client)
    sleeps: list[float] = []
    writer = KinesisWriter(
        STREAM,
        lambda: client,
        deadline=Deadline(lambda: 20_050, safety_margin_seconds=20),  # 50 ms usable
        sleep=sleeps.append,
        jitter=lambda: 1.0,
    )
    stubber.add_response("put_records", {"FailedRecordCount": 1, "Records": [throttled()]})

    with stubber:
        writer.add(record(1))
        writer.flush()

    assert sleeps == []
    assert writer.stats.failed == 1


def test_an_oversized_record_is_reported_not_sent() -> None:
    writer, stubber, _ = stubbed_writer()

    with stubber:
        writer.add(OutgoingRecord("1", b"x" * (1024 * 1024), "big"))
        writer.flush()

    assert writer.stats.calls == 0
    assert dict(writer.stats.failures_by_code) == {"RecordTooLarge": 1}
    assert not writer.is_delivered("big")


class AcceptingClient:
    """Accepts everything, records the batches: for properties of the batching alone."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def put_records(self, **kwargs: Any) -> dict[str, Any]:
        self.batches.append(kwargs["Records"])
        return {"Records": [ok() for _ in kwargs["Records"]]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600_000), max_size=1_200))
def test_batches_respect_limits_and_keep_order(sizes: list[int]) -> None:
    client = AcceptingClient()
    writer = KinesisWriter(STREAM, lambda: client, sleep=lambda _s: None)  # type: ignore[arg-type,return-value]
    records = [record(index, size=size) for index, size in enumerate(sizes)]

    for item in records:
        writer.add(item)
        writer.send_full_batches()
    writer.flush()

    sent = [entry["PartitionKey"] for batch in client.batches for entry in batch]
    assert sent == [item.partition_key for item in records]
    for batch in client.batches:
        assert 1 <= len(batch) <= 500
        assert sum(len(e["Data"]) + len(e["PartitionKey"]) for e in batch) <= MAX_BYTES_PER_CALL
    # no call is wasted: each batch but the last was full by count or by the next record's size
    for batch, following in zip(client.batches, client.batches[1:], strict=False):
        used = sum(len(e["Data"]) + len(e["PartitionKey"]) for e in batch)
        next_size = len(following[0]["Data"]) + len(following[0]["PartitionKey"])
        assert len(batch) == 500 or used + next_size > MAX_BYTES_PER_CALL
    assert writer.stats.put == len(records)
