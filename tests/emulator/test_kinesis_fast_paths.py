"""The Kinesis PutRecords/GetRecords fast paths answer exactly as moto's own code does.

In-process tests call the fast handlers and moto's unpatched ones on the same backend state and
compare the HTTP answers byte for byte (nothing is patched in the test process: the handlers are
bound through subclasses). Over-the-wire tests run the same client calls against the patched
emulator and plain moto 5.2.5 and compare what a client sees.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.request import Request
from moto.core.responses import ActionResult
from moto.core.utils import unix_time, utcnow
from moto.kinesis.models import KinesisBackend, Record, Shard, kinesis_backends
from moto.kinesis.responses import KinesisResponse
from tests.emulator.support import Aws

from local_aws.moto_patches import kinesis as kinesis_patch
from local_aws.moto_server import ACCOUNT_ID, REGION, emulator_environment

pytestmark = pytest.mark.emulator

Answer = tuple[int, dict[str, Any], Any]


class _Fast(KinesisResponse):
    put_records = kinesis_patch.put_records_handler
    get_records = kinesis_patch.get_records_handler
    _enrich_response = staticmethod(kinesis_patch.enrich_response)


class _Moto(KinesisResponse):
    """moto's handlers, whatever the test process may have patched on the base class."""

    put_records = kinesis_patch._original_put_records_handler
    get_records = kinesis_patch._original_get_records_handler
    _enrich_response = staticmethod(kinesis_patch._original_enrich_response)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def request(target: str, payload: Any, content_type: str = "application/x-amz-json-1.1") -> Request:
    return Request.from_primitives(
        "POST",
        f"https://kinesis.{REGION}.amazonaws.com/",
        {
            "Content-Type": content_type,
            "X-Amz-Target": f"Kinesis_20131202.{target}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/"
            f"{REGION}/kinesis/aws4_request, SignedHeaders=host, Signature=0",
        },
        json.dumps(payload).encode(),
    )


def call(handler: type[KinesisResponse], target: str, payload: Any, **options: str) -> Answer:
    status, headers, body = handler.dispatch(request(target, payload, **options))
    # A fresh request id each time, and the clock's second: the only fields allowed to differ.
    headers = {
        key: value for key, value in headers.items() if key not in {"x-amzn-requestid", "date"}
    }
    return status, headers, body


def ok(handler: type[KinesisResponse], target: str, payload: Any) -> Any:
    status, _, body = call(handler, target, payload)
    assert status == 200, body
    return json.loads(body) if body else None


@pytest.fixture
def streams() -> Iterator[list[str]]:
    """Names of in-process streams to create; deleted afterwards (the backend is shared)."""
    names: list[str] = []
    yield names
    backend = kinesis_backends[ACCOUNT_ID][REGION]
    for name in names:
        backend.streams.pop(name, None)


def create(streams: list[str], shards: int) -> str:
    name = unique("stream")
    streams.append(name)
    ok(_Moto, "CreateStream", {"StreamName": name, "ShardCount": shards})
    return name


def iterators(stream: str) -> list[str]:
    shards = ok(_Moto, "ListShards", {"StreamName": stream})["Shards"]
    return [
        ok(
            _Moto,
            "GetShardIterator",
            {
                "StreamName": stream,
                "ShardId": shard["ShardId"],
                "ShardIteratorType": "TRIM_HORIZON",
            },
        )["ShardIterator"]
        for shard in shards
    ]


def mixed_records(count: int) -> list[dict[str, str]]:
    records = [
        {"Data": b64(f'{{"id": {n}, "text": "tweet ü {n}"}}'.encode()), "PartitionKey": f"k{n}"}
        for n in range(count)
    ]
    records[0] = {"Data": "", "PartitionKey": "empty"}
    records[1] = {"Data": b64(bytes(range(256))), "PartitionKey": 'quote " and ✓'}
    records[2]["ExplicitHashKey"] = str(2**127)
    return records


# --- In process: the fast answers are moto's answers ----------------------------------------


def test_put_records_answer_is_motos_byte_for_byte(streams: list[str]) -> None:
    fast_stream, moto_stream = create(streams, 3), create(streams, 3)
    records = mixed_records(40)

    fast = call(_Fast, "PutRecords", {"StreamName": fast_stream, "Records": records})
    moto = call(_Moto, "PutRecords", {"StreamName": moto_stream, "Records": records})

    assert fast == moto
    assert json.loads(fast[2])["FailedRecordCount"] == 0


def test_get_records_answer_is_motos_byte_for_byte(streams: list[str]) -> None:
    stream = create(streams, 2)
    ok(_Moto, "PutRecords", {"StreamName": stream, "Records": mixed_records(60)})
    pages = 0

    for iterator in iterators(stream):
        for limit in (7, 1, 10_000, None):
            payload: dict[str, Any] = {"ShardIterator": iterator}
            if limit is not None:
                payload["Limit"] = limit
            fast, moto = call(_Fast, "GetRecords", payload), call(_Moto, "GetRecords", payload)
            assert fast == moto
            pages += bool(json.loads(fast[2])["Records"])
        page = ok(_Fast, "GetRecords", {"ShardIterator": iterator, "Limit": 10_000})
        end = {"ShardIterator": page["NextShardIterator"]}
        assert call(_Fast, "GetRecords", end) == call(_Moto, "GetRecords", end)

    assert pages >= 4


def test_get_records_sends_data_back_in_canonical_base64(streams: list[str]) -> None:
    """moto decodes and re-encodes `Data`: a sloppy encoding comes back canonical."""
    stream = create(streams, 1)
    sloppy = ["QR==", "QUJ\nD", "QU*JD"]
    ok(
        _Moto,
        "PutRecords",
        {"StreamName": stream, "Records": [{"Data": d, "PartitionKey": "k"} for d in sloppy]},
    )
    (iterator,) = iterators(stream)

    fast = call(_Fast, "GetRecords", {"ShardIterator": iterator})
    moto = call(_Moto, "GetRecords", {"ShardIterator": iterator})

    assert fast == moto
    assert [r["Data"] for r in json.loads(fast[2])["Records"]] == ["QQ==", "QUJD", "QUJD"]


def test_millisecond_timestamps_are_truncated_as_moto_does(streams: list[str]) -> None:
    stream = create(streams, 1)
    ok(_Moto, "PutRecords", {"StreamName": stream, "Records": mixed_records(4)})
    (iterator,) = iterators(stream)
    records = kinesis_backends[ACCOUNT_ID][REGION].streams[stream].shards
    stored = list(next(iter(records.values())).records.values())
    base = datetime(2024, 2, 29, 23, 59, 59)
    for record, micro in zip(stored, (0, 999, 1_000, 999_999), strict=True):
        record.created_at_datetime = base + timedelta(microseconds=micro)

    fast = call(_Fast, "GetRecords", {"ShardIterator": iterator})

    assert fast == call(_Moto, "GetRecords", {"ShardIterator": iterator})
    assert '"ApproximateArrivalTimestamp": 1709251199,' in fast[2]
    assert '"ApproximateArrivalTimestamp": 1709251199.0,' in fast[2]
    assert '"ApproximateArrivalTimestamp": 1709251199.001,' in fast[2]
    assert '"ApproximateArrivalTimestamp": 1709251199.999,' in fast[2]


@pytest.mark.parametrize(
    ("case", "payload"),
    [
        ("too many", {"Records": [{"Data": "QQ==", "PartitionKey": "k"}] * 501}),
        ("record too big", {"Records": [{"Data": b64(b"x" * 1_048_577), "PartitionKey": "k"}]}),
        (
            "request too big",
            {"Records": [{"Data": b64(b"x" * 1_000_000), "PartitionKey": "k"}] * 6},
        ),
        ("no such stream", {"StreamName": "no-such-stream", "Records": []}),
        ("long partition key", {"Records": [{"Data": "QQ==", "PartitionKey": "k" * 257}]}),
    ],
)
def test_put_records_errors_are_motos(
    streams: list[str], case: str, payload: dict[str, Any]
) -> None:
    stream = create(streams, 1)
    body = {"StreamName": stream, **payload}

    fast = call(_Fast, "PutRecords", body)

    assert fast[0] == 400, case
    assert fast == call(_Moto, "PutRecords", body)


@pytest.mark.parametrize("iterator", ["not base64!", b64(b"no-such-stream:shardId-000000000000:0")])
def test_get_records_with_a_bad_iterator_fails_as_moto_does(iterator: str) -> None:
    outcomes = []
    for handler in (_Fast, _Moto):
        try:
            outcomes.append(call(handler, "GetRecords", {"ShardIterator": iterator}))
        except Exception as error:  # noqa: BLE001 - moto lets some escape (HTTP 500)
            outcomes.append((type(error), str(error)))
    assert outcomes[0] == outcomes[1]


def test_unusual_requests_take_motos_path() -> None:
    """A non-JSON-object body or another content type is answered by moto's own code."""
    for payload, content_type in (
        (["not", "an", "object"], "application/x-amz-json-1.1"),
        ({"ShardIterator": "x"}, "application/json"),
    ):
        outcomes = []
        for handler in (_Fast, _Moto):
            try:
                outcomes.append(call(handler, "GetRecords", payload, content_type=content_type))
            except Exception as error:  # noqa: BLE001 - moto lets some escape (HTTP 500)
                outcomes.append((type(error), str(error)))
        assert outcomes[0] == outcomes[1]


def test_partial_failure_answer_is_serialized_as_moto_does() -> None:
    """The fault wrapper's mixed result (failed and written entries) keeps moto's encoding."""
    result = {
        "FailedRecordCount": 1,
        "Records": [
            {"ShardId": "shardId-000000000000", "SequenceNumber": "7"},
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate"},
        ],
    }
    response = KinesisResponse()
    response.setup_class(request("PutRecords", {}))
    _, headers, body = response.serialized(ActionResult(result))

    payload = kinesis_patch._put_records_payload(result)
    assert payload is not None
    assert kinesis_patch._answer(payload) == (200, {"Content-Type": headers["Content-Type"]}, body)
    assert kinesis_patch._put_records_payload({**result, "Extra": 1}) is None


def test_backend_put_records_stores_what_moto_stores(streams: list[str]) -> None:
    backend = kinesis_backends[ACCOUNT_ID][REGION]
    fast_stream, moto_stream = create(streams, 4), create(streams, 4)
    records = mixed_records(300)
    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(milliseconds=1)

    fast = kinesis_patch.backend_put_records(backend, "", fast_stream, records)
    moto = kinesis_patch._original_backend_put_records(backend, "", moto_stream, records)

    assert fast == moto
    after = datetime.now(UTC).replace(tzinfo=None)
    for fast_shard, moto_shard in zip(
        backend.streams[fast_stream].shards.values(),
        backend.streams[moto_stream].shards.values(),
        strict=True,
    ):
        assert [stored_fields(r) for r in fast_shard.records.values()] == [
            stored_fields(r) for r in moto_shard.records.values()
        ]
        assert list(fast_shard.records) == [r.sequence_number for r in fast_shard.records.values()]
        for record in fast_shard.records.values():
            assert type(record) is Record
            assert before <= record.created_at_datetime <= after
            assert record.created_at == pytest.approx(
                (record.created_at_datetime - datetime(1970, 1, 1)).total_seconds(),
                abs=1e-6,
            )


def test_record_arrival_time_is_motos_to_the_millisecond() -> None:
    moto_record = Record("k", "QQ==", 1, "")
    now = utcnow()
    earliest = now.replace(microsecond=now.microsecond // 1000 * 1000)
    fast_record = Record.__new__(Record)
    kinesis_patch.record_init(fast_record, "k", "QQ==", 1, "")
    latest = utcnow()

    assert vars(fast_record).keys() == vars(moto_record).keys()
    assert stored_fields(fast_record) == stored_fields(moto_record)
    assert fast_record.created_at_datetime.tzinfo is None
    assert earliest <= fast_record.created_at_datetime <= latest
    assert fast_record.created_at == unix_time(fast_record.created_at_datetime)


def stored_fields(record: Record) -> tuple[object, ...]:
    return (record.partition_key, record.data, record.sequence_number, record.explicit_hash_key)


def test_applying_again_keeps_the_fault_wrapper_on_top(monkeypatch: pytest.MonkeyPatch) -> None:
    """`apply_all` twice must not unwrap what `faults` installed over the backend's put."""
    fault_wrapper = object()
    monkeypatch.setattr(KinesisBackend, "put_records", fault_wrapper)
    for cls, names in (
        (KinesisResponse, ("create_stream", "put_records", "get_records", "_enrich_response")),
        (Shard, ("get_max_sequence_number", "get_min_sequence_number", "get_records")),
        (Record, ("__init__",)),
    ):
        for name in names:  # restored by monkeypatch after the test
            monkeypatch.setattr(cls, name, None, raising=False)

    kinesis_patch.apply()

    assert KinesisBackend.put_records is fault_wrapper
    assert KinesisResponse.put_records is kinesis_patch.put_records_handler


# --- Over the wire: a client sees what it saw before the patch ------------------------------


def kinesis_client(endpoint: str) -> Any:
    environment = emulator_environment(endpoint)
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


@pytest.fixture(params=["patched", "vanilla"])
def endpoint(request: pytest.FixtureRequest, patched: Aws) -> str:
    """The patched emulator, and plain moto: both must pass every behaviour test."""
    if request.param == "patched":
        return patched.endpoint
    return str(request.getfixturevalue("vanilla_moto"))


def read_shard(kinesis: Any, stream: str, shard_id: str, limit: int) -> list[dict[str, Any]]:
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    pages = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        pages.append(page)
        if not page["Records"]:
            return pages
        assert page["NextShardIterator"] != iterator
        iterator = page["NextShardIterator"]


def test_round_trip_returns_every_record_in_order(endpoint: str) -> None:
    kinesis = kinesis_client(endpoint)
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    sent = [f'{{"n": {n}}}'.encode() for n in range(1_200)]
    started = datetime.now(UTC)
    written: dict[str, list[tuple[str, bytes]]] = {}
    for start in range(0, len(sent), 500):
        batch = sent[start : start + 500]
        answer = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": data, "PartitionKey": data.decode()} for data in batch],
        )
        assert answer["FailedRecordCount"] == 0
        assert "EncryptionType" not in answer
        for data, entry in zip(batch, answer["Records"], strict=True):
            assert set(entry) == {"SequenceNumber", "ShardId"}
            written.setdefault(entry["ShardId"], []).append((entry["SequenceNumber"], data))

    received: list[bytes] = []
    for shard_id, expected in written.items():
        pages = read_shard(kinesis, stream, shard_id, limit=100)
        records = [record for page in pages for record in page["Records"]]
        assert [(r["SequenceNumber"], r["Data"]) for r in records] == expected
        sequences = [int(r["SequenceNumber"]) for r in records]
        assert sequences == sorted(set(sequences))
        for record in records:
            assert set(record) == {
                "SequenceNumber",
                "ApproximateArrivalTimestamp",
                "Data",
                "PartitionKey",
            }
            assert record["PartitionKey"] == record["Data"].decode()
            arrival = record["ApproximateArrivalTimestamp"]
            assert started - timedelta(seconds=1) <= arrival <= datetime.now(UTC)
        assert all(isinstance(page["MillisBehindLatest"], int) for page in pages)
        assert pages[-1]["MillisBehindLatest"] == 0
        assert [set(page) - {"ResponseMetadata"} for page in pages] == [
            {"Records", "NextShardIterator", "MillisBehindLatest"}
        ] * len(pages)
        received += [record["Data"] for record in records]
    assert sorted(received) == sorted(sent)


def test_next_iterator_continues_after_the_last_record(endpoint: str) -> None:
    kinesis = kinesis_client(endpoint)
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.put_records(StreamName=stream, Records=[{"Data": b"first", "PartitionKey": "k"}] * 3)
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    empty = kinesis.get_records(ShardIterator=iterator)
    assert empty["Records"] == []
    assert empty["MillisBehindLatest"] == 0

    kinesis.put_records(StreamName=stream, Records=[{"Data": b"second", "PartitionKey": "k"}] * 2)
    first = kinesis.get_records(ShardIterator=empty["NextShardIterator"], Limit=1)
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"])

    assert [r["Data"] for r in first["Records"] + rest["Records"]] == [b"second", b"second"]
    assert int(first["Records"][0]["SequenceNumber"]) + 1 == int(
        rest["Records"][0]["SequenceNumber"]
    )


def test_encrypted_stream_answers_as_moto_does(endpoint: str) -> None:
    kinesis = kinesis_client(endpoint)
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.start_stream_encryption(
        StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis"
    )

    answer = kinesis.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}])
    shard_id = answer["Records"][0]["ShardId"]
    (page, _) = read_shard(kinesis, stream, shard_id, limit=10)

    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["EncryptionType"] == "KMS"
    assert "EncryptionType" not in answer  # moto 5.2.5 never reports it on writes or reads
    assert "EncryptionType" not in page["Records"][0]


def error_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_errors_a_client_sees_are_unchanged(patched: Aws, vanilla_moto: str) -> None:
    outcomes = []
    for endpoint in (patched.endpoint, vanilla_moto):
        kinesis = kinesis_client(endpoint)
        stream = unique("stream")
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        valid = base64.b64encode(f"{stream}:{shard_id}:0".encode()).decode()
        unknown = base64.b64encode(f"missing-{stream}:{shard_id}:0".encode()).decode()
        outcomes.append(
            [
                error_of(
                    lambda k=kinesis, s=stream: k.put_records(
                        StreamName=s, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501
                    )
                ),
                error_of(
                    lambda k=kinesis, s=stream: k.put_records(
                        StreamName=s, Records=[{"Data": b"x" * 1_048_577, "PartitionKey": "k"}]
                    )
                ),
                error_of(
                    lambda k=kinesis: k.put_records(
                        StreamName=unique("missing"), Records=[{"Data": b"x", "PartitionKey": "k"}]
                    )
                ),
                error_of(lambda k=kinesis: k.get_records(ShardIterator="not base64!")),
                error_of(lambda k=kinesis, i=unknown: k.get_records(ShardIterator=i)),
            ]
        )
        assert kinesis.get_records(ShardIterator=valid)["Records"] == []
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("ValidationException", 400)
