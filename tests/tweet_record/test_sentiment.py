from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tweet_record.sentiment import (
    ComprehendEngine,
    OffEngine,
    Sentiment,
    SentimentDocument,
    SentimentUnavailableError,
    VaderEngine,
    engine_from_env,
    get_engine,
    truncate_utf8,
    vader_label,
)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("what a wonderful day", Sentiment.POSITIVE),
        ("I hate this awful day", Sentiment.NEGATIVE),
        ("The meeting is at 3pm", Sentiment.NEUTRAL),
        ("great game, terrible referee", Sentiment.MIXED),
        ("good bad", Sentiment.MIXED),
    ],
)
def test_vader_labels(text: str, label: Sentiment) -> None:
    assert VaderEngine().classify([SentimentDocument(text, "en")]) == [label]


@pytest.mark.parametrize(
    ("scores", "label"),
    [
        ({"compound": 0.05, "pos": 0.1, "neg": 0.0}, Sentiment.POSITIVE),
        ({"compound": 0.0499, "pos": 0.1, "neg": 0.0}, Sentiment.NEUTRAL),
        ({"compound": -0.05, "pos": 0.0, "neg": 0.1}, Sentiment.NEGATIVE),
        ({"compound": 0.49, "pos": 0.2, "neg": 0.2}, Sentiment.MIXED),
        ({"compound": 0.5, "pos": 0.5, "neg": 0.2}, Sentiment.POSITIVE),
        ({"compound": -0.6, "pos": 0.2, "neg": 0.6}, Sentiment.NEGATIVE),
        ({"compound": 0.0, "pos": 0.19, "neg": 0.3}, Sentiment.NEUTRAL),
    ],
)
def test_vader_thresholds(scores: dict[str, float], label: Sentiment) -> None:
    assert vader_label(scores) is label


def test_vader_is_deterministic_and_batch_aligned() -> None:
    documents = [SentimentDocument(t, "en") for t in ["love it", "hate it", "it is", "love it"]]
    labels = VaderEngine().classify(documents)
    assert labels == VaderEngine().classify(documents)
    assert labels[0] == labels[3] == Sentiment.POSITIVE
    assert labels[1] == Sentiment.NEGATIVE


def test_off_engine() -> None:
    assert OffEngine().classify([SentimentDocument("love", "en")] * 3) == [Sentiment.NONE] * 3


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({}, "vader"),
        ({"SENTIMENT_ENGINE": "OFF"}, "off"),
        ({"SENTIMENT_ENGINE": "comprehend"}, "comprehend"),
    ],
)
def test_engine_from_env(environ: dict[str, str], name: str) -> None:
    engine = engine_from_env(environ)
    assert engine.name == name
    assert engine is engine_from_env(environ)  # built once per process


def test_unknown_engine_fails_loudly() -> None:
    with pytest.raises(ValueError, match="SENTIMENT_ENGINE"):
        get_engine("textblob")


def test_truncate_utf8_never_splits_a_character() -> None:
    assert truncate_utf8("abc", 5) == "abc"
    assert truncate_utf8("ééé", 5) == "éé"
    assert truncate_utf8("🚀🚀", 7) == "🚀"


# --- Comprehend, with botocore's Stubber ---------------------------------------------------


@pytest.fixture
def comprehend() -> Iterator[tuple[ComprehendEngine, Stubber]]:
    client = boto3.client(
        "comprehend",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(client) as stubber:
        yield ComprehendEngine(client_factory=lambda: client), stubber
        stubber.assert_no_pending_responses()


def results(labels: list[str]) -> dict[str, Any]:
    return {
        "ResultList": [
            {
                "Index": index,
                "Sentiment": label,
                "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7, "Mixed": 0.1},
            }
            for index, label in enumerate(labels)
        ],
        "ErrorList": [],
    }


def test_comprehend_batches_of_25(comprehend: tuple[ComprehendEngine, Stubber]) -> None:
    engine, stubber = comprehend
    documents = [SentimentDocument(f"tweet {i}", "en") for i in range(60)]
    expected = [[f"tweet {i}" for i in range(a, b)] for a, b in ((0, 25), (25, 50), (50, 60))]
    for texts in expected:
        stubber.add_response(
            "batch_detect_sentiment",
            results(["POSITIVE"] * len(texts)),
            {"TextList": texts, "LanguageCode": "en"},
        )
    assert engine.classify(documents) == [Sentiment.POSITIVE] * 60
    assert engine.calls == 3


def test_comprehend_one_language_per_call_and_unsupported_languages(
    comprehend: tuple[ComprehendEngine, Stubber],
) -> None:
    engine, stubber = comprehend
    documents = [
        SentimentDocument("hello", "en"),
        SentimentDocument("hola", "es"),
        SentimentDocument("merhaba", "tr"),  # Comprehend has no Turkish sentiment model
        SentimentDocument("bye", "en"),
        SentimentDocument("你好", "zh-tw"),
        SentimentDocument("🚀", "und"),
        SentimentDocument("no lang", None),
    ]
    stubber.add_response(
        "batch_detect_sentiment",
        results(["POSITIVE", "NEGATIVE"]),
        {"TextList": ["hello", "bye"], "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_sentiment", results(["NEUTRAL"]), {"TextList": ["hola"], "LanguageCode": "es"}
    )
    stubber.add_response(
        "batch_detect_sentiment",
        results(["MIXED"]),
        {"TextList": ["你好"], "LanguageCode": "zh-TW"},
    )
    assert engine.classify(documents) == [
        Sentiment.POSITIVE,
        Sentiment.NEUTRAL,
        Sentiment.UNSUPPORTED_LANGUAGE,
        Sentiment.NEGATIVE,
        Sentiment.MIXED,
        Sentiment.UNSUPPORTED_LANGUAGE,
        Sentiment.UNSUPPORTED_LANGUAGE,
    ]


def test_comprehend_error_list_marks_only_those_documents(
    comprehend: tuple[ComprehendEngine, Stubber],
) -> None:
    engine, stubber = comprehend
    response = results(["POSITIVE", "NEGATIVE", "NEUTRAL"])
    del response["ResultList"][1]
    response["ErrorList"] = [
        {"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"}
    ]
    stubber.add_response("batch_detect_sentiment", response)
    labels = engine.classify([SentimentDocument(t, "en") for t in ("a", "b", "c")])
    assert labels == [Sentiment.POSITIVE, Sentiment.ERROR, Sentiment.NEUTRAL]


def test_comprehend_truncates_long_texts(comprehend: tuple[ComprehendEngine, Stubber]) -> None:
    engine, stubber = comprehend
    long_text = "é" * 3_000  # 6,000 bytes
    stubber.add_response(
        "batch_detect_sentiment",
        results(["NEUTRAL"]),
        {"TextList": ["é" * 2_500], "LanguageCode": "fr"},
    )
    assert engine.classify([SentimentDocument(long_text, "fr")]) == [Sentiment.NEUTRAL]


def test_comprehend_call_failure_is_retryable(comprehend: tuple[ComprehendEngine, Stubber]) -> None:
    engine, stubber = comprehend
    stubber.add_client_error(
        "batch_detect_sentiment", service_error_code="ThrottlingException", http_status_code=400
    )
    with pytest.raises(SentimentUnavailableError, match="ThrottlingException"):
        engine.classify([SentimentDocument("a", "en")])


def test_comprehend_without_supported_documents_makes_no_call(
    comprehend: tuple[ComprehendEngine, Stubber],
) -> None:
    engine, _ = comprehend
    assert engine.classify([SentimentDocument("merhaba", "tr")]) == [Sentiment.UNSUPPORTED_LANGUAGE]
    assert engine.classify([]) == []
    assert engine.calls == 0
