"""DynamoDB items of the EventData table, in the low-level AttributeValue form.

The low-level form is written directly (no ``TypeSerializer``) because the consumer builds one
item per record inside its per-record CPU budget. Keys (docs/data-model.md):

- tweet under a topic:    ``pk=TOPIC#<topic>``, ``sk=TWEET#<created_at>#<tweet_id>``
- a shard's minute stats: ``pk=TOPIC#<topic>``, ``sk=MINUTE#<YYYY-MM-DDTHH:MM>#<shardId>``

A minute's totals are the sum of its shards' partial items. A hot topic (``HOT_TOPIC_KEY_PARTS``)
spreads its items over key parts: part 0 is ``TOPIC#<topic>``, part n > 0 is
``TOPIC#<topic>\x1f<n>`` (U+001F, which a topic name may never contain, so no topic's key is
another topic's part); a tweet's part is a hash of its id, a partial stats item's a hash of its
shard id.

A tweet item names the Kinesis record that created it (``origin``), and a partial stats item the
last record of its shard counted into it (``applied``): ``consumer.writes`` builds exactly-once
counting on the two (its docstring has the argument).

``expires_at`` is ``fetched_at + TTL_DAYS``, not "now + TTL_DAYS": a redelivered record then
produces a byte-identical item, and replayed old tweets still live ``TTL_DAYS`` in the table.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tweet_record.parse import ParsedTweet
from tweet_record.sentiment import Sentiment
from tweet_record.timestamps import expiry_epoch, minute_of
from tweet_record.topics import is_topic_name

DEFAULT_TTL_DAYS = 7
"""Terraform's ``ttl_days`` default (a test holds them equal), for a consumer without TTL_DAYS."""

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
Key = tuple[str, str]

SENTIMENT_COUNTERS: Mapping[str, str] = {
    Sentiment.POSITIVE: "positive",
    Sentiment.NEGATIVE: "negative",
    Sentiment.NEUTRAL: "neutral",
    Sentiment.MIXED: "mixed",
}
"""Stats attribute incremented per sentiment label; other labels only count in tweet_count."""

STATS_COUNTERS: tuple[str, ...] = ("tweet_count", *SENTIMENT_COUNTERS.values())


def ttl_days_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """``TTL_DAYS`` (else ``DEFAULT_TTL_DAYS``); a typo must fail loudly at cold start, not expire
    data."""
    raw = environ.get("TTL_DAYS", "").strip()
    if not raw:
        return DEFAULT_TTL_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"TTL_DAYS must be a whole number of days, not {raw!r}") from None
    if days <= 0:
        raise ValueError(f"TTL_DAYS must be a positive number of days, not {raw!r}")
    return days


TOPIC_PK_PREFIX = "TOPIC#"
KEY_PART_SEPARATOR = "\x1f"
"""Between a hot topic's name and its key part: a control character, which parsing refuses in a
topic name, so ``TOPIC#<topic>`` of one topic is never a part of another (``#`` is allowed)."""
MAX_KEY_PARTS = 100
"""100 partitions take 100,000 write units/s: one topic at a fifth of 500,000 tweets/s."""
HOT_TOPIC_KEY_PARTS_VARIABLE = "HOT_TOPIC_KEY_PARTS"
STATS_SK_PREFIX = "MINUTE#"
MINUTE_LENGTH = len("YYYY-MM-DDTHH:MM")
AFTER_SEPARATOR = "$"
"""The character after ``#``: ``MINUTE#<minute>$`` sorts after every ``MINUTE#<minute>#…``."""

TopicKeyParts = Mapping[str, int]
"""Hot topic -> how many key parts its items spread over; a topic not named has one."""
NO_KEY_PARTS: TopicKeyParts = MappingProxyType({})


def topic_key_parts_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """``HOT_TOPIC_KEY_PARTS``, a JSON object of topic -> parts (1 to ``MAX_KEY_PARTS``); a bad
    value fails at cold start, before a tweet lands under a key its readers do not read."""
    raw = environ.get(HOT_TOPIC_KEY_PARTS_VARIABLE, "").strip()
    if not raw:
        return {}
    problem = f"{HOT_TOPIC_KEY_PARTS_VARIABLE} must be a JSON object of topic -> 1 to"
    problem += f" {MAX_KEY_PARTS} parts, not {raw[:64]!r}"
    try:
        parts = json.loads(raw)
    except ValueError:
        raise ValueError(problem) from None
    if not isinstance(parts, dict) or not all(
        topic.strip()
        and is_topic_name(topic)
        and type(count) is int
        and 1 <= count <= MAX_KEY_PARTS
        for topic, count in parts.items()
    ):
        raise ValueError(problem)
    return parts


def topic_pk(topic: str, part: int = 0) -> str:
    """Part 0 is the topic's own key; a hot topic's further parts carry their number."""
    if part == 0:
        return f"{TOPIC_PK_PREFIX}{topic}"
    return f"{TOPIC_PK_PREFIX}{topic}{KEY_PART_SEPARATOR}{part}"


def topic_pks(topic: str, key_parts: TopicKeyParts = NO_KEY_PARTS) -> list[str]:
    """Every key a topic's items may live under: what a reader queries."""
    return [topic_pk(topic, part) for part in range(key_parts.get(topic, 1))]


def topic_of_pk(pk: str) -> str:
    """The topic a ``TOPIC#`` key (any part) belongs to."""
    return pk.removeprefix(TOPIC_PK_PREFIX).partition(KEY_PART_SEPARATOR)[0]


def key_part(token: str, parts: int) -> int:
    """A stable part for ``token`` (a tweet id, a shard id), spread evenly over ``parts``."""
    if parts <= 1:
        return 0
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % parts


def tweet_key(tweet: ParsedTweet, key_parts: TopicKeyParts = NO_KEY_PARTS) -> Key:
    part = key_part(tweet.tweet_id, key_parts.get(tweet.topic, 1))
    return topic_pk(tweet.topic, part), f"TWEET#{tweet.created_at}#{tweet.tweet_id}"


def stats_key(
    topic: str, created_at: str, shard_id: str, key_parts: TopicKeyParts = NO_KEY_PARTS
) -> Key:
    """The partial stats item of ``shard_id`` for the tweet's minute: one writer per item."""
    part = key_part(shard_id, key_parts.get(topic, 1))
    return topic_pk(topic, part), f"{STATS_SK_PREFIX}{minute_of(created_at)}#{shard_id}"


def minute_of_stats_sk(sort_key: str) -> str:
    """``YYYY-MM-DDTHH:MM`` of a stats sort key (a partial's, or a whole minute's)."""
    return sort_key[len(STATS_SK_PREFIX) : len(STATS_SK_PREFIX) + MINUTE_LENGTH]


def stats_sk_range(first_minute: str, last_minute: str) -> tuple[str, str]:
    """Sort keys bounding every stats item of the minutes ``first`` .. ``last`` (both included),
    for ``sk BETWEEN``."""
    return (
        f"{STATS_SK_PREFIX}{first_minute}",
        f"{STATS_SK_PREFIX}{last_minute}{AFTER_SEPARATOR}",
    )


def tweet_item(
    tweet: ParsedTweet,
    sentiment: str,
    ttl_days: int,
    expires_at: int | None = None,
    origin: str | None = None,
    *,
    key_parts: TopicKeyParts = NO_KEY_PARTS,
) -> Item:
    """The tweet-under-topic item; optional X fields absent from the record are omitted.

    ``expires_at`` may be passed when the caller already computed it, saving a timestamp parse
    per tweet. ``origin`` (``record_origin``) is set by the consumer, never by other writers.
    """
    pk, sk = tweet_key(tweet, key_parts)
    if expires_at is None:
        expires_at = expiry_epoch(tweet.fetched_at, ttl_days)
    item: Item = {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "tweet_id": {"S": tweet.tweet_id},
        "topic": {"S": tweet.topic},
        "topic_kind": {"S": tweet.topic_kind},
        "text": {"S": tweet.text},
        "created_at": {"S": tweet.created_at},
        "fetched_at": {"S": tweet.fetched_at},
        "hashtags": {"L": [{"S": tag} for tag in tweet.hashtags]},
        "sentiment": {"S": sentiment},
        "expires_at": {"N": str(expires_at)},
    }
    if origin is not None:
        item["origin"] = {"S": origin}
    if tweet.author_username is not None:
        item["author_username"] = {"S": tweet.author_username}
    if tweet.author_id is not None:
        item["author_id"] = {"S": tweet.author_id}
    if tweet.lang is not None:
        item["lang"] = {"S": tweet.lang}
    if tweet.like_count is not None:
        item["like_count"] = {"N": str(tweet.like_count)}
    if tweet.retweet_count is not None:
        item["retweet_count"] = {"N": str(tweet.retweet_count)}
    return item


def record_origin(shard_id: str, sequence_number: str, subsequence: int | None = None) -> str:
    """``<shardId>:<sequenceNumber>``, the Kinesis record that created a tweet item, or
    ``<shardId>:<sequenceNumber>:<subSequenceNumber>`` for a user record of a KPL aggregate."""
    if subsequence is None:
        return f"{shard_id}:{sequence_number}"
    return f"{shard_id}:{sequence_number}:{subsequence}"


WATERMARK_ATTRIBUTE = "applied"
"""A partial stats item's watermark: the last sequence number of its shard counted into it."""
WATERMARK_LENGTH_DIGITS = 3


def sequence_watermark(sequence_number: int) -> str:
    """A sequence number as a string whose order is the numbers' order.

    Kinesis sequence numbers are decimal strings of varying length (up to 128 digits), and
    DynamoDB compares strings byte by byte: ``"9" > "10"``. A 3-digit length prefix makes a
    shorter number always sort first, and equal lengths compare digit by digit.
    """
    digits = str(sequence_number)
    if sequence_number < 0 or len(digits) >= 10**WATERMARK_LENGTH_DIGITS:
        raise ValueError(f"not a Kinesis sequence number: {sequence_number}")
    return f"{len(digits):0{WATERMARK_LENGTH_DIGITS}d}{digits}"


def watermark_sequence(watermark: str) -> int:
    """The sequence number ``sequence_watermark`` encoded."""
    return int(watermark[WATERMARK_LENGTH_DIGITS:])


def stats_increments(sentiments: list[str]) -> dict[str, int]:
    """Counter increments for a group of tweets in one (topic, minute).

    Zero increments are kept: ``ADD x :zero`` creates the attribute, so every stats item carries
    all five counters as the contract lists them.
    """
    increments = dict.fromkeys(STATS_COUNTERS, 0)
    increments["tweet_count"] = len(sentiments)
    for sentiment in sentiments:
        counter = SENTIMENT_COUNTERS.get(sentiment)
        if counter is not None:
            increments[counter] += 1
    return increments


def _utf8_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def attribute_size(value: AttributeValue) -> int:
    """Bytes DynamoDB counts for one attribute value (its item-size rules)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        size = _utf8_bytes(inner)
    elif kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        size = (len(digits) + 1) // 2 + 1
    elif kind == "L":
        size = 3 + sum(1 + attribute_size(element) for element in inner)
    elif kind == "M":
        size = 3 + sum(
            1 + _utf8_bytes(name) + attribute_size(element) for name, element in inner.items()
        )
    elif kind in ("BOOL", "NULL"):
        size = 1
    elif kind == "SS":
        size = sum(_utf8_bytes(element) for element in inner)
    else:
        raise ValueError(f"no size rule for attribute type {kind}")
    return size


def item_size(item: Item) -> int:
    """Attribute names plus values, as DynamoDB sizes an item for capacity and its 400 KB limit."""
    return sum(_utf8_bytes(name) + attribute_size(value) for name, value in item.items())
