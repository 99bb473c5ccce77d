"""Building and encoding the stream record, as the producer puts it on Kinesis.

The encoding is canonical (UTF-8, no insignificant whitespace, keys sorted) so the same tweet
fetched twice produces the same bytes: Kinesis de-duplication downstream and content hashes in
tests can rely on byte equality.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tweet_record.schema import (
    SCHEMA_VERSION,
    SCHEMA_VERSION_1,
    TOPIC_KINDS,
    StreamRecord,
    Topic,
    XObject,
)
from tweet_record.timestamps import format_utc_seconds
from tweet_record.topics import topic_name_problem


def make_topic(name: str, kind: str, woeid: int | None = None) -> Topic:
    """A topic block; ``kind`` is ``trend`` (with the WOEID it trends in) or ``query``."""
    problem = topic_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    if kind not in TOPIC_KINDS:
        raise ValueError(f"topic kind must be one of {sorted(TOPIC_KINDS)}, not {kind!r}")
    topic: Topic = {"name": name, "kind": "trend" if kind == "trend" else "query"}
    if woeid is not None:
        topic["woeid"] = int(woeid)
    return topic


def build_stream_record(
    topic: Topic,
    tweet: Mapping[str, Any],
    author: Mapping[str, Any] | None,
    fetched_at: datetime,
) -> StreamRecord:
    """The stream record for one tweet seen under one topic, before scoring (version 1).

    ``with_sentiment`` turns it into the version 2 record the producer puts.

    ``tweet`` and ``author`` are X API v2 objects as returned (the author from
    ``includes.users``, matched on ``tweet.author_id``; ``None`` when the expansion was not asked
    for). ``fetched_at`` must be timezone-aware.
    """
    for field in ("id", "text", "created_at"):
        if field not in tweet:
            raise ValueError(f"tweet has no {field!r}: request tweet.fields=created_at")
    record: StreamRecord = {
        "schema": SCHEMA_VERSION_1,
        "topic": topic,
        "tweet": XObject(tweet),
        "fetched_at": format_utc_seconds(fetched_at),
    }
    if author is not None:
        record["author"] = XObject(author)
    return record


def with_sentiment(record: StreamRecord, sentiment: str) -> StreamRecord:
    """The version 2 record: ``record`` with the tweet's sentiment label."""
    scored: StreamRecord = {**record, "schema": SCHEMA_VERSION, "sentiment": sentiment}
    return scored


def encode_stream_record(record: StreamRecord) -> bytes:
    """Canonical bytes of a stream record: the Kinesis record ``Data``."""
    return json.dumps(
        record, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode("utf-8")


def authors_by_id(includes: Mapping[str, Any] | None) -> dict[str, XObject]:
    """Index ``includes.users`` of an X API v2 response by user id, to attach authors to tweets."""
    users = (includes or {}).get("users") or []
    if not isinstance(users, list):
        return {}
    return {
        user["id"]: dict(user)
        for user in users
        if isinstance(user, dict) and isinstance(user.get("id"), str)
    }
