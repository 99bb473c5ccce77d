"""Tweet transactions and the retry layers against failures moto cannot produce on cue."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from tests.consumer.consumer_helpers import TABLE, CallCounter, items_with_prefix
from tests.tweet_record.tweet_samples import record_bytes

from consumer.stats import (
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
    TweetTransactions,
    TweetWrite,
    TweetWriteFailed,
    plan_chunks,
    transaction_actions,
)
from consumer.store import TweetStore
from tweet_record import parse_stream_record
from tweet_record.backoff import (
    APP_MAX_ATTEMPTS,
    BOTOCORE_MAX_ATTEMPTS,
    WORST_CASE_SENDS_PER_ITEM,
    Backoff,
    client_config,
)
from tweet_record.sentiment import OffEngine


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def backoff(sleep: RecordedSleep) -> Backoff:
    return Backoff(
        max_attempts=4, base_seconds=0.05, cap_seconds=0.3, sleep=sleep, rng=random.Random(7)
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def write(
    n: int, minute: int = 0, sentiment: str = "POSITIVE", topic: str = "t", size: int = 200
) -> TweetWrite:
    created_at = f"2026-11-22T10:{minute:02d}:00.000Z"
    item = {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"TWEET#{created_at}#{n}"},
        "text": {"S": f"tweet {n}"},
    }
    return TweetWrite(topic, str(n), created_at, sentiment, 99, item, size)


def canceled(codes: list[str]) -> dict[str, Any]:
    return {
        "service_error_code": "TransactionCanceledException",
        "service_message": f"Transaction cancelled [{', '.join(codes)}]",
        "http_status_code": 400,
        "response_meta": {},
        "modeled_fields": {"CancellationReasons": [{"Code": code} for code in codes]},
    }


def expected(writes: list[TweetWrite]) -> dict[str, Any]:
    return {"TransactItems": transaction_actions(TABLE, writes), "ReturnConsumedCapacity": "TOTAL"}


# --- planning ------------------------------------------------------------------------------


def test_plan_chunks_respects_the_100_action_limit() -> None:
    writes = [write(n, minute=n % 7, topic=f"topic{n % 3}") for n in range(1_000)]
    chunks = plan_chunks(writes)
    assert sorted(w.tweet_id for chunk in chunks for w in chunk) == sorted(
        w.tweet_id for w in writes
    )
    for chunk in chunks:
        actions = transaction_actions(TABLE, chunk)
        assert len(actions) <= MAX_TRANSACTION_ACTIONS
        keys = [json.dumps(a.get("Put", {}).get("Item") or a["Update"]["Key"]) for a in actions]
        assert len(keys) == len(set(keys))  # DynamoDB rejects two actions on one item
    assert len(chunks) == 11  # 1,000 tweets + 21 (topic, minute) updates, packed


def test_plan_chunks_keeps_each_transaction_under_4_mb() -> None:
    """TransactWriteItems: "The aggregate size of the items in the transaction cannot exceed
    4 MB" (DynamoDB API reference, TransactWriteItems)."""
    writes = [write(n, size=300_000) for n in range(30)]
    chunks = plan_chunks(writes)
    assert all(sum(w.size for w in chunk) <= MAX_TRANSACTION_BYTES for chunk in chunks)
    assert [len(chunk) for chunk in chunks] == [13, 13, 4]


def test_tweet_items_are_conditional_puts_and_stats_increment_every_counter() -> None:
    actions = transaction_actions(
        TABLE,
        [write(1, sentiment="POSITIVE"), write(2, sentiment="MIXED"), write(3, sentiment="NONE")],
    )
    assert [next(iter(a)) for a in actions] == ["Put", "Put", "Put", "Update"]
    assert {a["Put"]["ConditionExpression"] for a in actions[:3]} == {"attribute_not_exists(pk)"}
    assert actions[0]["Put"]["Item"]["sk"] == {"S": "TWEET#2026-11-22T10:00:00.000Z#1"}
    update = actions[3]["Update"]
    counters = {
        update["ExpressionAttributeNames"][f"#c{i}"]: update["ExpressionAttributeValues"][f":c{i}"][
            "N"
        ]
        for i in range(5)
    }
    assert counters == {
        "tweet_count": "3",
        "positive": "1",
        "negative": "0",
        "neutral": "0",
        "mixed": "1",
    }
    assert update["Key"] == {"pk": {"S": "TOPIC#t"}, "sk": {"S": "MINUTE#2026-11-22T10:00"}}


# --- transactions ---------------------------------------------------------------------------


def test_tweets_already_written_are_dropped_and_the_rest_counted(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    writes = [write(1), write(2), write(3)]
    stubber.add_client_error(
        "transact_write_items", **canceled(["None", "ConditionalCheckFailed", "None", "None"])
    )
    stubber.add_response(
        "transact_write_items",
        {"ConsumedCapacity": [{"TableName": TABLE, "CapacityUnits": 6.0}]},
        expected([writes[0], writes[2]]),
    )

    outcome = TweetTransactions(client, TABLE, backoff).write(writes)

    stubber.assert_no_pending_responses()
    assert outcome.duplicates == {("t", "2")}
    assert outcome.written == {("t", "1"), ("t", "3")}
    assert outcome.transactions == 2
    assert outcome.write_units == 6.0
    assert sleep.delays == []  # dropping duplicates is progress, not a retry


def test_transaction_conflict_is_retried_with_backoff(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    stubber.add_client_error("transact_write_items", **canceled(["None", "TransactionConflict"]))
    stubber.add_response("transact_write_items", {})

    outcome = TweetTransactions(client, TABLE, backoff).write([write(1)])

    assert outcome.written == {("t", "1")}
    assert outcome.retries == 1
    assert len(sleep.delays) == 1


def test_persistent_conflicts_fail_after_the_app_attempts(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    for _ in range(4):
        stubber.add_client_error(
            "transact_write_items", **canceled(["TransactionConflict", "None", "None"])
        )

    outcome = TweetTransactions(client, TABLE, backoff).write([write(1), write(2)])

    stubber.assert_no_pending_responses()
    assert outcome.written == set()
    assert set(outcome.failed) == {("t", "1"), ("t", "2")}
    assert all(isinstance(f, TweetWriteFailed) for f in outcome.failed.values())
    assert len(sleep.delays) == 3


def test_an_error_botocore_already_retried_is_not_retried_again(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    stubber.add_client_error("transact_write_items", "ProvisionedThroughputExceededException")

    outcome = TweetTransactions(client, TABLE, backoff).write([write(1)])

    stubber.assert_no_pending_responses()
    assert set(outcome.failed) == {("t", "1")}
    assert sleep.delays == []


class ScriptedDynamoDB:
    """Answers every send at the HTTP layer, below botocore's retry handler, and counts sends."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.sends = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        status, body = self.answers[min(self.sends, len(self.answers) - 1)]
        self.sends += 1
        raw = json.dumps(body).encode()
        response = AWSResponse(request.url, status, {"x-amzn-RequestId": "r"}, None)
        response._content = raw  # type: ignore[attr-defined]
        return response


@pytest.fixture(autouse=True)
def no_botocore_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits between its retries with ``time.sleep`` in ``botocore.endpoint``."""
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)


def real_client(script: ScriptedDynamoDB) -> Any:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=client_config(connect_timeout=1, read_timeout=1, validate=False),
    )
    client.meta.events.register("before-send.dynamodb.*", script)
    return client


THROTTLED = (
    400,
    {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"},
)
CONFLICT = (
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled",
        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
    },
)


def test_worst_case_sends_per_tweet_is_pinned(sleep: RecordedSleep) -> None:
    """botocore's standard mode retries a throttled call (3 attempts: AWS SDKs and Tools
    reference guide, "Retry behavior"); the app retries only a cancelled transaction. Each app
    attempt that botocore sees throttled twice and then cancelled costs 3 sends, at most 4 times:
    12 sends of one tweet, against 18 when both layers retried throttling."""
    script = ScriptedDynamoDB([THROTTLED, THROTTLED, CONFLICT] * APP_MAX_ATTEMPTS + [THROTTLED])
    client = real_client(script)
    outcome = TweetTransactions(client, TABLE, Backoff(sleep=sleep)).write([write(1)])

    assert set(outcome.failed) == {("t", "1")}
    assert script.sends == WORST_CASE_SENDS_PER_ITEM == BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS
    assert WORST_CASE_SENDS_PER_ITEM == 12


def test_a_call_throttled_through_botocores_attempts_is_sent_three_times(
    sleep: RecordedSleep,
) -> None:
    script = ScriptedDynamoDB([THROTTLED])
    client = real_client(script)
    outcome = TweetTransactions(client, TABLE, Backoff(sleep=sleep)).write([write(1)])

    assert set(outcome.failed) == {("t", "1")}
    assert script.sends == BOTOCORE_MAX_ATTEMPTS
    assert sleep.delays == []


def test_throttled_transactions_put_records_in_batch_item_failures(
    consumer_app: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, sleep: RecordedSleep
) -> None:
    from tests.tweet_record.tweet_samples import load_event

    client = consumer_app.dynamodb()
    store = TweetStore(lambda: client, TABLE, 30, OffEngine(), Backoff(max_attempts=3, sleep=sleep))
    quarantine = consumer_app.runtime().quarantine
    monkeypatch.setattr(consumer_app, "runtime", lambda: consumer_app.Runtime(store, quarantine))
    event = load_event("kinesis_tweets.json")
    with Stubber(client) as stubber:
        for _ in range(3):
            stubber.add_client_error(
                "transact_write_items", **canceled(["None", "None", "ThrottlingError"])
            )
        response = consumer_app.lambda_handler(event, lambda_context)

    assert response["batchItemFailures"] == [
        {"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record in event["Records"]
    ]
    assert items_with_prefix("TWEET#") == []
    assert len(sleep.delays) == 2


# --- cost per 1,000 tweets ------------------------------------------------------------------


@pytest.mark.slow  # moto snapshots the table per transaction: ~15-50 s
def test_calls_per_1000_tweets(consumer_app: Any, lambda_context: Any) -> None:
    from tests.tweet_record.tweet_samples import kinesis_event

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
    assert dict(counter.calls) == {"TransactWriteItems": 11}  # 1,000 tweets + 10 minute updates
    assert len(items_with_prefix("TWEET#")) == 1_000


def test_store_reports_index_aligned_failures_for_duplicates(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    tweets = [parse_stream_record(record_bytes(tweet_id=n)) for n in ("1", "2", "1")]
    stubber.add_response("transact_write_items", {})
    report = TweetStore(
        lambda: client, TABLE, 30, OffEngine(), Backoff(sleep=RecordedSleep())
    ).store(tweets)
    assert report.failures == [None, None, None]
    assert report.duplicates_skipped == 1
    assert report.tweets_written == 2


class UnavailableEngine:
    name = "comprehend"
    batch_size = 25

    def group(self, document: Any) -> str | None:
        return "en"

    def classify(self, documents: Any) -> Any:
        from tweet_record.sentiment import SentimentUnavailable

        raise SentimentUnavailable("BatchDetectSentiment (en) failed: ThrottlingException")


def test_sentiment_outage_fails_version_1_records_before_any_write(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed  # no responses queued: any DynamoDB call would fail the test
    tweets = [parse_stream_record(record_bytes(tweet_id=n)) for n in ("1", "2")]
    store = TweetStore(
        lambda: client, TABLE, 30, UnavailableEngine(), Backoff(sleep=RecordedSleep())
    )
    report = store.store(tweets)
    assert [type(f).__name__ for f in report.failures] == ["SentimentUnavailable"] * 2
    assert report.tweets_written == 0
    stubber.assert_no_pending_responses()


def test_version_2_records_are_stored_without_any_sentiment_work(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    tweets = [parse_stream_record(record_bytes(tweet_id=n, sentiment="MIXED")) for n in ("1", "2")]
    stubber.add_response("transact_write_items", {})
    report = TweetStore(
        lambda: client, TABLE, 30, UnavailableEngine(), Backoff(sleep=RecordedSleep())
    ).store(tweets)
    assert report.failures == [None, None]
    assert report.tweets_written == 2
