"""Parsing a stream record into a validated, flat tweet, or a typed rejection.

Called once per Kinesis record in the consumer (budget: a few microseconds of the ≤ 50 µs
per-record CPU budget) and once per Firehose record, so it uses plain ``dict`` checks and
``orjson`` (a third of the standard library's decode time) rather than a validation framework;
input orjson refuses goes through ``json`` to get the same rejection reasons as before.
Everything it returns has already been checked, so later stages (table items, lake rows) cannot
fail on the content of a record: a record either parses, or is rejected with a reason that never
changes on redelivery (poison).
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode
from enum import StrEnum
from typing import Any, NamedTuple, NoReturn

import orjson

from tweet_record.schema import ACCEPTED_SCHEMAS, SCHEMA_VERSION, TOPIC_KINDS
from tweet_record.sentiment import LABELS
from tweet_record.timestamps import InvalidTimestampError, normalize_utc
from tweet_record.topics import topic_name_problem

MAX_RECORD_BYTES = 300_000
"""Larger records are rejected: their table item could exceed DynamoDB's 400 KB item limit,
which would fail its PutItem on every delivery, forever. A real tweet record is < 10 KB."""

MAX_TEXT_CHARS = 25_000
"""X's longest posts (Premium long-form) are 25,000 characters."""

MAX_TOPIC_CHARS = 512
"""Longer than any topic name (``tweet_record.topics``): the field check before the rule."""
MAX_ID_DIGITS = 20
MAX_COUNT = 2**63 - 1
MAX_DETAIL_CHARS = 200


class RejectReason(StrEnum):
    """Why a record can never be processed; stored with quarantined records."""

    NOT_BASE64 = "NOT_BASE64"
    TOO_LARGE = "TOO_LARGE"
    NOT_UTF8 = "NOT_UTF8"
    NOT_JSON = "NOT_JSON"
    NOT_OBJECT = "NOT_OBJECT"
    WRONG_SCHEMA = "WRONG_SCHEMA"
    MISSING_FIELD = "MISSING_FIELD"
    BAD_FIELD_TYPE = "BAD_FIELD_TYPE"
    BAD_TWEET_ID = "BAD_TWEET_ID"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    BAD_TOPIC = "BAD_TOPIC"
    BAD_TOPIC_KIND = "BAD_TOPIC_KIND"
    BAD_COUNT = "BAD_COUNT"
    AUTHOR_MISMATCH = "AUTHOR_MISMATCH"
    BAD_SENTIMENT = "BAD_SENTIMENT"
    CORRUPT_AGGREGATE = "CORRUPT_AGGREGATE"
    """A KPL-aggregated record whose MD5 check fails or whose body does not parse."""


class RecordRejectedError(ValueError):
    """The record is invalid and will stay invalid: quarantine it, never retry it."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail[:MAX_DETAIL_CHARS]
        super().__init__(f"{reason}: {self.detail}")


class ParsedTweet(NamedTuple):
    """A validated stream record, flattened: what the table and the lake are built from."""

    tweet_id: str
    created_at: str
    text: str
    lang: str | None
    topic: str
    topic_kind: str
    author_id: str | None
    author_username: str | None
    author_name: str | None
    author_followers: int | None
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    urls: tuple[str, ...]
    retweet_count: int | None
    reply_count: int | None
    like_count: int | None
    quote_count: int | None
    fetched_at: str
    is_retweet: bool
    sentiment: str | None = None
    """The producer's label (version 2 records); ``None``: the reader scores the tweet."""


def _reject(reason: RejectReason, detail: str) -> NoReturn:
    raise RecordRejectedError(reason, detail)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _object(parent: dict[str, Any], key: str, path: str, *, required: bool) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        if required:
            _reject(RejectReason.MISSING_FIELD, f"{path} is missing")
        return {}
    if not isinstance(value, dict):
        _reject(RejectReason.BAD_FIELD_TYPE, f"{path} must be an object")
    return value


def _string(parent: dict[str, Any], key: str, path: str, *, max_chars: int = 1_000) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        _reject(RejectReason.BAD_FIELD_TYPE, f"{path} must be a string")
    if len(value) > max_chars:
        _reject(RejectReason.TOO_LARGE, f"{path} is longer than {max_chars} characters")
    return value


def _required_string(parent: dict[str, Any], key: str, path: str, *, max_chars: int) -> str:
    value = _string(parent, key, path, max_chars=max_chars)
    if value is None:
        _reject(RejectReason.MISSING_FIELD, f"{path} is missing")
    return value


def _timestamp(parent: dict[str, Any], key: str, path: str) -> str:
    value = _required_string(parent, key, path, max_chars=64)
    try:
        return normalize_utc(value)
    except InvalidTimestampError as error:
        _reject(RejectReason.BAD_TIMESTAMP, f"{path}: {error}")


def _count(metrics: dict[str, Any], key: str, path: str) -> int | None:
    value = metrics.get(key)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        _reject(RejectReason.BAD_COUNT, f"{path}.{key} must be a non-negative integer")
    return value


def _entity_values(entities: dict[str, Any], kind: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    """First present string among ``keys`` of every entry of ``entities[kind]``."""
    entries = entities.get(kind)
    if entries is None:
        return ()
    if not isinstance(entries, list):
        _reject(RejectReason.BAD_FIELD_TYPE, f"tweet.entities.{kind} must be an array")
    values: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict):
            _reject(RejectReason.BAD_FIELD_TYPE, f"tweet.entities.{kind}[] must be objects")
        for key in keys:
            value = entry.get(key)
            if isinstance(value, str):
                values.append(value)
                break
        else:
            _reject(RejectReason.MISSING_FIELD, f"tweet.entities.{kind}[] needs a string {keys[0]}")
    return tuple(values)


def unescape_x_text(text: str) -> str:
    """The X API returns `text` with `&`, `<` and `>` HTML-escaped; the table, the lake and
    sentiment want what the author wrote. Only those three, `&amp;` last, so a literal `&lt;`
    (sent as `&amp;lt;`) stays `&lt;`; the raw record on the stream keeps the API's form."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_retweet(tweet: dict[str, Any], text: str) -> bool:
    referenced = tweet.get("referenced_tweets")
    if isinstance(referenced, list):
        for reference in referenced:
            if isinstance(reference, dict) and reference.get("type") == "retweeted":
                return True
    return text.startswith("RT @")


def _check_no_lone_surrogates(parsed: ParsedTweet) -> None:
    """JSON ``\\ud800`` escapes decode to strings UTF-8 cannot encode (DynamoDB would refuse)."""
    strings = [value for value in parsed if isinstance(value, str)]
    strings.extend(parsed.hashtags + parsed.mentions + parsed.urls)
    try:
        "".join(strings).encode("utf-8")
    except UnicodeEncodeError as error:
        _reject(RejectReason.NOT_UTF8, f"lone surrogate escape in a string ({error.reason})")


def decode_base64(data: str) -> bytes:
    """An event's base64 ``data`` (Kinesis, Firehose) → the record bytes, or a rejection."""
    try:
        return b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        _reject(RejectReason.NOT_BASE64, f"data is not valid base64: {error}")


def decode_json_object(data: bytes | str) -> dict[str, Any]:
    """Bytes → JSON object, with the rejection reasons every stage shares."""
    if len(data) > MAX_RECORD_BYTES:
        _reject(RejectReason.TOO_LARGE, f"record is {len(data)} bytes (> {MAX_RECORD_BYTES})")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = _decode_slowly(data)  # classify the failure exactly as before
    if not isinstance(document, dict):
        _reject(RejectReason.NOT_OBJECT, f"record is a JSON {type(document).__name__}")
    return document


def _decode_slowly(data: bytes | str) -> Any:
    """The standard library's decode, for what orjson refused: it names the reason."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            _reject(RejectReason.NOT_UTF8, f"invalid UTF-8 at byte {error.start}")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        _reject(RejectReason.NOT_JSON, str(error))


def parse_stream_record(data: bytes | str) -> ParsedTweet:
    """Validate a ``trendstream.tweet/2`` or ``/1`` record and flatten it, or reject it."""
    document = decode_json_object(data)
    schema = document.get("schema")
    if not isinstance(schema, str) or schema not in ACCEPTED_SCHEMAS:
        _reject(RejectReason.WRONG_SCHEMA, f"schema is {schema!r:.64}, not {SCHEMA_VERSION!r}")
    sentiment = None
    if schema == SCHEMA_VERSION:
        sentiment = document.get("sentiment")
        if not isinstance(sentiment, str) or sentiment not in LABELS:
            _reject(RejectReason.BAD_SENTIMENT, f"sentiment is {sentiment!r:.64}")

    topic = _object(document, "topic", "topic", required=True)
    topic_name = _required_string(topic, "name", "topic.name", max_chars=MAX_TOPIC_CHARS)
    problem = topic_name_problem(topic_name)
    if problem is not None:
        _reject(RejectReason.BAD_TOPIC, f"topic.name: {problem}")
    topic_kind = topic.get("kind")
    if not isinstance(topic_kind, str) or topic_kind not in TOPIC_KINDS:
        _reject(RejectReason.BAD_TOPIC_KIND, f"topic.kind is {topic_kind!r:.64}")
    woeid = topic.get("woeid")
    if woeid is not None and type(woeid) is not int:
        _reject(RejectReason.BAD_TOPIC, "topic.woeid must be an integer")

    tweet = _object(document, "tweet", "tweet", required=True)
    tweet_id = _required_string(tweet, "id", "tweet.id", max_chars=MAX_ID_DIGITS)
    if not (tweet_id.isascii() and tweet_id.isdigit()):
        _reject(RejectReason.BAD_TWEET_ID, f"tweet.id {tweet_id!r} is not a decimal id")
    text = unescape_x_text(_required_string(tweet, "text", "tweet.text", max_chars=MAX_TEXT_CHARS))
    created_at = _timestamp(tweet, "created_at", "tweet.created_at")
    fetched_at = _timestamp(document, "fetched_at", "fetched_at")
    metrics = _object(tweet, "public_metrics", "tweet.public_metrics", required=False)
    entities = _object(tweet, "entities", "tweet.entities", required=False)

    author = _object(document, "author", "author", required=False)
    author_id = _string(tweet, "author_id", "tweet.author_id", max_chars=MAX_ID_DIGITS)
    author_own_id = _string(author, "id", "author.id", max_chars=MAX_ID_DIGITS)
    if author_id is None:
        author_id = author_own_id
    elif author_own_id is not None and author_own_id != author_id:
        _reject(RejectReason.AUTHOR_MISMATCH, f"author.id {author_own_id} != {author_id}")
    author_metrics = _object(author, "public_metrics", "author.public_metrics", required=False)

    parsed = ParsedTweet(
        tweet_id=tweet_id,
        created_at=created_at,
        text=text,
        lang=_string(tweet, "lang", "tweet.lang", max_chars=35),
        topic=topic_name,
        topic_kind=topic_kind,
        author_id=author_id,
        author_username=_string(author, "username", "author.username", max_chars=100),
        author_name=_string(author, "name", "author.name", max_chars=200),
        author_followers=_count(author_metrics, "followers_count", "author.public_metrics"),
        hashtags=_entity_values(entities, "hashtags", ("tag",)),
        mentions=_entity_values(entities, "mentions", ("username",)),
        urls=_entity_values(entities, "urls", ("expanded_url", "url")),
        retweet_count=_count(metrics, "retweet_count", "tweet.public_metrics"),
        reply_count=_count(metrics, "reply_count", "tweet.public_metrics"),
        like_count=_count(metrics, "like_count", "tweet.public_metrics"),
        quote_count=_count(metrics, "quote_count", "tweet.public_metrics"),
        fetched_at=fetched_at,
        is_retweet=_is_retweet(tweet, text),
        sentiment=sentiment,
    )
    if _may_hold_surrogates(data):
        _check_no_lone_surrogates(parsed)
    return parsed


def _may_hold_surrogates(data: bytes | str) -> bool:
    """Only a ``\\uD8xx``-style escape (or a ``str`` input) can smuggle a lone surrogate in."""
    if isinstance(data, str):
        return True
    return b"\\ud" in data or b"\\uD" in data
