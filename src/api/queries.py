"""Reads of the EventData table for the API: every call is a ``Query`` on the table's own keys.

A topic's minute stats and tweets share its partition (``pk=TOPIC#<topic>``), so a window is one
key-range ``Query`` per topic, and one per key part for a hot topic spread over several
(``HOT_TOPIC_KEY_PARTS``, ``tweet_record.items``). A minute's counters are the sum of its shards'
partial items. Which topics exist is the discovery index's answer (``api.rankings``). Read costs
per call are in docs/api.md. An item missing an attribute (an older writer, a hand-made row) is
answered with what it holds: counters default to 0, optional tweet fields to null.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tweet_record.items import (
    STATS_COUNTERS,
    TopicKeyParts,
    minute_of_stats_sk,
    stats_sk_range,
    topic_key_parts_from_env,
    topic_pk,
    topic_pks,
)
from tweet_record.topics import TOPIC_NAME_MAX_CHARS, topic_name_problem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MINUTE_FORMAT = "%Y-%m-%dT%H:%M"
MAX_WINDOW_MINUTES = 24 * 60
DEFAULT_WINDOW_MINUTES = 60
MAX_PAGE_SIZE = 100
MAX_TOPIC_LENGTH = TOPIC_NAME_MAX_CHARS
_MINUTE = timedelta(minutes=1)

ClientFactory = Callable[[], "DynamoDBClient"]


class InvalidQueryError(ValueError):
    """The request cannot be answered as asked; the message says what to change."""


class UnknownTopicError(LookupError):
    """The table holds nothing under this topic."""


@dataclass(frozen=True)
class Window:
    """Whole minutes ``first`` .. ``last``, both included."""

    first: datetime
    last: datetime

    @property
    def minutes(self) -> int:
        return int((self.last - self.first) / _MINUTE) + 1

    def each_minute(self) -> Iterator[str]:
        first = self.first.replace(tzinfo=None)  # naive UTC: isoformat() is YYYY-MM-DDTHH:MM:SS
        for index in range(self.minutes):  # never steps past `last` (datetime.max included)
            yield (first + index * _MINUTE).isoformat()[:16]


def _floor_minute(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def window(start: datetime | None, end: datetime | None, now: datetime) -> Window:
    """The minutes from ``start`` to ``end`` (defaults: the last hour up to ``now``)."""
    for name, instant in (("from", start), ("to", end)):
        if instant is not None and instant.tzinfo is None:
            raise InvalidQueryError(f"'{name}' needs a UTC offset, e.g. 2026-11-22T10:00:00Z")
    try:
        last = _floor_minute(end if end is not None else now)
        first = (
            _floor_minute(start)
            if start is not None
            else last - (DEFAULT_WINDOW_MINUTES - 1) * _MINUTE
        )
    except OverflowError:
        raise InvalidQueryError("the window falls outside years 1 to 9999 UTC") from None
    if first > last:
        raise InvalidQueryError("'from' is after 'to': the window is inverted")
    span = Window(first, last)
    if span.minutes > MAX_WINDOW_MINUTES:
        raise InvalidQueryError(
            f"the window spans {span.minutes} minutes; at most {MAX_WINDOW_MINUTES} are allowed"
        )
    return span


def check_topic(topic: str) -> str:
    """The pipeline's own rule (``tweet_record.topics``): every stored topic passes it."""
    problem = topic_name_problem(topic)
    if problem is not None:
        raise InvalidQueryError(problem)
    return topic


def _projection(*names: str) -> dict[str, Any]:
    """A ProjectionExpression with every name aliased (``text``, ``lang``… may be reserved)."""
    return {
        "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
    }


def query_all(client: DynamoDBClient, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Query, following ``LastEvaluatedKey`` past the 1 MB page limit."""
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return
        request = {**request, "ExclusiveStartKey": last_key}


def key_parts() -> TopicKeyParts:
    """The hot topics' key parts, as the consumer writes them (the same variable)."""
    return topic_key_parts_from_env()


def _minute_items(
    client: DynamoDBClient, table: str, topic: str, span: Window
) -> Iterator[dict[str, Any]]:
    """Every partial stats item of the window, from every key part of the topic."""
    first, last = stats_sk_range(
        span.first.strftime(MINUTE_FORMAT), span.last.strftime(MINUTE_FORMAT)
    )
    for pk in topic_pks(topic, key_parts()):
        yield from query_all(
            client,
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
                "ExpressionAttributeValues": {
                    ":pk": {"S": pk},
                    ":first": {"S": first},
                    ":last": {"S": last},
                },
                **_projection("sk", *STATS_COUNTERS),
            },
        )


def _minute_totals(
    client: DynamoDBClient, table: str, topic: str, span: Window
) -> dict[str, list[int]]:
    """Each minute's counters: the sum of its shards' partial items."""
    totals: dict[str, list[int]] = {}
    for item in _minute_items(client, table, topic, span):
        minute = totals.setdefault(minute_of_stats_sk(item["sk"]["S"]), [0] * len(STATS_COUNTERS))
        for index, count in enumerate(_counters(item)):
            minute[index] += count
    return totals


def _number(item: dict[str, Any], name: str) -> int:
    """A whole-number attribute, or 0 when it is absent or not a whole number."""
    value = item.get(name)
    raw = value.get("N") if isinstance(value, dict) else None
    try:
        return int(raw) if isinstance(raw, str) else 0
    except ValueError:
        return 0


def _counters(item: dict[str, Any]) -> list[int]:
    try:  # every counter present and a number: the items the consumer writes
        return [int(item[name]["N"]) for name in STATS_COUNTERS]
    except (KeyError, TypeError, ValueError):
        return [_number(item, name) for name in STATS_COUNTERS]


def topic_exists(client: DynamoDBClient, table: str, topic: str) -> bool:
    """One item read per key part: is anything stored under the topic at all?"""
    return any(
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            Limit=1,
        ).get("Items")
        for pk in topic_pks(topic, key_parts())
    )


def series(client: DynamoDBClient, table: str, topic: str, span: Window) -> dict[str, Any]:
    """Per-minute counts, one column per counter, zero for minutes without tweets."""
    found = _minute_totals(client, table, topic, span)
    if not found and not topic_exists(client, table, topic):
        raise UnknownTopicError(topic)
    minutes = list(span.each_minute())
    zeros = [0] * len(STATS_COUNTERS)
    rows = [found.get(minute, zeros) for minute in minutes]
    columns: dict[str, Any] = {"topic": topic, "minutes": minutes}
    for index, name in enumerate(STATS_COUNTERS):
        columns[name] = [row[index] for row in rows]
    return columns


def minute_counts(
    client: DynamoDBClient, table: str, topic: str, span: Window
) -> Iterator[tuple[str, list[int]]]:
    """(minute, counters in ``STATS_COUNTERS`` order) of each minute of the window with tweets:
    the sum of its shards' partial items over every key part."""
    yield from _minute_totals(client, table, topic, span).items()


def topic_totals(client: DynamoDBClient, table: str, topic: str, span: Window) -> dict[str, Any]:
    """The topic's counters summed over the window."""
    totals = [0] * len(STATS_COUNTERS)
    for item in _minute_items(client, table, topic, span):
        for index, count in enumerate(_counters(item)):
            totals[index] += count  # a minute's partial items add up, so the window's do too
    return {"topic": topic, **dict(zip(STATS_COUNTERS, totals, strict=True))}


def encode_cursor(last_key: dict[str, Any]) -> str:
    """``LastEvaluatedKey`` as opaque URL-safe text."""
    plain = {"pk": last_key["pk"]["S"], "sk": last_key["sk"]["S"]}
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, topic: str) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` a cursor stands for; anything not made by us is rejected."""
    malformed = InvalidQueryError(
        "malformed cursor: pass back the 'next_cursor' of a previous page"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise malformed from None
    if (
        not isinstance(key, dict)
        or set(key) != {"pk", "sk"}
        or not all(isinstance(value, str) for value in key.values())
        or not key["sk"].startswith("TWEET#")
    ):
        raise malformed
    if key["pk"] != topic_pk(topic):
        raise InvalidQueryError("this cursor belongs to another topic's pages")
    return {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}


_TWEET_FIELDS = {
    "tweet_id": "S",
    "created_at": "S",
    "text": "S",
    "author_username": "S",
    "lang": "S",
    "sentiment": "S",
    "like_count": "N",
    "retweet_count": "N",
}


def _tweet(item: dict[str, Any]) -> dict[str, Any]:
    """The tweet's fields; ``created_at`` and ``tweet_id`` fall back to the sort key's."""
    tweet: dict[str, Any] = {}
    for name, kind in _TWEET_FIELDS.items():
        value = item.get(name)
        raw = value.get(kind) if isinstance(value, dict) else None
        tweet[name] = (_number(item, name) if raw is not None else None) if kind == "N" else raw
    _, created_at, tweet_id = [*item["sk"]["S"].split("#", 2), "", ""][:3]
    tweet["created_at"] = tweet["created_at"] or created_at
    tweet["tweet_id"] = tweet["tweet_id"] or tweet_id
    tags = item.get("hashtags")
    elements = tags.get("L") if isinstance(tags, dict) else None
    tweet["hashtags"] = [
        tag["S"]
        for tag in (elements if isinstance(elements, list) else [])
        if isinstance(tag, dict) and isinstance(tag.get("S"), str)
    ]
    return tweet


def _tweet_page(
    client: DynamoDBClient, table: str, pk: str, limit: int, before: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` tweets of one key part, newest first, older than sort key ``before``."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :tweet)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":tweet": {"S": "TWEET#"}},
        **_projection("pk", "sk", "hashtags", *_TWEET_FIELDS),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if before is not None:
        request["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": before}}
    page = client.query(**request)
    return page.get("Items", []), bool(page.get("LastEvaluatedKey"))


def recent_tweets(
    client: DynamoDBClient, table: str, topic: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """One page of the topic's tweets, newest first, and the cursor of the next page.

    A hot topic's key parts are read a page each and merged on the sort key
    (``TWEET#<created_at>#<tweet_id>``, newest last); the cursor is the sort key of the page's
    oldest tweet, where every part resumes.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidQueryError(f"'limit' must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    before = decode_cursor(cursor, topic)["sk"]["S"] if cursor is not None else None
    pages = [_tweet_page(client, table, pk, limit, before) for pk in topic_pks(topic, key_parts())]
    candidates = sorted(
        (item for items, _ in pages for item in items),
        key=lambda item: str(item["sk"]["S"]),
        reverse=True,
    )
    items = candidates[:limit]
    more = len(candidates) > limit or any(truncated for _, truncated in pages)
    if not items and cursor is None and not topic_exists(client, table, topic):
        raise UnknownTopicError(topic)
    next_key = {"pk": {"S": topic_pk(topic)}, "sk": items[-1]["sk"]} if more and items else None
    return {
        "topic": topic,
        "tweets": [_tweet(item) for item in items],
        "next_cursor": encode_cursor(next_key) if next_key else None,
    }
