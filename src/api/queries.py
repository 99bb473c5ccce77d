"""Reads of the EventData table for the API: every call is a ``Query`` on the table's own keys.

No ``Scan`` and no index: a topic's minute stats and tweets share its partition
(``pk=TOPIC#<topic>``), so a window is one key-range ``Query`` per topic, and one per key part
for a hot topic spread over several (``HOT_TOPIC_KEY_PARTS``, ``tweet_record.items``). A
minute's counters are the sum of its shards' partial items. DynamoDB cannot list partitions
without a ``Scan``, so the ranking takes the topics to rank from the caller (or the function's
configured list). Read costs per call are in docs/api.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MINUTE_FORMAT = "%Y-%m-%dT%H:%M"
MAX_WINDOW_MINUTES = 24 * 60
DEFAULT_WINDOW_MINUTES = 60
MAX_TOPICS = 25
MAX_PAGE_SIZE = 100
MAX_TOPIC_LENGTH = 256
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
    if not topic or len(topic) > MAX_TOPIC_LENGTH or not topic.isprintable():
        raise InvalidQueryError(f"a topic is 1 to {MAX_TOPIC_LENGTH} printable characters")
    return topic


def _projection(*names: str) -> dict[str, Any]:
    """A ProjectionExpression with every name aliased (``text``, ``lang``… may be reserved)."""
    return {
        "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
    }


def _query_all(client: DynamoDBClient, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
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
        yield from _query_all(
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


def _counters(item: dict[str, Any]) -> list[int]:
    return [int(item[name]["N"]) if name in item else 0 for name in STATS_COUNTERS]


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


def _topic_totals(client: DynamoDBClient, table: str, topic: str, span: Window) -> dict[str, Any]:
    totals = [0] * len(STATS_COUNTERS)
    for item in _minute_items(client, table, topic, span):
        for index, count in enumerate(_counters(item)):
            totals[index] += count  # a minute's partial items add up, so the window's do too
    return {"topic": topic, **dict(zip(STATS_COUNTERS, totals, strict=True))}


def ranking(
    client_factory: ClientFactory, table: str, topics: Sequence[str], span: Window
) -> list[dict[str, Any]]:
    """Topics with at least one tweet in the window, most tweets first (ties by name)."""
    if not topics:
        raise InvalidQueryError(
            "name the topics to rank with ?topic=<name> (repeat it or comma-join)"
        )
    if len(topics) > MAX_TOPICS:
        raise InvalidQueryError(f"{len(topics)} topics asked; at most {MAX_TOPICS} per call")
    unique = list(dict.fromkeys(check_topic(topic) for topic in topics))
    client = client_factory()
    with ThreadPoolExecutor(max_workers=min(8, len(unique))) as pool:
        totals = list(pool.map(lambda topic: _topic_totals(client, table, topic, span), unique))
    active = [entry for entry in totals if entry["tweet_count"] > 0]
    return sorted(active, key=lambda entry: (-entry["tweet_count"], entry["topic"]))


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
    tweet: dict[str, Any] = {}
    for name, kind in _TWEET_FIELDS.items():
        value = item.get(name, {}).get(kind)
        tweet[name] = int(value) if kind == "N" and value is not None else value
    tweet["hashtags"] = [tag["S"] for tag in item.get("hashtags", {}).get("L", [])]
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
