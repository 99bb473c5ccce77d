"""Bulk writes and exactly-once stats against failures moto cannot produce on cue (Stubber)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from tests.consumer.consumer_helpers import TABLE, CallCounter, items_with_prefix
from tests.tweet_record.tweet_samples import record_bytes

from consumer.retry import Backoff
from consumer.stats import (
    MAX_TRANSACTION_ACTIONS,
    CountRequest,
    StatsCounter,
    StatsCountFailed,
    plan_chunks,
    transaction_actions,
)
from consumer.store import TweetStore
from consumer.writer import TweetWriteFailed, TweetWriter
from tweet_record import parse_stream_record
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


def item(n: int) -> dict[str, Any]:
    return {"pk": {"S": "TOPIC#t"}, "sk": {"S": f"TWEET#{n:04d}"}, "text": {"S": f"tweet {n}"}}


def puts(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"RequestItems": {TABLE: [{"PutRequest": {"Item": i}} for i in items]}}


def request(n: int, minute: int = 0, sentiment: str = "POSITIVE", topic: str = "t") -> CountRequest:
    return CountRequest(topic, str(n), f"2026-11-22T10:{minute:02d}:00.000Z", sentiment, 99)


def canceled(codes: list[str]) -> dict[str, Any]:
    return {
        "service_error_code": "TransactionCanceledException",
        "service_message": f"Transaction cancelled [{', '.join(codes)}]",
        "http_status_code": 400,
        "response_meta": {},
        "modeled_fields": {
            "CancellationReasons": [{"Code": code} for code in codes],
        },
    }


# --- BatchWriteItem --------------------------------------------------------------------------


def test_unprocessed_items_are_resent_in_the_next_call(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    items = [item(n) for n in range(30)]
    stubber.add_response(
        "batch_write_item",
        {
            "UnprocessedItems": {
                TABLE: [{"PutRequest": {"Item": items[3]}}, {"PutRequest": {"Item": items[7]}}]
            }
        },
        puts(items[:25]),
    )
    # the two returned items go first, then the rest of the queue
    stubber.add_response(
        "batch_write_item", {"UnprocessedItems": {}}, puts([items[3], items[7], *items[25:]])
    )

    outcome = TweetWriter(client, TABLE, backoff).write(items)

    stubber.assert_no_pending_responses()
    assert outcome.failed == {}
    assert len(outcome.written) == 30
    assert outcome.calls == 2
    assert outcome.retries == 1
    assert len(sleep.delays) == 1
    assert 0 <= sleep.delays[0] <= 0.05


def test_items_never_processed_fail_after_bounded_attempts(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    items = [item(1), item(2)]
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {TABLE: [{"PutRequest": {"Item": items[1]}}]}},
        puts(items),
    )
    for _ in range(3):
        stubber.add_response(
            "batch_write_item",
            {"UnprocessedItems": {TABLE: [{"PutRequest": {"Item": items[1]}}]}},
            puts([items[1]]),
        )

    outcome = TweetWriter(client, TABLE, backoff).write(items)

    stubber.assert_no_pending_responses()
    assert outcome.written == {("TOPIC#t", "TWEET#0001")}
    assert list(outcome.failed) == [("TOPIC#t", "TWEET#0002")]
    assert isinstance(outcome.failed[("TOPIC#t", "TWEET#0002")], TweetWriteFailed)
    assert len(sleep.delays) == 3
    caps = [0.05, 0.1, 0.2]
    assert all(0 <= delay <= cap for delay, cap in zip(sleep.delays, caps, strict=True))


def test_throttled_calls_are_retried_then_reported(
    stubbed: tuple[Any, Stubber], backoff: Backoff
) -> None:
    client, stubber = stubbed
    items = [item(1)]
    stubber.add_client_error(
        "batch_write_item", "ProvisionedThroughputExceededException", http_status_code=400
    )
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, puts(items))
    assert TweetWriter(client, TABLE, backoff).write(items).failed == {}

    for _ in range(4):
        stubber.add_client_error("batch_write_item", "ThrottlingException", http_status_code=400)
    outcome = TweetWriter(client, TABLE, backoff).write(items)
    assert "ThrottlingException" in str(outcome.failed[("TOPIC#t", "TWEET#0001")])
    stubber.assert_no_pending_responses()


def test_validation_errors_are_not_retried(stubbed: tuple[Any, Stubber], backoff: Backoff) -> None:
    client, stubber = stubbed
    stubber.add_client_error("batch_write_item", "ValidationException", http_status_code=400)
    outcome = TweetWriter(client, TABLE, backoff).write([item(1)])
    assert list(outcome.failed) == [("TOPIC#t", "TWEET#0001")]
    stubber.assert_no_pending_responses()


def test_duplicate_keys_are_collapsed_before_sending(
    stubbed: tuple[Any, Stubber], backoff: Backoff
) -> None:
    client, stubber = stubbed
    newer = {**item(1), "text": {"S": "newer"}}
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, puts([newer, item(2)]))
    outcome = TweetWriter(client, TABLE, backoff).write([item(1), item(2), newer])
    assert len(outcome.written) == 2
    stubber.assert_no_pending_responses()


# --- stats transactions ----------------------------------------------------------------------


def test_plan_chunks_respects_the_100_action_limit() -> None:
    requests = [request(n, minute=n % 7, topic=f"topic{n % 3}") for n in range(1_000)]
    chunks = plan_chunks(requests)
    assert sorted(r.tweet_id for chunk in chunks for r in chunk) == sorted(
        r.tweet_id for r in requests
    )
    for chunk in chunks:
        actions = transaction_actions(TABLE, chunk)
        assert len(actions) <= MAX_TRANSACTION_ACTIONS
        keys = [json.dumps(a.get("Put", {}).get("Item") or a["Update"]["Key"]) for a in actions]
        assert len(keys) == len(set(keys))  # DynamoDB rejects two actions on one item
    assert len(chunks) == 11  # 1,000 markers + 21 (topic, minute) updates, packed


def test_stats_update_increments_every_counter() -> None:
    actions = transaction_actions(
        TABLE,
        [
            request(1, sentiment="POSITIVE"),
            request(2, sentiment="MIXED"),
            request(3, sentiment="NONE"),
        ],
    )
    assert [next(iter(a)) for a in actions] == ["Put", "Put", "Put", "Update"]
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


def test_already_counted_tweets_are_dropped_and_the_rest_counted(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    requests = [request(1), request(2), request(3)]
    stubber.add_client_error(
        "transact_write_items", **canceled(["None", "ConditionalCheckFailed", "None", "None"])
    )
    stubber.add_response(
        "transact_write_items",
        {},
        {"TransactItems": transaction_actions(TABLE, [requests[0], requests[2]])},
    )

    outcome = StatsCounter(client, TABLE, backoff).count(requests)

    stubber.assert_no_pending_responses()
    assert outcome.duplicates == {("t", "2")}
    assert outcome.counted == {("t", "1"), ("t", "3")}
    assert outcome.transactions == 2
    assert sleep.delays == []  # dropping duplicates is progress, not a retry


def test_transaction_conflict_is_retried_with_backoff(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    stubber.add_client_error("transact_write_items", **canceled(["None", "TransactionConflict"]))
    stubber.add_response("transact_write_items", {})

    outcome = StatsCounter(client, TABLE, backoff).count([request(1)])

    assert outcome.counted == {("t", "1")}
    assert outcome.retries == 1
    assert len(sleep.delays) == 1


def test_persistent_throttling_reports_failure_after_bounded_retries(
    stubbed: tuple[Any, Stubber], backoff: Backoff, sleep: RecordedSleep
) -> None:
    client, stubber = stubbed
    for _ in range(4):
        stubber.add_client_error("transact_write_items", "ProvisionedThroughputExceededException")

    outcome = StatsCounter(client, TABLE, backoff).count([request(1), request(2)])

    stubber.assert_no_pending_responses()
    assert outcome.counted == set()
    assert set(outcome.failed) == {("t", "1"), ("t", "2")}
    assert all(isinstance(f, StatsCountFailed) for f in outcome.failed.values())
    assert len(sleep.delays) == 3


def test_throttled_stats_put_records_in_batch_item_failures(
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
            stubber.add_client_error("transact_write_items", "ThrottlingException")
        response = consumer_app.lambda_handler(event, lambda_context)

    assert response["batchItemFailures"] == [
        {"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record in event["Records"]
    ]
    assert items_with_prefix("TWEET#") == []
    assert len(sleep.delays) == 2


# --- cost per 1,000 tweets ------------------------------------------------------------------


@pytest.mark.slow  # moto snapshots the table per transaction: ~15-50 s
def test_calls_per_1000_tweets(
    consumer_app: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.tweet_record.tweet_samples import kinesis_event

    counter = CallCounter(consumer_app.dynamodb())
    payloads = [
        record_bytes(
            tweet_id=str(10_000 + n),
            topic=f"#topic{n % 5}",
            created_at=f"2026-11-22T10:{58 + n % 2}:{n % 60:02d}.000Z",
        )
        for n in range(1_000)
    ]
    response = consumer_app.lambda_handler(kinesis_event(payloads), lambda_context)

    assert response == {"batchItemFailures": []}
    assert counter.calls["BatchWriteItem"] == 40
    assert counter.calls["TransactWriteItems"] == 11  # 1,000 markers + 10 minute updates
    assert len(items_with_prefix("TWEET#")) == 1_000
    with capsys.disabled():
        print(f"\nper 1,000 tweets: {dict(counter.calls)}")


def test_store_reports_index_aligned_failures_for_duplicates(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    tweets = [parse_stream_record(record_bytes(tweet_id=n)) for n in ("1", "2", "1")]
    stubber.add_response("transact_write_items", {})
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    report = TweetStore(
        lambda: client, TABLE, 30, OffEngine(), Backoff(sleep=RecordedSleep())
    ).store(tweets)
    assert report.failures == [None, None, None]
    assert report.duplicates_skipped == 1
    assert report.tweets_written == 2


class UnavailableEngine:
    name = "comprehend"

    def classify(self, documents: Any) -> Any:
        from tweet_record.sentiment import SentimentUnavailable

        raise SentimentUnavailable("BatchDetectSentiment (en) failed: ThrottlingException")


def test_sentiment_outage_fails_the_records_before_any_write(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed  # no responses queued: any DynamoDB call would fail the test
    tweets = [parse_stream_record(record_bytes(tweet_id=n)) for n in ("1", "2")]
    store = TweetStore(
        lambda: client, TABLE, 30, UnavailableEngine(), Backoff(sleep=RecordedSleep())
    )
    report = store.store(tweets)
    assert [type(f).__name__ for f in report.failures] == ["SentimentUnavailable"] * 2
    assert report.tweets_written == 0
    stubber.assert_no_pending_responses()
