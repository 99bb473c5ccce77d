"""Shapes of the stream record ("trendstream.tweet/2", and the "/1" it extends).

`tweet` and `author` are X API v2 objects exactly as the API returned them, so they are typed
loosely (`XObject`); everything the pipeline adds is typed precisely. Version 2 adds the
tweet's `sentiment` label, computed once by the producer so that neither reader of the stream
scores it again; readers keep accepting version 1 records and score those themselves.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

SCHEMA_VERSION = "trendstream.tweet/2"
"""What the producer writes: version 1 plus ``sentiment``."""
SCHEMA_VERSION_1 = "trendstream.tweet/1"
"""Still accepted by every reader (records put before the upgrade, or by an older producer)."""
ACCEPTED_SCHEMAS: frozenset[str] = frozenset({SCHEMA_VERSION, SCHEMA_VERSION_1})

TopicKind = Literal["trend", "query"]
TOPIC_KINDS: frozenset[str] = frozenset({"trend", "query"})

XObject = dict[str, Any]
"""An X API v2 object (tweet or user) with only the fields that were requested."""


class Topic(TypedDict):
    name: str
    kind: TopicKind
    woeid: NotRequired[int]


class StreamRecord(TypedDict):
    schema: str
    topic: Topic
    tweet: XObject
    author: NotRequired[XObject]
    fetched_at: str
    sentiment: NotRequired[str]
    """Version 2 only: the label of ``tweet_record.sentiment.Sentiment``."""


class LakeRow(TypedDict):
    """One line of ``tweets/…`` in the lake: the Glue table's columns, in this order."""

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
    hashtags: list[str]
    mentions: list[str]
    urls: list[str]
    retweet_count: int | None
    reply_count: int | None
    like_count: int | None
    quote_count: int | None
    sentiment: str
    fetched_at: str
