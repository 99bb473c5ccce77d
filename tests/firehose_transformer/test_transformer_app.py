"""The Firehose transformer: verdicts, filters, lake lines and the 6 MB response limit."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.tweet_record.tweet_samples import (
    FETCHED_AT,
    LAKE_COLUMNS,
    firehose_event,
    load_event,
    record_bytes,
    x_author,
    x_tweet,
)

from firehose_transformer.transform import (
    RESPONSE_LIMIT_BYTES,
    Filters,
    Verdict,
    fit_response,
    response_size,
    transform,
)
from tweet_record import build_stream_record, encode_stream_record, make_topic, parse_stream_record
from tweet_record.items import tweet_item
from tweet_record.sentiment import OffEngine, VaderEngine


@dataclass
class FakeLambdaContext:
    function_name: str = "trendstream-test-firehose-transformer"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:trendstream-test-firehose-transformer"
    )
    aws_request_id: str = "9f2c0b7e-8d47-4a43-9a55-0b7b3f0b7c11"


@pytest.fixture
def transformer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "SENTIMENT_ENGINE": "vader",
        "POWERTOOLS_SERVICE_NAME": "firehose-transformer",
        "POWERTOOLS_METRICS_NAMESPACE": "trendstream-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DROP_RETWEETS", raising=False)
    monkeypatch.delenv("ALLOWED_LANGUAGES", raising=False)
    from firehose_transformer import app

    app.config.cache_clear()
    yield app
    app.config.cache_clear()


def lines(response: dict[str, Any]) -> list[dict[str, Any] | None]:
    decoded: list[dict[str, Any] | None] = []
    for record in response["records"]:
        if record["result"] != "Ok":
            decoded.append(None)
            continue
        line = base64.b64decode(record["data"])
        assert line.endswith(b"\n")
        assert line.count(b"\n") == 1
        decoded.append(json.loads(line))
    return decoded


def test_every_record_gets_a_verdict_in_order(transformer: Any) -> None:
    event = load_event("firehose_tweets.json")
    response = transformer.lambda_handler(event, FakeLambdaContext())

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    assert [r["result"] for r in response["records"]] == ["Ok", "Ok", "Ok", "ProcessingFailed"]
    assert response["records"][3]["data"] == event["records"][3]["data"]  # raw, unchanged
    rows = lines(response)
    assert rows[0] is not None
    assert tuple(rows[0]) == LAKE_COLUMNS
    assert rows[0]["tweet_id"] == "1578516068309794817"
    assert rows[0]["topic"] == "#Europe"
    assert rows[0]["topic_kind"] == "trend"
    assert rows[0]["urls"] == ["https://example.com/article"]
    assert rows[0]["sentiment"] == "POSITIVE"
    assert rows[2] is not None
    assert rows[2]["lang"] == "de"


def test_user_records_firehose_deaggregated_are_transformed_one_by_one(transformer: Any) -> None:
    """Firehose deaggregates KPL records from a Kinesis source before it invokes the function
    ("Understand data delivery in Amazon Data Firehose",
    https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html): the event (shaped as
    AWS's sample Firehose event with a Kinesis stream source) holds each user record as a
    record, user records of one aggregate sharing its sequenceNumber with their own
    subsequenceNumber. Each is answered by its recordId; the one that does not parse fails alone,
    raw, so Firehose writes only it to errors/."""
    event = load_event("firehose_kinesis_kpl.json")
    metadata = [r["kinesisRecordMetadata"] for r in event["records"]]
    assert [m["subsequenceNumber"] for m in metadata] == [0, 1, 2, 3, 0, 0, 1]
    assert len({m["sequenceNumber"] for m in metadata}) == 3

    response = transformer.lambda_handler(event, FakeLambdaContext())

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    assert [r["result"] for r in response["records"]] == [
        "Ok",
        "Ok",
        "ProcessingFailed",
        "Ok",
        "Ok",
        "Ok",
        "Ok",
    ]
    assert response["records"][2]["data"] == event["records"][2]["data"]
    rows = lines(response)
    assert [row["tweet_id"] if row else None for row in rows] == [
        m["partitionKey"] if index != 2 else None for index, m in enumerate(metadata)
    ]


def test_drop_retweets(transformer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROP_RETWEETS", "true")
    response = transformer.lambda_handler(load_event("firehose_tweets.json"), FakeLambdaContext())
    assert [r["result"] for r in response["records"]] == ["Ok", "Dropped", "Ok", "ProcessingFailed"]


def test_allowed_languages(transformer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_LANGUAGES", " EN , fr,")
    response = transformer.lambda_handler(load_event("firehose_tweets.json"), FakeLambdaContext())
    assert [r["result"] for r in response["records"]] == ["Ok", "Ok", "Dropped", "ProcessingFailed"]


def test_filters_from_env() -> None:
    assert Filters.from_env({}) == Filters(False, frozenset())
    assert Filters.from_env({"DROP_RETWEETS": "no", "ALLOWED_LANGUAGES": ""}) == Filters()
    filters = Filters.from_env({"DROP_RETWEETS": "1", "ALLOWED_LANGUAGES": "en,ja"})
    assert filters == Filters(True, frozenset({"en", "ja"}))
    no_lang = parse_stream_record(record_bytes(lang=None))
    assert not filters.keeps(no_lang)
    assert Filters().keeps(no_lang)


def test_lake_sentiment_agrees_with_the_table() -> None:
    payloads = [
        record_bytes(tweet_id=str(n), text=text)
        for n, text in enumerate(
            ["I love it", "I hate it", "It is Monday", "great game, terrible ref"]
        )
    ]
    outcome = transform(
        ((str(n), base64.b64encode(p).decode()) for n, p in enumerate(payloads)),
        VaderEngine(),
        Filters(),
    )
    lake = [json.loads(base64.b64decode(v.data))["sentiment"] for v in outcome.verdicts]
    engine = VaderEngine()
    table = []
    for payload in payloads:
        tweet = parse_stream_record(payload)
        (label,) = engine.classify(
            [
                __import__("tweet_record.sentiment").sentiment.SentimentDocument(
                    tweet.text, tweet.lang
                )
            ]
        )
        table.append(tweet_item(tweet, label, 30)["sentiment"]["S"])
    assert lake == table == ["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]


# --- the 6 MB response limit ---------------------------------------------------------------

WORDS = [
    "data",
    "stream",
    "lambda",
    "kinesis",
    "firehose",
    "europe",
    "football",
    "match",
    "weather",
    "train",
    "delay",
    "coffee",
    "launch",
    "rocket",
    "music",
    "festival",
    "election",
    "vote",
    "market",
    "stocks",
    "rain",
    "sunny",
    "amazing",
    "terrible",
    "great",
    "awful",
    "happy",
    "sad",
    "news",
    "breaking",
    "live",
    "update",
    "thread",
    "🚀",
    "🎉",
    "⚽",
    "café",
    "naïve",
    "Grüße",
]


def realistic_record(rng: random.Random, n: int) -> bytes:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 45)))
    tags = rng.sample(["Europe", "AWS", "Python", "Data", "Kinesis", "Football"], rng.randint(0, 3))
    tweet = x_tweet(
        tweet_id=str(1_600_000_000_000_000_000 + n),
        text=text + " " + " ".join(f"#{t}" for t in tags),
    )
    tweet["entities"]["hashtags"] = [{"start": 0, "end": len(t) + 1, "tag": t} for t in tags]
    return encode_stream_record(
        build_stream_record(
            make_topic(f"#{rng.choice(tags or ['Europe'])}", "trend", 1),
            tweet,
            x_author(),
            FETCHED_AT,
        )
    )


def test_full_3_mb_batch_of_realistic_tweets_answers_under_6_mb(
    transformer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(2026)
    payloads: list[bytes] = []
    while sum(map(len, payloads)) < 3 * 1024 * 1024:
        payloads.append(realistic_record(rng, len(payloads)))
    payloads.pop()  # stay within the 3 MB buffer
    event = firehose_event(payloads)
    response = transformer.lambda_handler(event, FakeLambdaContext())

    request_bytes = len(json.dumps(event))
    response_bytes = len(json.dumps(response))
    assert {r["result"] for r in response["records"]} == {"Ok"}
    assert len(response["records"]) == len(payloads)
    assert response_bytes < RESPONSE_LIMIT_BYTES
    assert response_bytes < request_bytes
    with capsys.disabled():
        print(
            f"\n3 MB batch: {len(payloads)} records, {sum(map(len, payloads)):,} B raw, "
            f"request {request_bytes:,} B, response {response_bytes:,} B"
        )


def test_minimal_records_answer_smaller_than_their_request() -> None:
    minimal = {
        "schema": "trendstream.tweet/1",
        "topic": {"name": "a", "kind": "query"},
        "tweet": {"id": "1", "text": "", "created_at": "2026-11-22T10:59:58.000Z"},
        "fetched_at": "2026-11-22T11:00:03Z",
    }
    event = firehose_event([json.dumps(minimal, separators=(",", ":")).encode()] * 2_000)
    outcome = transform(
        ((r["recordId"], r["data"]) for r in event["records"]), OffEngine(), Filters()
    )
    assert {v.result for v in outcome.verdicts} == {"Ok"}
    assert response_size(outcome.verdicts) < len(json.dumps(event))


def test_fit_response_falls_back_for_the_biggest_growers() -> None:
    verdicts = [Verdict(f"id{n}", "Ok", "x" * (100 + 10 * n), "y" * 100) for n in range(10)] + [
        Verdict("dropped", "Dropped", "", "z" * 50)
    ]
    limit = response_size(verdicts) - 100  # the two biggest growers save 76 + 66 bytes
    fallbacks = fit_response(verdicts, limit=limit)

    assert response_size(verdicts) <= limit
    assert fallbacks == 2
    assert [v.result for v in verdicts[-3:-1]] == ["ProcessingFailed", "ProcessingFailed"]
    assert verdicts[-2].data == "y" * 100
    assert all(v.result == "Ok" for v in verdicts[:8])


def test_response_size_estimate_is_not_below_the_real_json() -> None:
    event = load_event("firehose_tweets.json")
    outcome = transform(
        ((r["recordId"], r["data"]) for r in event["records"]), VaderEngine(), Filters()
    )
    real = {
        "records": [
            {"recordId": v.record_id, "result": v.result, "data": v.data} for v in outcome.verdicts
        ]
    }
    assert response_size(outcome.verdicts) >= len(json.dumps(real))


# --- fuzz: whatever Firehose sends, every record is answered --------------------------------


@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
            st.text(max_size=40),
            st.sampled_from([base64.b64encode(record_bytes()).decode(), ""]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fuzz_every_record_is_answered(datas: list[str]) -> None:
    records = [(f"r{n}", data) for n, data in enumerate(datas)]
    outcome = transform(records, OffEngine(), Filters())
    assert [v.record_id for v in outcome.verdicts] == [record_id for record_id, _ in records]
    for verdict, (_, data) in zip(outcome.verdicts, records, strict=True):
        assert verdict.result in {"Ok", "Dropped", "ProcessingFailed"}
        if verdict.result == "ProcessingFailed":
            assert verdict.data == data
            assert verdict.reason
        else:
            assert base64.b64decode(verdict.data).endswith(b"\n")


def test_sentiment_outage_fails_the_invocation_for_firehose_to_retry() -> None:
    from tweet_record.sentiment import SentimentUnavailableError

    class Unavailable:
        name = "comprehend"

        def classify(self, documents: Any) -> Any:
            raise SentimentUnavailableError("throttled")

    records = [("r0", base64.b64encode(record_bytes()).decode())]
    with pytest.raises(SentimentUnavailableError):
        transform(records, Unavailable(), Filters())


def test_version_2_records_keep_the_producers_label_without_scoring() -> None:
    from tweet_record.sentiment import SentimentUnavailableError

    class Unavailable:
        name = "comprehend"
        batch_size = 25

        def group(self, document: Any) -> str | None:
            return "en"

        def classify(self, documents: Any) -> Any:
            raise SentimentUnavailableError("a version 2 record must not be scored again")

    records = [
        ("r0", base64.b64encode(record_bytes(tweet_id="1", sentiment="MIXED")).decode()),
        ("r1", base64.b64encode(record_bytes(tweet_id="2", sentiment="NONE")).decode()),
    ]
    outcome = transform(records, Unavailable(), Filters())
    lines = [json.loads(base64.b64decode(v.data)) for v in outcome.verdicts]
    assert [line["sentiment"] for line in lines] == ["MIXED", "NONE"]
