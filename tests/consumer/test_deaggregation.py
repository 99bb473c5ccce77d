"""KPL-aggregated records in the consumer: deaggregation, exactly once, quarantine, failures.

Kinesis Data Streams developer guide, "Consumer-side deaggregation"
(https://docs.aws.amazon.com/streams/latest/dev/kinesis-kpl-consumer-deaggregation.html): a
Lambda consumer receives aggregated records as the KPL wrote them (magic prefix, protobuf body,
MD5 digest) and deaggregates them with AWS's module (``aws_kinesis_agg`` in Python); each user
record keeps the Kinesis record's sequence number and has its own sub-sequence number. Lambda
developer guide, "Using batch item failures with Kinesis": the ``itemIdentifier`` is a Kinesis
record's sequence number, and Lambda redelivers the shard from the lowest one reported.

The event fixture ``kinesis_kpl.json`` is AWS's sample Kinesis event with data made by AWS's
aggregator: an aggregate of four user records (the third poison), a plain record, an aggregate
whose MD5 digest is wrong, and an aggregate of two.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import aws_kinesis_agg
import boto3
import pytest
from aws_kinesis_agg.deaggregator import messages_pb2
from tests.consumer.consumer_helpers import BUCKET, FakeLambdaContext, items_with_prefix
from tests.kpl_records import aggregate, corrupt
from tests.tweet_record.tweet_samples import load_event, record_bytes

from consumer.deaggregation import is_aggregated, user_records
from tweet_record.parse import RecordRejectedError, RejectReason

SHARD = "shardId-000000000000"
GOOD_TWEETS = {f"15785160683097949{i:02d}" for i in (0, 1, 3, 4, 5, 6)}


def failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def decoded(record: dict[str, Any]) -> tuple[str, bytes]:
    return record["kinesis"]["data"], base64.b64decode(record["kinesis"]["data"])


def quarantined() -> dict[str, dict[str, Any]]:
    s3 = boto3.client("s3")
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/").get("Contents", [])
    return {
        entry["Key"]: json.loads(s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read())
        for entry in listing
    }


# --- the deaggregation step -------------------------------------------------------------------


def test_user_records_come_out_in_order_with_their_keys_and_sub_sequence_numbers() -> None:
    partition_key, data = aggregate([("k0", b"zero"), ("k1", b"one"), ("k0", b"two")])
    encoded = base64.b64encode(data).decode()

    assert is_aggregated(data)
    users = user_records(encoded, data, "4959")

    assert [(u.subsequence, u.partition_key, u.data) for u in users] == [
        (0, "k0", b"zero"),
        (1, "k1", b"one"),
        (2, "k0", b"two"),
    ]
    assert partition_key == "k0"


def test_a_plain_record_is_not_an_aggregate() -> None:
    assert not is_aggregated(record_bytes())
    assert not is_aggregated(b"")


def test_an_aggregate_failing_its_md5_check_is_rejected_naming_it() -> None:
    _, data = aggregate([("k", b"one")])
    bad = corrupt(data)

    with pytest.raises(RecordRejectedError) as rejected:
        user_records(base64.b64encode(bad).decode(), bad, "4959")

    assert rejected.value.reason is RejectReason.CORRUPT_AGGREGATE
    assert "MD5" in rejected.value.detail


def test_a_truncated_aggregate_is_rejected() -> None:
    data = aws_kinesis_agg.MAGIC + b"\x01\x02"

    with pytest.raises(RecordRejectedError, match="too short"):
        user_records(base64.b64encode(data).decode(), data, "4959")


def test_a_body_that_is_not_an_aggregate_is_rejected_even_with_a_good_digest() -> None:
    body = b"\xff\xff\xff not protobuf"
    data = aws_kinesis_agg.MAGIC + body + hashlib.md5(body).digest()  # noqa: S324 - the format's

    with pytest.raises(RecordRejectedError, match="not a valid AggregatedRecord"):
        user_records(base64.b64encode(data).decode(), data, "4959")


def test_an_aggregate_the_module_cannot_split_is_rejected_whole_not_cut_short() -> None:
    """aws_kinesis_agg stops at a user record whose partition key index is out of range and only
    prints the error: the user records before it must not be taken as the whole aggregate."""
    message = messages_pb2.AggregatedRecord()
    message.partition_key_table.append("k0")
    first = message.records.add()
    first.partition_key_index = 0
    first.data = b"one"
    second = message.records.add()
    second.partition_key_index = 7
    second.data = b"two"
    body = message.SerializeToString()
    data = aws_kinesis_agg.MAGIC + body + hashlib.md5(body).digest()  # noqa: S324 - the format's

    with pytest.raises(RecordRejectedError) as rejected:
        user_records(base64.b64encode(data).decode(), data, "4959")
    assert rejected.value.reason is RejectReason.CORRUPT_AGGREGATE


# --- the consumer on AWS-shaped events ----------------------------------------------------------


def test_every_user_record_is_stored_once_with_its_sub_sequence_number_in_its_origin(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("kinesis_kpl.json")
    sequences = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]

    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    tweets = {item["tweet_id"]["S"]: item for item in items_with_prefix("TWEET#")}
    assert set(tweets) == GOOD_TWEETS
    assert tweets["1578516068309794900"]["origin"]["S"] == f"{SHARD}:{sequences[0]}:0"
    assert tweets["1578516068309794903"]["origin"]["S"] == f"{SHARD}:{sequences[0]}:3"
    assert tweets["1578516068309794904"]["origin"]["S"] == f"{SHARD}:{sequences[1]}"
    assert tweets["1578516068309794906"]["origin"]["S"] == f"{SHARD}:{sequences[3]}:1"
    counted = sum(int(item["tweet_count"]["N"]) for item in items_with_prefix("MINUTE#"))
    assert counted == len(GOOD_TWEETS)


def test_a_poison_user_record_is_quarantined_alone_naming_its_sub_sequence_number(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("kinesis_kpl.json")
    sequence = event["Records"][0]["kinesis"]["sequenceNumber"]
    _, aggregated = decoded(event["Records"][0])
    poison = user_records(event["Records"][0]["kinesis"]["data"], aggregated, sequence)[2]

    consumer_app.lambda_handler(event, lambda_context)

    [(key, document)] = [
        (key, document)
        for key, document in quarantined().items()
        if document["sequence_number"] == sequence
    ]
    assert key.endswith(f"/{SHARD}-{sequence}-2.json")
    assert document["sub_sequence_number"] == 2
    assert document["partition_key"] == "poison"
    assert base64.b64decode(document["data_base64"]) == poison.data
    assert document["reason"] == "MISSING_FIELD"


def test_a_corrupt_aggregate_is_quarantined_whole_with_its_reason(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("kinesis_kpl.json")
    record = event["Records"][2]
    sequence = record["kinesis"]["sequenceNumber"]

    consumer_app.lambda_handler(event, lambda_context)

    [(key, document)] = [
        (key, document)
        for key, document in quarantined().items()
        if document["sequence_number"] == sequence
    ]
    assert key.endswith(f"/{SHARD}-{sequence}.json")
    assert "sub_sequence_number" not in document
    assert document["reason"] == "CORRUPT_AGGREGATE"
    assert "MD5" in document["detail"]
    assert document["data_base64"] == record["kinesis"]["data"]
    assert len(quarantined()) == 2


def test_the_same_event_twice_leaves_the_table_as_one_delivery(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("kinesis_kpl.json")
    consumer_app.lambda_handler(event, lambda_context)
    once = items_with_prefix("")

    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []
    assert items_with_prefix("") == once


def test_a_failure_inside_an_aggregate_reports_it_and_redelivery_counts_nothing_twice(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The put of the aggregate's fourth user record fails: the aggregate's sequence number is
    the item identifier (the records after it in the shard are reported too, as Lambda
    redelivers from the lowest). Its first two user records were stored and counted; Lambda
    redelivers from the aggregate, and they are not counted again."""
    from botocore.exceptions import ClientError

    event = load_event("kinesis_kpl.json")
    sequences = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    client = consumer_app.dynamodb()
    put_item = client.put_item

    def fourth_fails(**request: Any) -> Any:
        if request["Item"]["tweet_id"]["S"] == "1578516068309794903":
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "try again"}}, "PutItem"
            )
        return put_item(**request)

    with monkeypatch.context() as patch:
        patch.setattr(client, "put_item", fourth_fails)
        response = consumer_app.lambda_handler(event, lambda_context)
    assert failures(response)[0] == sequences[0]
    assert sequences[2] not in failures(response)  # quarantined: processed
    counted = sum(int(item["tweet_count"]["N"]) for item in items_with_prefix("MINUTE#"))
    assert counted == 2  # the user records before the failure, and nothing after it

    start = failures(response)[0]
    redelivery = {
        "Records": [
            r for r in event["Records"] if int(r["kinesis"]["sequenceNumber"]) >= int(start)
        ]
    }
    assert failures(consumer_app.lambda_handler(redelivery, lambda_context)) == []

    assert {item["tweet_id"]["S"] for item in items_with_prefix("TWEET#")} == GOOD_TWEETS
    counted = sum(int(item["tweet_count"]["N"]) for item in items_with_prefix("MINUTE#"))
    assert counted == len(GOOD_TWEETS)
