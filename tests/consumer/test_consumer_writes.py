"""Exactly-once counting without transactions: conditional puts, per-shard partial stats items.

Every scenario ends by comparing the stats items with an independent recount of the tweet items
in the table, so a tweet counted twice or never fails whatever path led there.

AWS behaviour these tests rely on:
- Partial batch response for Kinesis: Lambda retries from the lowest sequence number reported
  in ``batchItemFailures``, with every later record of the batch
  (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html).
- ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` answers a failed condition with the item as
  it was (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html).
- A standard write costs 1 write unit per started KB of the item; an update is sized on the
  larger of the item before and after it
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from tests.consumer.consumer_helpers import (
    TABLE,
    CallCounter,
    FakeLambdaContext,
    items_with_prefix,
    scan_table,
)
from tests.tweet_record.tweet_samples import kinesis_event, kinesis_sequence, record_bytes

from consumer.processor import StagedRecord, record_position
from consumer.store import TweetStore
from consumer.writes import (
    NEW_WATERMARK,
    SAME_WATERMARK,
    Contribution,
    PutResult,
    TweetWrite,
    TweetWriter,
    stats_update,
)
from function_support.clients import BOTOCORE_MAX_ATTEMPTS, Timeouts, client_config
from tweet_record import parse_stream_record
from tweet_record.items import (
    KEY_PART_SEPARATOR,
    SENTIMENT_COUNTERS,
    STATS_COUNTERS,
    WATERMARK_ATTRIBUTE,
    item_size,
    minute_of_stats_sk,
    record_origin,
    sequence_watermark,
    stats_increments,
    topic_key_parts_from_env,
    topic_of_pk,
    topic_pk,
    topic_pks,
    tweet_item,
    watermark_sequence,
)
from tweet_record.parse import RecordRejectedError

SHARD = "shardId-000000000000"
OTHER_SHARD = "shardId-000000000001"
LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", "NONE")

Counts = dict[tuple[str, str], dict[str, int]]


# --- the independent recount -----------------------------------------------------------------


def recount() -> Counts:
    """(topic, minute) stats recomputed from the tweet items alone."""
    counts: Counts = defaultdict(lambda: dict.fromkeys(STATS_COUNTERS, 0))
    for item in items_with_prefix("TWEET#"):
        minute = counts[(item["topic"]["S"], item["created_at"]["S"][:16])]
        minute["tweet_count"] += 1
        counter = SENTIMENT_COUNTERS.get(item["sentiment"]["S"])
        if counter is not None:
            minute[counter] += 1
    return dict(counts)


def stored_stats() -> Counts:
    """(topic, minute) stats as a reader sees them: the sum of the minute's partial items."""
    counts: Counts = defaultdict(lambda: dict.fromkeys(STATS_COUNTERS, 0))
    for item in items_with_prefix("MINUTE#"):
        minute = counts[(topic_of_pk(item["pk"]["S"]), minute_of_stats_sk(item["sk"]["S"]))]
        for name in STATS_COUNTERS:
            minute[name] += int(item[name]["N"])
    return dict(counts)


def assert_counted_exactly_once(tweets: int) -> None:
    assert len(items_with_prefix("TWEET#")) == tweets
    assert stored_stats() == recount()


def tweets(count: int, start: int = 0) -> list[bytes]:
    """Version 2 records over 3 topics and 2 minutes, every label represented."""
    return [
        record_bytes(
            tweet_id=str(10_000 + n),
            topic=f"#topic{n % 3}",
            created_at=f"2026-11-22T10:{58 + n % 2}:{n % 60:02d}.000Z",
            sentiment=LABELS[n % len(LABELS)],
        )
        for n in range(start, start + count)
    ]


def failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def sequence_of(event: dict[str, Any], index: int) -> str:
    return str(event["Records"][index]["kinesis"]["sequenceNumber"])


def resequenced(event: dict[str, Any], sequences: list[str], shard: str = SHARD) -> dict[str, Any]:
    for record, sequence in zip(event["Records"], sequences, strict=True):
        record["kinesis"]["sequenceNumber"] = sequence
        record["eventID"] = f"{shard}:{sequence}"
    return event


class Throttle:
    """Refuses the puts of chosen tweets as throttled, as botocore raises after its retries."""

    def __init__(self, client: Any, tweet_ids: set[str]) -> None:
        self.tweet_ids = tweet_ids
        self._put = client.put_item

    def __call__(self, **request: Any) -> Any:
        if request["Item"]["tweet_id"]["S"] in self.tweet_ids:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "PutItem",
            )
        return self._put(**request)


class SandboxDied(BaseException):
    """The Lambda sandbox ends mid-invocation (timeout, out of memory): nothing catches it."""


class DieAfterUpdates:
    """Lets ``allowed`` stats updates through, then kills the invocation."""

    def __init__(self, client: Any, allowed: int) -> None:
        self.allowed = allowed
        self._update = client.update_item
        self._lock = threading.Lock()

    def __call__(self, **request: Any) -> Any:
        with self._lock:
            if self.allowed <= 0:
                raise SandboxDied
            self.allowed -= 1
        return self._update(**request)


# --- redelivery ------------------------------------------------------------------------------


def test_whole_batch_redelivered_counts_nothing_twice(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    event = kinesis_event(tweets(12))
    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []
    once = scan_table()
    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []

    assert scan_table() == once
    assert_counted_exactly_once(12)


def test_redelivery_from_the_first_failed_put_counts_everything_once(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda resumes from the lowest reported sequence number
    (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html)."""
    payloads = tweets(10)
    event = kinesis_event(payloads)
    client = consumer_app.dynamodb()
    with monkeypatch.context() as patch:
        patch.setattr(client, "put_item", Throttle(client, {"10003", "10007"}))
        response = consumer_app.lambda_handler(event, lambda_context)

    assert failures(response) == [sequence_of(event, 3), sequence_of(event, 7)]
    # Only the prefix before the first failure is counted; later items exist, uncounted.
    assert len(items_with_prefix("TWEET#")) == 8
    assert sum(minute["tweet_count"] for minute in stored_stats().values()) == 3

    redelivery = kinesis_event(payloads[3:], first=3)  # Lambda resumes at the lowest failure
    assert failures(consumer_app.lambda_handler(redelivery, lambda_context)) == []
    assert_counted_exactly_once(10)


def test_a_failed_quarantine_write_stops_the_counted_prefix_too(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    boto3.client("s3").delete_bucket(Bucket=consumer_app.runtime().quarantine._bucket)
    payloads = [*tweets(2), b"garbage", *tweets(2, start=2)]
    event = kinesis_event(payloads)
    assert failures(consumer_app.lambda_handler(event, lambda_context)) == [sequence_of(event, 2)]
    assert sum(minute["tweet_count"] for minute in stored_stats().values()) == 2

    boto3.client("s3").create_bucket(Bucket=consumer_app.runtime().quarantine._bucket)
    redelivery = kinesis_event(payloads[2:], first=2)
    assert failures(consumer_app.lambda_handler(redelivery, lambda_context)) == []
    assert_counted_exactly_once(4)


@pytest.mark.parametrize("updates_before_dying", [0, 1, 3])
@pytest.mark.parametrize("redelivery", ["whole batch", "bisected halves"])
def test_dying_among_the_stats_updates_then_redelivery_counts_once(
    consumer_app: Any,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    updates_before_dying: int,
    redelivery: str,
) -> None:
    """A function error or timeout makes Lambda retry the whole batch, or its halves with
    BisectBatchOnFunctionError (Lambda developer guide, "Using Lambda with Kinesis", error
    handling)."""
    payloads = tweets(12)  # 6 (topic, minute) stats items
    client = consumer_app.dynamodb()
    with monkeypatch.context() as patch:
        patch.setattr(client, "update_item", DieAfterUpdates(client, updates_before_dying))
        with pytest.raises(SandboxDied):
            consumer_app.lambda_handler(kinesis_event(payloads), lambda_context)
    assert len(items_with_prefix("TWEET#")) == 12
    assert len(stored_stats()) == updates_before_dying

    if redelivery == "whole batch":
        batches = [kinesis_event(payloads)]
    else:
        batches = [kinesis_event(payloads[:6]), kinesis_event(payloads[6:], first=6)]
    for batch in batches:
        assert failures(consumer_app.lambda_handler(batch, lambda_context)) == []
    assert_counted_exactly_once(12)


def test_a_failed_stats_update_fails_its_records_and_redelivery_counts_them(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = tweets(6)
    event = kinesis_event(payloads)
    client = consumer_app.dynamodb()
    update = client.update_item

    def throttled_for_topic0(**request: Any) -> Any:
        if request["Key"]["pk"]["S"] == "TOPIC##topic0":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "UpdateItem"
            )
        return update(**request)

    with monkeypatch.context() as patch:
        patch.setattr(client, "update_item", throttled_for_topic0)
        response = consumer_app.lambda_handler(event, lambda_context)
    assert failures(response) == [sequence_of(event, 0), sequence_of(event, 3)]

    assert failures(consumer_app.lambda_handler(event, lambda_context)) == []
    assert_counted_exactly_once(6)


# --- duplicates ------------------------------------------------------------------------------


def test_a_producer_duplicate_in_a_later_record_is_skipped(
    consumer_app: Any,
    lambda_context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payloads = tweets(4)
    consumer_app.lambda_handler(kinesis_event(payloads), lambda_context)
    capsys.readouterr()
    again = kinesis_event([payloads[1], *tweets(1, start=4)], first=4)  # same tweet, new record
    assert failures(consumer_app.lambda_handler(again, lambda_context)) == []

    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert (emf["TweetsWritten"], emf["DuplicatesSkipped"]) == ([1.0], [1.0])
    (item,) = [i for i in items_with_prefix("TWEET#") if i["tweet_id"]["S"] == "10001"]
    assert item["origin"] == {"S": record_origin(SHARD, kinesis_sequence(1))}
    assert_counted_exactly_once(5)


def test_two_records_of_one_tweet_in_a_batch_keep_the_first_on_every_delivery(
    consumer_app: Any, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, failing, duplicate = tweets(1)[0], tweets(1, start=1)[0], tweets(1)[0]
    payloads = [first, failing, duplicate]
    event = kinesis_event(payloads)
    client = consumer_app.dynamodb()
    with monkeypatch.context() as patch:
        patch.setattr(client, "put_item", Throttle(client, {"10001"}))
        assert failures(consumer_app.lambda_handler(event, lambda_context)) == [
            sequence_of(event, 1)
        ]
    (item,) = [i for i in items_with_prefix("TWEET#") if i["tweet_id"]["S"] == "10000"]
    assert item["origin"] == {"S": record_origin(SHARD, sequence_of(event, 0))}

    # Lambda resumes at position 1: the later record of the tweet now meets the first's item.
    redelivery = kinesis_event(payloads[1:], first=1)
    assert failures(consumer_app.lambda_handler(redelivery, lambda_context)) == []
    assert_counted_exactly_once(2)


def test_an_item_written_before_origin_existed_is_a_duplicate(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    """Items of the transactional consumer have no ``origin``; their stats already count them."""
    payload = tweets(1)[0]
    tweet = parse_stream_record(payload)
    assert tweet.sentiment is not None
    dynamodb = consumer_app.dynamodb()
    dynamodb.put_item(TableName=TABLE, Item=tweet_item(tweet, tweet.sentiment, 30))
    increments = stats_increments([tweet.sentiment])
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "TOPIC##topic0"},
            "sk": {"S": "MINUTE#2026-11-22T10:58"},
            **{name: {"N": str(value)} for name, value in increments.items()},
        },
    )
    assert failures(consumer_app.lambda_handler(kinesis_event([payload]), lambda_context)) == []

    assert "origin" not in items_with_prefix("TWEET#")[0]
    assert_counted_exactly_once(1)


# --- watermarks ------------------------------------------------------------------------------


def test_watermarks_order_like_the_numbers_whatever_their_length() -> None:
    rng = random.Random(11)
    numbers = [rng.randrange(10 ** rng.randrange(1, 129)) for _ in range(2_000)]
    numbers += [0, 9, 10, 99, 100, 10**127, 10**128 - 1]
    assert sorted(numbers, key=sequence_watermark) == sorted(numbers)
    assert all(watermark_sequence(sequence_watermark(n)) == n for n in numbers)
    assert sequence_watermark(56) == "00256"
    with pytest.raises(ValueError, match="not a Kinesis sequence number"):
        sequence_watermark(-1)


def test_a_longer_sequence_number_is_after_a_shorter_one_in_the_table(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    """As plain strings "100" < "99": a watermark compared that way would drop the second batch."""
    earlier = resequenced(kinesis_event(tweets(1)), ["99"])
    same_minute = record_bytes(
        tweet_id="20000", topic="#topic0", created_at="2026-11-22T10:58:30.000Z", sentiment="MIXED"
    )
    later = resequenced(kinesis_event([same_minute]), ["100"])
    for event in (earlier, later, earlier, later):
        assert failures(consumer_app.lambda_handler(event, lambda_context)) == []

    (minute,) = items_with_prefix("MINUTE#")
    assert minute["tweet_count"] == {"N": "2"}
    # The watermark holds the record's position: its sequence number times SUBSEQUENCE_SPAN.
    assert minute[WATERMARK_ATTRIBUTE] == {"S": sequence_watermark(record_position("100"))}
    assert_counted_exactly_once(2)


def test_one_minute_counts_the_contributions_of_two_shards(
    consumer_app: Any, lambda_context: FakeLambdaContext
) -> None:
    """After a reshard, parent and child shards (or two shards at once) feed the same minute;
    their sequence numbers are unrelated, so each shard has its own partial item and watermark."""
    payloads = tweets(12)  # 6 (topic, minute) pairs, each fed by both halves
    ours = kinesis_event(payloads[:6], first=500)
    theirs = kinesis_event(payloads[6:], shard=OTHER_SHARD)  # lower sequence numbers
    for event in (ours, theirs, ours, theirs):
        assert failures(consumer_app.lambda_handler(event, lambda_context)) == []

    partials = items_with_prefix("MINUTE#")
    assert len(partials) == 12
    for partial in partials:
        assert partial["sk"]["S"].rsplit("#", 1)[1] in {SHARD, OTHER_SHARD}
        assert [name for name in partial if name.startswith("applied")] == [WATERMARK_ATTRIBUTE]
        assert partial["tweet_count"] == {"N": "1"}
    assert all(minute["tweet_count"] == 2 for minute in stored_stats().values())
    assert_counted_exactly_once(12)


# --- requests, answers and retries -----------------------------------------------------------


def write(n: int, sequence: int, minute: int = 0, sentiment: str = "POSITIVE") -> TweetWrite:
    created_at = f"2026-11-22T10:{minute:02d}:00.000Z"
    origin = record_origin(SHARD, str(sequence))
    item = {
        "pk": {"S": "TOPIC#t"},
        "sk": {"S": f"TWEET#{created_at}#{n}"},
        "origin": {"S": origin},
    }
    key = ("TOPIC#t", f"MINUTE#2026-11-22T10:{minute:02d}#{SHARD}")
    return TweetWrite("t", str(n), sentiment, 99, item, key, SHARD, sequence, origin)


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def put_request(w: TweetWrite) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Item": w.item,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


def condition_failed(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "service_error_code": "ConditionalCheckFailedException",
        "service_message": "The conditional request failed",
        "http_status_code": 400,
        "modeled_fields": {"Item": item},
    }


def contributions(*sequences: int) -> list[Contribution]:
    return [Contribution(s, "POSITIVE", 99, i) for i, s in enumerate(sequences)]


def test_the_stats_update_moves_the_watermark_over_the_batchs_contributions() -> None:
    request = stats_update(
        TABLE, ("TOPIC#t", f"MINUTE#2026-11-22T10:59#{SHARD}"), contributions(7, 12), None
    )
    assert request["UpdateExpression"] == (
        "ADD #c0 :c0, #c1 :c1, #c2 :c2, #c3 :c3, #c4 :c4 "
        "SET expires_at = :expires, #w = :last, active_hour = :hour"
    )
    assert request["ConditionExpression"] == NEW_WATERMARK
    assert request["ExpressionAttributeNames"]["#w"] == "applied"
    values = request["ExpressionAttributeValues"]
    assert (values[":first"], values[":last"]) == ({"S": "0017"}, {"S": "00212"})
    assert (values[":c0"], values[":c1"]) == ({"N": "2"}, {"N": "2"})
    assert values[":hour"] == {"S": "2026-11-22T10"}  # the topic-discovery index's partition
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_put_that_meets_its_own_item_contributes_and_another_origin_is_a_duplicate(
    stubbed: tuple[Any, Stubber],
) -> None:
    """A failed condition answers the item as it was with ALL_OLD
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html)."""
    client, stubber = stubbed
    mine, other = write(1, 5), write(2, 6)
    stubber.add_client_error("put_item", **condition_failed(mine.item), expected_params=None)
    writer = TweetWriter(client, TABLE)
    assert writer._put(mine).result is PutResult.REDELIVERED
    old = {**other.item, "origin": {"S": record_origin(SHARD, "1")}}
    stubber.add_client_error("put_item", **condition_failed(old), expected_params=None)
    assert writer._put(other).result is PutResult.DUPLICATE
    stubber.add_response(
        "put_item",
        {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}},
        put_request(other),
    )
    assert writer._put(other) == (PutResult.CREATED, 1.0, 0, None)


def test_an_update_refused_by_the_watermark_is_resent_with_what_it_has_not_counted(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    key = ("TOPIC#t", f"MINUTE#2026-11-22T10:00#{SHARD}")
    pending = contributions(3, 5, 8)
    watermark = sequence_watermark(5)  # an earlier attempt counted 3 and 5
    stored = {"pk": {"S": key[0]}, "sk": {"S": key[1]}, WATERMARK_ATTRIBUTE: {"S": watermark}}
    stubber.add_client_error(
        "update_item",
        **condition_failed(stored),
        expected_params=stats_update(TABLE, key, pending, None),
    )
    resend = stats_update(TABLE, key, pending[2:], watermark)
    assert resend["ConditionExpression"] == SAME_WATERMARK
    assert resend["ExpressionAttributeValues"][":c0"] == {"N": "1"}
    stubber.add_response("update_item", {}, resend)

    answer = TweetWriter(client, TABLE)._count((key, pending))

    stubber.assert_no_pending_responses()
    assert (answer.sends, answer.error) == (2, None)


def test_an_update_whose_contributions_are_all_counted_is_not_resent(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    key = ("TOPIC#t", f"MINUTE#2026-11-22T10:00#{SHARD}")
    stored = {WATERMARK_ATTRIBUTE: {"S": sequence_watermark(8)}}
    stubber.add_client_error("update_item", **condition_failed(stored), expected_params=None)

    answer = TweetWriter(client, TABLE)._count((key, contributions(3, 8)))

    stubber.assert_no_pending_responses()
    assert (answer.sends, answer.error) == (1, None)


class ScriptedDynamoDB:
    """Answers every send at the HTTP layer, below botocore's retry handler, and counts sends."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.sends = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        with self._lock:
            status, body = self.answers[min(self.sends, len(self.answers) - 1)]
            self.sends += 1
        response = AWSResponse(request.url, status, {"x-amzn-RequestId": "r"}, None)
        response._content = json.dumps(body).encode()  # type: ignore[attr-defined]
        return response


@pytest.fixture
def no_botocore_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits between its retries with ``time.sleep`` in ``botocore.endpoint``."""
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)


def scripted_client(script: ScriptedDynamoDB) -> Any:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=client_config(Timeouts(connect=1, read=1), validate=False),
    )
    client.meta.events.register("before-send.dynamodb.*", script)
    return client


THROTTLED = (
    400,
    {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"},
)


@pytest.mark.usefixtures("no_botocore_delays")
def test_a_throttled_put_is_retried_by_botocore_only_then_fails_its_record() -> None:
    """botocore's standard mode makes 3 attempts (AWS SDKs and Tools reference guide, "Retry
    behavior"); nothing retries on top of it, the record is redelivered instead."""
    script = ScriptedDynamoDB([THROTTLED])
    outcome = TweetWriter(scripted_client(script), TABLE).write([write(1, 5)], {})

    assert set(outcome.failed) == {0}
    assert script.sends == BOTOCORE_MAX_ATTEMPTS
    assert outcome.retries == BOTOCORE_MAX_ATTEMPTS - 1
    assert outcome.stats_updates == 0


@pytest.mark.usefixtures("no_botocore_delays")
def test_a_put_throttled_once_then_written_is_counted() -> None:
    created = (200, {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}})
    updated = (200, {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}})
    script = ScriptedDynamoDB([THROTTLED, created, updated])
    outcome = TweetWriter(scripted_client(script), TABLE).write([write(1, 5)], {})

    assert (outcome.failed, outcome.created, outcome.stats_updates) == ({}, 1, 1)
    assert (outcome.retries, outcome.write_units) == (1, 2.0)


def test_nothing_at_or_after_a_record_handler_failure_is_counted(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    writes = [write(1, 5), write(2, 9)]
    for w in writes:
        stubber.add_response("put_item", {}, put_request(w))
    # Only the contribution below the handler's failure at 7 is counted.
    key = writes[0].stats_key
    only_first = stats_update(TABLE, key, [Contribution(5, "POSITIVE", 99, 0)], None)
    stubber.add_response("update_item", {}, only_first)

    outcome = TweetWriter(client, TABLE).write(writes, {SHARD: 7})

    stubber.assert_no_pending_responses()
    assert (outcome.failed, outcome.created, outcome.stats_updates) == ({}, 2, 1)


# --- the store -------------------------------------------------------------------------------


def staged(payloads: list[bytes]) -> list[StagedRecord[Any]]:
    return [
        StagedRecord(parse_stream_record(payload), SHARD, kinesis_sequence(position))
        for position, payload in enumerate(payloads)
    ]


class UnavailableEngine:
    name = "comprehend"
    batch_size = 25

    def group(self, document: Any) -> str | None:
        return "en"

    def classify(self, documents: Any) -> Any:
        from tweet_record.sentiment import SentimentUnavailableError

        raise SentimentUnavailableError("BatchDetectSentiment (en) failed: ThrottlingException")


def test_sentiment_outage_fails_version_1_records_before_any_write(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed  # no responses queued: any DynamoDB call would fail the test
    store = TweetStore(lambda: client, TABLE, 30, UnavailableEngine())
    report = store.store(staged([record_bytes(tweet_id=n) for n in ("1", "2")]))
    assert [type(f).__name__ for f in report.failures] == ["SentimentUnavailableError"] * 2
    assert report.tweets_written == 0
    stubber.assert_no_pending_responses()


def test_version_2_records_are_stored_without_any_sentiment_work(aws: None) -> None:
    client = boto3.client("dynamodb")
    payloads = [record_bytes(tweet_id=n, sentiment="MIXED") for n in ("1", "2", "1")]
    report = TweetStore(lambda: client, TABLE, 30, UnavailableEngine()).store(staged(payloads))
    assert report.failures == [None, None, None]
    assert (report.tweets_written, report.duplicates_skipped, report.stats_updates) == (2, 1, 1)
    assert_counted_exactly_once(2)


# --- cost per 1,000 tweets ------------------------------------------------------------------


@pytest.mark.slow
def test_calls_per_1000_tweets(consumer_app: Any, lambda_context: FakeLambdaContext) -> None:
    counter = CallCounter(consumer_app.dynamodb())
    payloads = [
        record_bytes(
            tweet_id=str(10_000 + n),
            topic=f"#topic{n % 5}",
            created_at=f"2026-11-22T10:{58 + n % 2}:{n % 60:02d}.000Z",
            sentiment="NEUTRAL",
        )
        for n in range(1_000)
    ]
    response = consumer_app.lambda_handler(kinesis_event(payloads), lambda_context)

    assert response == {"batchItemFailures": []}
    assert dict(counter.calls) == {"PutItem": 1_000, "UpdateItem": 10}  # 5 topics x 2 minutes
    assert_counted_exactly_once(1_000)


# --- cost flat with the shard count, hot topics over key parts -------------------------------


def test_a_minute_fed_by_128_shards_costs_one_write_unit_an_update(aws: None) -> None:
    """Each shard updates its own partial item, with one watermark: the item, and what an update
    of it costs, stay the same size however many shards feed the minute (1 write unit per
    started KB, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)."""
    client = boto3.client("dynamodb")
    store = TweetStore(lambda: client, TABLE, 30, UnavailableEngine())
    units = []
    for shard in range(128):
        payload = record_bytes(tweet_id=str(50_000 + shard), sentiment="POSITIVE")
        shard_id = f"shardId-{shard:012d}"
        for delivery in range(2):  # the second delivery counts nothing again
            record = StagedRecord(parse_stream_record(payload), shard_id, kinesis_sequence(0))
            report = store.store([record])
            assert report.failures == [None]
            if delivery == 0:
                units.append(report.write_units)
    assert len(set(units)) == 1  # the 128th shard's tweet costs what the first's did
    partials = items_with_prefix("MINUTE#")
    assert len(partials) == 128
    assert max(item_size(item) for item in partials) < 1024
    ((_, minute),) = stored_stats().items()
    assert minute["tweet_count"] == minute["positive"] == 128
    assert_counted_exactly_once(128)


def test_a_hot_topic_spreads_over_its_key_parts_and_counts_each_tweet_once(aws: None) -> None:
    client = boto3.client("dynamodb")
    parts = {"#topic0": 4}
    store = TweetStore(lambda: client, TABLE, 30, UnavailableEngine(), key_parts=parts)
    payloads = [
        record_bytes(tweet_id=str(70_000 + n), topic="#topic0", sentiment="NEUTRAL")
        for n in range(200)
    ]
    for shard in ("shardId-000000000000", "shardId-000000000001", "shardId-000000000002"):
        records = [
            StagedRecord(parse_stream_record(payload), shard, kinesis_sequence(position))
            for position, payload in enumerate(payloads)
        ]
        assert store.store(records).failures == [None] * len(records)

    tweets_by_pk = Counter(item["pk"]["S"] for item in items_with_prefix("TWEET#"))
    assert set(tweets_by_pk) == set(topic_pks("#topic0", parts))
    assert min(tweets_by_pk.values()) > 200 / 4 / 2  # spread, not piled on one key
    assert_counted_exactly_once(200)


def test_a_topic_named_like_another_topics_key_part_is_refused() -> None:
    """``#`` is fine in a topic; the key part separator, a control character, is not."""
    assert topic_pk("a#1") != topic_pk("a", 1)
    document = json.loads(record_bytes(topic="a"))
    document["topic"]["name"] = "a" + KEY_PART_SEPARATOR + "1"  # past the producer's own check
    with pytest.raises(RecordRejectedError, match="control characters"):
        parse_stream_record(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"#a": 0}', "1 to 100 parts"),
        ('{"#a": 101}', "1 to 100 parts"),
        ('{"#a": "4"}', "1 to 100 parts"),
        ('["#a"]', "JSON object"),
        ("{not json", "JSON object"),
        ('{"a\\u001f1": 2}', "JSON object"),
    ],
)
def test_hot_topic_key_parts_are_checked_at_cold_start(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        topic_key_parts_from_env({"HOT_TOPIC_KEY_PARTS": raw})
    assert topic_key_parts_from_env({"HOT_TOPIC_KEY_PARTS": '{"#a#b": 3}'}) == {"#a#b": 3}
    assert topic_key_parts_from_env({}) == {}
