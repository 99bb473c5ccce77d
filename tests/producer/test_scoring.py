"""Sentiment scored once per tweet in the producer, and the retry layers of its PutRecords."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from function_support.clients import (
    APP_MAX_ATTEMPTS,
    BOTOCORE_MAX_ATTEMPTS,
    Timeouts,
    client_config,
)
from function_support.environment import ConfigurationError
from producer.deadline import Deadline, unlimited
from producer.kinesis_writer import KinesisWriter, OutgoingRecord
from producer.scoring import ScoringWriter, engine_from_config
from tweet_record import (
    SCHEMA_VERSION,
    SCHEMA_VERSION_1,
    StreamRecord,
    build_stream_record,
    make_topic,
    utc_now,
)
from tweet_record.sentiment import (
    ComprehendEngine,
    Sentiment,
    SentimentDocument,
    SentimentUnavailableError,
    VaderEngine,
)


class AcceptAll:
    """PutRecords that stores every entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1"} for _ in Records]}

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(entry["Data"]) for entry in self.entries]


class FakeComprehend:
    """BatchDetectSentiment: every document is NEUTRAL; calls and their sizes are recorded."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls.append((LanguageCode, len(TextList)))
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "BatchDetectSentiment")
        return {
            "ResultList": [{"Index": i, "Sentiment": "NEUTRAL"} for i in range(len(TextList))],
            "ErrorList": [],
        }


def record(tweet_id: str, topic: str = "#Europe", lang: str | None = "en") -> StreamRecord:
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": "What a wonderful day",
        "created_at": "2026-11-22T10:59:58.000Z",
    }
    if lang is not None:
        tweet["lang"] = lang
    return build_stream_record(make_topic(topic, "trend", woeid=1), tweet, None, utc_now())


def scoring(engine: Any, deadline: Deadline | None = None) -> tuple[ScoringWriter, AcceptAll]:
    client = AcceptAll()
    writer = KinesisWriter("s", lambda: client)  # type: ignore[arg-type,return-value]
    return ScoringWriter(writer, engine, deadline or unlimited()), client


class CountingVader(VaderEngine):
    def __init__(self) -> None:
        super().__init__()
        self.documents: list[SentimentDocument] = []

    def classify(self, documents: Sequence[SentimentDocument]) -> list[Sentiment]:
        self.documents.extend(documents)
        return super().classify(documents)


def test_a_tweet_under_three_topics_is_scored_once_and_carried_in_version_2() -> None:
    engine = CountingVader()
    writer, client = scoring(engine)
    for topic in ("#Europe", "#Rust", "#Python"):
        writer.add_record(record("1", topic), topic)
    writer.flush()

    assert len(engine.documents) == 1
    documents = client.documents()
    assert [d["schema"] for d in documents] == [SCHEMA_VERSION] * 3
    assert {d["sentiment"] for d in documents} == {"POSITIVE"}
    assert (writer.figures.scored, writer.figures.reused) == (1, 2)


def test_comprehend_calls_carry_25_documents_of_one_language_across_topics() -> None:
    comprehend = FakeComprehend()
    writer, client = scoring(ComprehendEngine(lambda: comprehend))  # type: ignore[arg-type,return-value]
    for n in range(60):
        writer.add_record(record(str(n), topic=f"#topic{n % 7}", lang="en"), f"#topic{n % 7}")
    for n in range(60, 70):
        writer.add_record(record(str(n), lang="es"), "#Europe")
    for n in range(70, 75):
        writer.add_record(record(str(n), lang="tl"), "#Europe")  # no Comprehend model: no call
    assert comprehend.calls == [("en", 25), ("en", 25)]  # full batches go as soon as they fill
    assert writer.pending_by_tag["#Europe"] > 0  # 10 es and the en tail still wait
    assert not writer.is_delivered("#Europe")
    writer.flush()

    assert sorted(comprehend.calls) == [("en", 10), ("en", 25), ("en", 25), ("es", 10)]
    labels = [d["sentiment"] for d in client.documents()]
    assert len(labels) == 75
    assert labels.count("UNSUPPORTED_LANGUAGE") == 5
    assert writer.is_delivered("#Europe")
    assert writer.figures.calls == 4


def test_no_time_for_a_call_puts_version_1_records_for_the_readers_to_score() -> None:
    comprehend = FakeComprehend()
    short = Deadline(lambda: 25_000, safety_margin_seconds=20)  # 5 s left: a call may take 24
    writer, client = scoring(ComprehendEngine(lambda: comprehend), short)  # type: ignore[arg-type,return-value]
    writer.add_record(record("1"), "#Europe")
    writer.flush()

    assert comprehend.calls == []
    (document,) = client.documents()
    assert document["schema"] == SCHEMA_VERSION_1
    assert "sentiment" not in document
    assert writer.figures.unscored == 1
    assert writer.is_delivered("#Europe")


def test_a_comprehend_outage_is_one_failed_call_then_version_1_records() -> None:
    comprehend = FakeComprehend(fail=True)
    writer, client = scoring(ComprehendEngine(lambda: comprehend))  # type: ignore[arg-type,return-value]
    for n in range(30):
        writer.add_record(record(str(n), lang="en" if n < 26 else "fr"), "#Europe")
    writer.flush()

    assert len(comprehend.calls) == 1
    assert {d["schema"] for d in client.documents()} == {SCHEMA_VERSION_1}
    assert isinstance(writer.unavailable, SentimentUnavailableError)


def test_an_unknown_engine_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SENTIMENT_ENGINE"):
        engine_from_config({"SENTIMENT_ENGINE": "textblob"})


def test_worst_case_sends_per_record_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries a throttled PutRecords call (standard mode, 3 attempts); the writer
    resends only entries a successful call reports in FailedRecordCount, at most 4 calls. A
    record answered throttled twice then failed in every call is sent 3 x 4 = 12 times."""
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)
    throttled = (400, {"__type": "ProvisionedThroughputExceededException", "message": "slow"})
    partial = (
        200,
        {
            "FailedRecordCount": 1,
            "Records": [
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "x"}
            ],
        },
    )
    answers = [throttled, throttled, partial] * APP_MAX_ATTEMPTS + [throttled]
    sends = 0

    def answer(request: Any, **_: Any) -> AWSResponse:
        nonlocal sends
        status, body = answers[sends]
        sends += 1
        response = AWSResponse(request.url, status, {}, None)
        response._content = json.dumps(body).encode()  # type: ignore[attr-defined]
        return response

    client = boto3.client(
        "kinesis",
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=client_config(Timeouts(connect=1, read=1)),
    )
    client.meta.events.register("before-send.kinesis.*", answer)
    writer = KinesisWriter("s", lambda: client, sleep=lambda _s: None)
    writer.add(OutgoingRecord("1", b"{}", "t"))
    writer.flush()

    assert sends == BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS == 12
    assert writer.stats.failed == 1
