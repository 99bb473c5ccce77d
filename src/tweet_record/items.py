"""DynamoDB items of the EventData table, in the low-level AttributeValue form.

The low-level form is written directly (no ``TypeSerializer``) because the consumer builds one
item per record inside its per-record CPU budget. Keys (docs/data-model.md):

- tweet under a topic: ``pk=TOPIC#<topic>``, ``sk=TWEET#<created_at>#<tweet_id>``
- per-minute stats:    ``pk=TOPIC#<topic>``, ``sk=MINUTE#<YYYY-MM-DDTHH:MM>``

A tweet item names the Kinesis record that created it (``origin``), and a stats item names, per
shard, the last record counted into it (``applied#<shardId>``): ``consumer.writes`` builds
exactly-once counting on the two (its docstring has the argument).

``expires_at`` is ``fetched_at + TTL_DAYS``, not "now + TTL_DAYS": a redelivered record then
produces a byte-identical item, and replayed old tweets still live ``TTL_DAYS`` in the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tweet_record.parse import ParsedTweet
from tweet_record.sentiment import Sentiment
from tweet_record.timestamps import expiry_epoch, minute_of

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


def topic_pk(topic: str) -> str:
    return f"TOPIC#{topic}"


def tweet_key(tweet: ParsedTweet) -> Key:
    return topic_pk(tweet.topic), f"TWEET#{tweet.created_at}#{tweet.tweet_id}"


def stats_key(topic: str, created_at: str) -> Key:
    return topic_pk(topic), f"MINUTE#{minute_of(created_at)}"


def tweet_item(
    tweet: ParsedTweet,
    sentiment: str,
    ttl_days: int,
    expires_at: int | None = None,
    origin: str | None = None,
) -> Item:
    """The tweet-under-topic item; optional X fields absent from the record are omitted.

    ``expires_at`` may be passed when the caller already computed it, saving a timestamp parse
    per tweet. ``origin`` (``record_origin``) is set by the consumer, never by other writers.
    """
    pk, sk = tweet_key(tweet)
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


WATERMARK_PREFIX = "applied#"
WATERMARK_LENGTH_DIGITS = 3


def watermark_attribute(shard_id: str) -> str:
    """The stats attribute holding the last sequence number of ``shard_id`` counted into it."""
    return f"{WATERMARK_PREFIX}{shard_id}"


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
