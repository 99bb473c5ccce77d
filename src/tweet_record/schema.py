"""Shapes of the stream record pinned in CONTRACT.md ("trendstream.tweet/1").

`tweet` and `author` are X API v2 objects exactly as the API returned them, so they are typed
loosely (`XObject`); everything the pipeline adds is typed precisely.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

SCHEMA_VERSION = "trendstream.tweet/1"

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


LAKE_COLUMNS: tuple[str, ...] = tuple(LakeRow.__annotations__)
"""Column order of the lake rows (and of the Glue table)."""
