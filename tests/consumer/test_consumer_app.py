"""The consumer handler end to end against moto: table items, idempotency, quarantine."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError
from tests.consumer.consumer_helpers import BUCKET, FakeLambdaContext, items_with_prefix, scan_table
from tests.tweet_record.tweet_samples import kinesis_event, load_event, record_bytes, record_dict


def failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def stats(topic: str = "#Europe") -> dict[str, dict[str, int]]:
    return {
        item["sk"]["S"]: {
            name: int(item[name]["N"])
            for name in ("tweet_count", "positive", "negative", "neutral", "mixed")
        }
        for item in items_with_prefix("MINUTE#")
        if item["pk"]["S"] == f"TOPIC#{topic}"
    }


def test_happy_path_writes_contract_items(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    response = consumer_app.lambda_handler(load_event("kinesis_tweets.json"), lambda_context)

    assert response == {"batchItemFailures": []}
    tweets = items_with_prefix("TWEET#")
    assert [item["sk"]["S"] for item in tweets] == [
        "TWEET#2026-11-22T10:59:58.000Z#1578516068309794817",
        "TWEET#2026-11-22T10:59:59.000Z#1578516068309794818",
    ]
    first = tweets[0]
    assert first["pk"] == {"S": "TOPIC##Europe"}
    for attribute in (
        "tweet_id",
        "topic",
        "text",
        "author_username",
        "created_at",
        "lang",
        "hashtags",
        "like_count",
        "retweet_count",
        "sentiment",
        "expires_at",
    ):
        assert attribute in first, attribute
    assert first["sentiment"] == {"S": "POSITIVE"}
    assert tweets[1]["sentiment"] == {"S": "NEGATIVE"}
    assert stats() == {
        "MINUTE#2026-11-22T10:59": {
            "tweet_count": 2,
            "positive": 1,
            "negative": 1,
            "neutral": 0,
            "mixed": 0,
        }
    }
    assert [item["sk"]["S"][:7] for item in scan_table()] == ["MINUTE#", "TWEET#2", "TWEET#2"]


def test_same_record_twice_in_a_batch_is_stored_and_counted_once(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = kinesis_event([record_bytes(), record_bytes()])
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    assert len(items_with_prefix("TWEET#")) == 1
    assert stats()["MINUTE#2026-11-22T10:59"]["tweet_count"] == 1


def test_whole_batch_twice_leaves_the_table_as_one_delivery(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = kinesis_event(
        [
            record_bytes(tweet_id=str(1000 + i), created_at=f"2026-11-22T10:5{i}:00.000Z")
            for i in range(8)
        ]
    )
    consumer_app.lambda_handler(event, lambda_context)
    once = scan_table()
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    assert scan_table() == once
    assert sum(counts["tweet_count"] for counts in stats().values()) == 8


def test_redelivery_of_an_overlapping_batch_counts_only_new_tweets(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    payloads = [record_bytes(tweet_id=str(2000 + i)) for i in range(6)]
    consumer_app.lambda_handler(kinesis_event(payloads[:4]), lambda_context)
    consumer_app.lambda_handler(kinesis_event(payloads[2:], first=2), lambda_context)

    assert len(items_with_prefix("TWEET#")) == 6
    assert stats()["MINUTE#2026-11-22T10:59"]["tweet_count"] == 6


def test_same_tweet_under_two_topics_counts_once_per_topic(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = kinesis_event([record_bytes(topic="#Europe"), record_bytes(topic="rust", kind="query")])
    consumer_app.lambda_handler(event, lambda_context)

    assert stats("#Europe")["MINUTE#2026-11-22T10:59"]["tweet_count"] == 1
    assert stats("rust")["MINUTE#2026-11-22T10:59"]["tweet_count"] == 1


def test_crash_after_the_writes_then_redelivery_is_exactly_once(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consumer.writes import TweetWriter

    event = load_event("kinesis_tweets.json")
    write = TweetWriter.write

    def write_then_crash(self: Any, writes: Any, first_failures: Any) -> Any:
        write(self, writes, first_failures)
        raise SystemExit("Lambda sandbox died after the writes")

    with monkeypatch.context() as patch:
        patch.setattr(TweetWriter, "write", write_then_crash)
        with pytest.raises(SystemExit):
            consumer_app.lambda_handler(event, lambda_context)
    assert len(items_with_prefix("TWEET#")) == 2
    stats_of = stats_items()
    assert stats()["MINUTE#2026-11-22T10:59"]["tweet_count"] == 2
    response = consumer_app.lambda_handler(event, lambda_context)  # Lambda retries the batch

    assert failures(response) == []
    assert len(items_with_prefix("TWEET#")) == 2
    assert stats_items() == stats_of
    assert stats()["MINUTE#2026-11-22T10:59"]["tweet_count"] == 2


def stats_items() -> list[dict[str, Any]]:
    return items_with_prefix("MINUTE#")


def test_write_failure_reports_the_records_and_redelivery_completes(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    event = load_event("kinesis_tweets.json")
    client = consumer_app.dynamodb()

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        )

    with monkeypatch.context() as patch:
        patch.setattr(client, "put_item", throttled)
        response = consumer_app.lambda_handler(event, lambda_context)
    sequence_numbers = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    assert failures(response) == sequence_numbers

    response = consumer_app.lambda_handler(event, lambda_context)
    assert failures(response) == []
    assert len(items_with_prefix("TWEET#")) == 2
    assert stats()["MINUTE#2026-11-22T10:59"]["tweet_count"] == 2


def test_version_2_records_keep_the_producers_label_and_load_no_engine(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tweet_record.sentiment import VaderEngine

    def no_scoring(self: Any, documents: Any) -> Any:
        raise AssertionError("a version 2 record was scored again")

    monkeypatch.setattr(VaderEngine, "classify", no_scoring)
    event = kinesis_event(
        [
            record_bytes(tweet_id="1", sentiment="MIXED"),
            record_bytes(tweet_id="2", sentiment="NEGATIVE"),
        ]
    )
    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []
    assert [i["sentiment"]["S"] for i in items_with_prefix("TWEET#")] == ["MIXED", "NEGATIVE"]
    counts = stats()["MINUTE#2026-11-22T10:59"]
    assert (counts["mixed"], counts["negative"], counts["positive"]) == (1, 1, 0)


def test_an_event_without_records_is_refused_as_powertools_refuses_it(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    """Lambda sends a Kinesis event without records only when a tumbling window closes with
    nothing new (Lambda developer guide, "Using Kinesis with Lambda", tumbling windows,
    https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html); the stack's
    mapping configures none, so such an event is not the consumer's input. Powertools'
    ``process_partial_response`` refuses it by name, and nothing is written."""
    with pytest.raises(UnexpectedBatchTypeError, match="Unexpected batch event type"):
        consumer_app.lambda_handler(load_event("kinesis_empty.json"), lambda_context)
    assert scan_table() == []


def quarantined_objects() -> dict[str, dict[str, Any]]:
    s3 = boto3.client("s3")
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/consumer/")
    return {
        obj["Key"]: json.loads(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
        for obj in listing.get("Contents", [])
    }


def test_poison_records_are_quarantined_not_failed(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("kinesis_poison.json")
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    objects = quarantined_objects()
    assert len(objects) == 3
    by_sequence = {
        document["sequence_number"]: (key, document) for key, document in objects.items()
    }
    expected_reasons = ["NOT_JSON", "WRONG_SCHEMA", "MISSING_FIELD"]
    for record, reason in zip(event["Records"], expected_reasons, strict=True):
        sequence = record["kinesis"]["sequenceNumber"]
        key, document = by_sequence[sequence]
        assert key == (
            "quarantine/consumer/year=2026/month=11/day=22/hour=11/"
            f"trendstream-local-tweets/shardId-000000000000-{sequence}.json"
        )
        assert document["reason"] == reason
        assert document["detail"]
        assert document["shard_id"] == "shardId-000000000000"
        assert document["data_base64"] == record["kinesis"]["data"]
        assert document["approximate_arrival_timestamp"].startswith("2026-11-22T11:00:03.")
    assert (
        "tweet.id is missing"
        in by_sequence[event["Records"][2]["kinesis"]["sequenceNumber"]][1]["detail"]
    )
    assert scan_table() == []


def test_invalid_base64_is_quarantined_with_the_raw_data(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = kinesis_event([b"x"])
    event["Records"][0]["kinesis"]["data"] = "not*base64!"
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    (document,) = quarantined_objects().values()
    assert document["reason"] == "NOT_BASE64"
    assert document["data_base64"] == "not*base64!"


def test_mixed_batch_stores_good_records_and_quarantines_poison(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    bad = record_dict(tweet_id="3")
    bad["tweet"]["created_at"] = "2026-11-22 10:59"
    event = kinesis_event(
        [record_bytes(tweet_id="1"), json.dumps(bad).encode(), record_bytes(tweet_id="2")]
    )
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == []
    assert [item["tweet_id"]["S"] for item in items_with_prefix("TWEET#")] == ["1", "2"]
    assert [d["reason"] for d in quarantined_objects().values()] == ["BAD_TIMESTAMP"]


def test_quarantine_write_failure_reports_the_record_as_failed(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    boto3.client("s3").delete_bucket(Bucket=BUCKET)
    event = kinesis_event([record_bytes(tweet_id="1"), b"garbage", record_bytes(tweet_id="2")])
    response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == [event["Records"][1]["kinesis"]["sequenceNumber"]]
    assert len(items_with_prefix("TWEET#")) == 2


def test_two_streams_records_with_equal_shard_and_sequence_do_not_overwrite(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    first = kinesis_event([b"garbage one"])
    second = kinesis_event([b"garbage two"])
    second["Records"][0]["eventSourceARN"] = (
        "arn:aws:kinesis:us-east-1:123456789012:stream/trendstream-prod-tweets"
    )
    consumer_app.lambda_handler(first, lambda_context)
    consumer_app.lambda_handler(second, lambda_context)

    documents = quarantined_objects()
    assert len(documents) == 2
    assert {base64.b64decode(d["data_base64"]) for d in documents.values()} == {
        b"garbage one",
        b"garbage two",
    }


def test_quarantined_raw_bytes_round_trip(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    raw = b"\xff\xfe binary \x00 junk"
    consumer_app.lambda_handler(kinesis_event([raw]), lambda_context)

    (document,) = quarantined_objects().values()
    assert document["reason"] == "NOT_UTF8"
    assert base64.b64decode(document["data_base64"]) == raw


def test_sentiment_off_stores_none_and_counts_only_tweets(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTIMENT_ENGINE", "off")
    consumer_app.runtime.cache_clear()
    consumer_app.lambda_handler(load_event("kinesis_tweets.json"), lambda_context)

    assert {item["sentiment"]["S"] for item in items_with_prefix("TWEET#")} == {"NONE"}
    assert stats()["MINUTE#2026-11-22T10:59"] == {
        "tweet_count": 2,
        "positive": 0,
        "negative": 0,
        "neutral": 0,
        "mixed": 0,
    }


def test_logs_and_metrics_carry_the_record_and_batch_figures(
    consumer_app: Any,
    lambda_context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_stream = io.StringIO()
    monkeypatch.setattr(consumer_app.logger.registered_handler, "stream", log_stream)
    event = kinesis_event([b"garbage", record_bytes(), record_bytes()])
    consumer_app.lambda_handler(event, lambda_context)

    logs = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    (quarantined,) = [line for line in logs if line["message"] == "record quarantined"]
    assert quarantined["sequence_number"] == event["Records"][0]["kinesis"]["sequenceNumber"]
    assert quarantined["reason"] == "NOT_JSON"
    assert "tweet_id" not in quarantined
    (done,) = [line for line in logs if line["message"] == "batch done"]
    assert "sequence_number" not in done  # per-record keys do not leak into batch logs
    assert "tweet_id" not in done

    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["RecordsIn"] == [3.0]
    assert emf["RecordsQuarantined"] == [1.0]
    assert emf["TweetsWritten"] == [1.0]
    assert emf["DuplicatesSkipped"] == [1.0]
    assert emf["StatsUpdates"] == [1.0]
    assert emf["WriteRetries"] == [0.0]


def test_every_request_the_consumer_sends_is_valid_for_the_service_model(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    """The clients skip botocore's parameter validation for CPU; the shapes are checked here."""
    from botocore.validate import validate_parameters

    checked: list[str] = []

    def validate(params: dict[str, Any], model: Any, **_: Any) -> None:
        validate_parameters(params, model.input_shape)  # raises ParamValidationError
        checked.append(model.name)

    clients = [consumer_app.dynamodb(), consumer_app.s3()]
    for client in clients:
        client.meta.events.register("before-parameter-build.*.*", validate)
    event = kinesis_event([record_bytes(tweet_id="1"), b"not json", record_bytes(tweet_id="2")])

    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []
    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []  # redelivered

    assert set(checked) == {"PutItem", "UpdateItem", "PutObject"}


def test_the_consumer_clients_leave_validation_to_the_service(consumer_app: Any) -> None:
    from botocore.exceptions import ParamValidationError

    # A string where the model wants an integer: a validating client raises before sending.
    try:
        consumer_app.dynamodb().list_tables(Limit="3")
        consumer_app.s3().list_objects_v2(Bucket=BUCKET, MaxKeys="2")
    except ParamValidationError as error:
        pytest.fail(f"the client validated parameters itself: {error}")
