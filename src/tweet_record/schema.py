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
