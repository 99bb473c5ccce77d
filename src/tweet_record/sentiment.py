"""Sentiment labels for tweets, from one of three engines chosen by ``SENTIMENT_ENGINE``.

- ``vader`` (default): VADER, offline and deterministic, so the table and the lake (labelled by
  two different Lambdas) always agree. Labels from the compound score with the thresholds the
  VADER authors recommend (``compound >= 0.05`` positive, ``<= -0.05`` negative, else
  neutral), except that a tweet whose positive and negative shares are both ``>= 0.2`` while
  ``|compound| < 0.5`` is ``MIXED``: strong opposing words pulling the compound towards zero are
  not an absence of sentiment ("great game, terrible referee"). The lexicon is English: other
  languages mostly come out ``NEUTRAL``.
- ``comprehend``: Amazon Comprehend ``BatchDetectSentiment``, ≤ 25 documents and one language per
  call, texts cut to Comprehend's 5,000-byte limit. Tweets in languages Comprehend does not
  support are labelled ``UNSUPPORTED_LANGUAGE`` rather than silently scored by VADER: mixing two
  models' labels in one per-minute count would make the counts meaningless. Documents in the
  response's ``ErrorList`` are labelled ``ERROR``. Both only count towards ``tweet_count``.
- ``off``: every tweet is ``NONE``.

Engines take whole batches so Comprehend can batch; the per-record path never calls AWS. The
producer scores each tweet once (stream records of version 2 carry the label); the consumer and
the transformer only score version 1 records, with ``sentiment_labels``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

from function_support.clients import Timeouts, new_client

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_comprehend.literals import LanguageCodeType


class Sentiment(StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    NEUTRAL = "NEUTRAL"
    MIXED = "MIXED"
    NONE = "NONE"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
    ERROR = "ERROR"


LABELS: frozenset[str] = frozenset(str(label) for label in Sentiment)
"""Every label a stream record may carry."""

VADER_POSITIVE_MIN = 0.05
VADER_NEGATIVE_MAX = -0.05
VADER_MIXED_MIN_SHARE = 0.2
VADER_MIXED_MAX_COMPOUND = 0.5

COMPREHEND_LABELS = frozenset({"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"})
COMPREHEND_BATCH_SIZE = 25
COMPREHEND_MAX_BYTES = 5_000
COMPREHEND_TIMEOUTS = Timeouts(connect=2.0, read=5.0)
COMPREHEND_CALL_SECONDS = COMPREHEND_TIMEOUTS.worst_case_call_seconds()
"""Worst case of one call: every botocore attempt times out, plus its backoff between them."""
COMPREHEND_LANGUAGES: Mapping[str, str] = {
    "en": "en",
    "es": "es",
    "fr": "fr",
    "de": "de",
    "it": "it",
    "pt": "pt",
    "ar": "ar",
    "hi": "hi",
    "ja": "ja",
    "ko": "ko",
    "zh": "zh",
    "zh-cn": "zh",
    "zh-tw": "zh-TW",
}
"""X ``lang`` (BCP 47, lower-cased) → Comprehend language code."""


class SentimentDocument(NamedTuple):
    text: str
    lang: str | None


class SentimentUnavailableError(RuntimeError):
    """The engine's service failed for the whole batch (after retries): retry the records later."""


class SentimentEngine(Protocol):
    name: str
    batch_size: int
    """Documents one service call takes; 1 for local engines (nothing gained by waiting)."""
    call_seconds: float
    """Worst-case seconds of one call (0 for local engines): callers check their deadline."""

    def group(self, document: SentimentDocument) -> str | None:
        """Documents of one group may share a call; ``None``: labelled without any call."""
        ...

    def classify(self, documents: Sequence[SentimentDocument]) -> list[Sentiment]:
        """One label per document, index-aligned."""
        ...


class OffEngine:
    name = "off"
    batch_size = 1
    call_seconds = 0.0

    def group(self, document: SentimentDocument) -> str | None:
        return None

    def classify(self, documents: Sequence[SentimentDocument]) -> list[Sentiment]:
        return [Sentiment.NONE] * len(documents)


class VaderEngine:
    name = "vader"
    batch_size = 1
    call_seconds = 0.0

    def group(self, document: SentimentDocument) -> str | None:
        return ""

    def __init__(self) -> None:
        self._polarity_scores: Callable[[str], dict[str, float]] | None = None

    def _scorer(self) -> Callable[[str], dict[str, float]]:
        # Loading the lexicon takes ~100 ms: pay it on first use, not at import (cold start).
        if self._polarity_scores is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: PLC0415

            self._polarity_scores = SentimentIntensityAnalyzer().polarity_scores
        return self._polarity_scores

    def classify(self, documents: Sequence[SentimentDocument]) -> list[Sentiment]:
        scores = self._scorer()
        return [vader_label(scores(document.text)) for document in documents]


def vader_label(scores: Mapping[str, float]) -> Sentiment:
    """Label of VADER ``polarity_scores`` output (thresholds in the module docstring)."""
    compound = scores["compound"]
    if (
        scores["pos"] >= VADER_MIXED_MIN_SHARE
        and scores["neg"] >= VADER_MIXED_MIN_SHARE
        and abs(compound) < VADER_MIXED_MAX_COMPOUND
    ):
        return Sentiment.MIXED
    if compound >= VADER_POSITIVE_MIN:
        return Sentiment.POSITIVE
    if compound <= VADER_NEGATIVE_MAX:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


def comprehend_language(lang: str | None) -> str | None:
    """Comprehend language code for an X ``lang``, or ``None`` when Comprehend has no model."""
    if lang is None:
        return None
    return COMPREHEND_LANGUAGES.get(lang.lower())


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Longest prefix of ``text`` within ``max_bytes`` UTF-8 bytes, never splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


class ComprehendEngine:
    name = "comprehend"
    batch_size = COMPREHEND_BATCH_SIZE
    call_seconds = COMPREHEND_CALL_SECONDS

    def group(self, document: SentimentDocument) -> str | None:
        """One call per language; unsupported languages are labelled without a call."""
        return comprehend_language(document.lang)

    def __init__(self, client_factory: Callable[[], ComprehendClient] | None = None) -> None:
        self._client_factory = client_factory or _default_comprehend_client
        self._client: ComprehendClient | None = None
        self.calls = 0

    def _comprehend(self) -> ComprehendClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def classify(self, documents: Sequence[SentimentDocument]) -> list[Sentiment]:
        labels = [Sentiment.UNSUPPORTED_LANGUAGE] * len(documents)
        by_language: dict[str, list[int]] = defaultdict(list)
        for index, document in enumerate(documents):
            language = comprehend_language(document.lang)
            if language is not None:
                by_language[language].append(index)
        for language, indexes in by_language.items():
            for start in range(0, len(indexes), COMPREHEND_BATCH_SIZE):
                chunk = indexes[start : start + COMPREHEND_BATCH_SIZE]
                texts = [truncate_utf8(documents[i].text, COMPREHEND_MAX_BYTES) for i in chunk]
                for position, label in enumerate(self._detect(texts, language)):
                    labels[chunk[position]] = label
        return labels

    def _detect(self, texts: list[str], language: str) -> list[Sentiment]:
        # botocore only when Comprehend is the engine: vader/off Lambdas never pay its import.
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            self.calls += 1
            response = self._comprehend().batch_detect_sentiment(
                TextList=texts, LanguageCode=_language_literal(language)
            )
        except (ClientError, BotoCoreError) as error:
            raise SentimentUnavailableError(
                f"BatchDetectSentiment ({language}) failed: {error}"
            ) from error
        labels = [Sentiment.ERROR] * len(texts)
        for result in response.get("ResultList", []):
            index = result.get("Index")
            sentiment = result.get("Sentiment")
            if (
                isinstance(index, int)
                and 0 <= index < len(texts)
                and sentiment in COMPREHEND_LABELS
            ):
                labels[index] = Sentiment(sentiment)
        return labels


def _language_literal(language: str) -> LanguageCodeType:
    return language  # type: ignore[return-value]


def _default_comprehend_client() -> ComprehendClient:
    return new_client("comprehend", COMPREHEND_TIMEOUTS)


ENGINES: Mapping[str, Callable[[], SentimentEngine]] = {
    "vader": VaderEngine,
    "comprehend": ComprehendEngine,
    "off": OffEngine,
}


@cache
def get_engine(name: str) -> SentimentEngine:
    """The engine called ``name``, built once per process (VADER's lexicon loads once)."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"SENTIMENT_ENGINE must be one of {sorted(ENGINES)}, not {name!r}"
        ) from None
    return factory()


def engine_from_env(environ: Mapping[str, str] = os.environ) -> SentimentEngine:
    """The engine named by ``SENTIMENT_ENGINE`` (default ``vader``)."""
    return get_engine(environ.get("SENTIMENT_ENGINE", "").strip().lower() or "vader")


def score(engine: SentimentEngine, documents: Sequence[SentimentDocument]) -> list[str]:
    """Labels as plain strings, ready for items and lake rows."""
    return [str(label) for label in engine.classify(documents)]


class Scorable(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def lang(self) -> str | None: ...
    @property
    def sentiment(self) -> str | None: ...


def sentiment_labels(engine: SentimentEngine, tweets: Sequence[Scorable]) -> list[str]:
    """The label each tweet carries, scoring only the version 1 tweets that carry none."""
    labels = [tweet.sentiment for tweet in tweets]
    missing = [index for index, label in enumerate(labels) if label is None]
    if missing:
        documents = [SentimentDocument(tweets[i].text, tweets[i].lang) for i in missing]
        for index, label in zip(missing, score(engine, documents), strict=True):
            labels[index] = label
    return [label or str(Sentiment.NONE) for label in labels]


__all__ = [
    "LABELS",
    "ComprehendEngine",
    "OffEngine",
    "Sentiment",
    "SentimentDocument",
    "SentimentEngine",
    "SentimentUnavailableError",
    "VaderEngine",
    "engine_from_env",
    "get_engine",
    "score",
    "sentiment_labels",
    "vader_label",
]
