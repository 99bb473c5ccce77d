"""Rankings over the topics the pipeline found: the busiest of a window, and the rising ones.

Which topics were active comes from the sparse discovery index (``tweet_record.activity``): one
``Query`` per hour partition the window touches, its sort key bounded to the window's minutes,
answering one key per active (topic, minute). The counters then come from each topic's own
minute items (``queries.topic_totals``), at most ``MAX_DISCOVERED`` topics per call: those with
the most active minutes. Read units per call are in docs/api.md.

Trending compares a topic's recent tweets with its own baseline (docs/api.md "Trending"):
``score = (recent + PSEUDO_COUNT) / (expected + PSEUDO_COUNT)``, where ``expected`` is the
baseline's tweets scaled to the recent window's length. The pseudo-count is a prior of "no
change" worth ``PSEUDO_COUNT`` tweets: a topic with a handful of tweets and no history cannot
outrank a topic whose rise is carried by many tweets, and a topic without history still rises
when it gathers enough.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from api.queries import (
    MINUTE_FORMAT,
    ClientFactory,
    InvalidQueryError,
    Window,
    check_topic,
    minute_counts,
    query_all,
    topic_totals,
)
from tweet_record.activity import ACTIVE_HOUR_ATTRIBUTE, ACTIVITY_INDEX
from tweet_record.items import STATS_COUNTERS, minute_of_stats_sk, stats_sk_range, topic_of_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_DISCOVERED = 50
"""Topics whose counters one call reads, at most (those with the most active minutes)."""
MAX_NAMED = 25
"""Topics a caller (``topic=``) or the configuration (``TOPICS``) may name per call."""
MAX_LIMIT = 100
PARALLEL_QUERIES = 8
PSEUDO_COUNT = 5.0
"""Tweets of prior belief that the recent rate equals the baseline rate."""
MIN_RECENT_TWEETS = 3
"""A topic needs this many recent tweets to be listed as rising at all."""
DEFAULT_RECENT_MINUTES = 15
DEFAULT_BASELINE_MINUTES = 180
_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)

Task = TypeVar("Task")
Answer = TypeVar("Answer")


@cache
def _executor() -> ThreadPoolExecutor:
    """Shared by the invocations of a warm sandbox (botocore clients are thread safe)."""
    return ThreadPoolExecutor(max_workers=PARALLEL_QUERIES, thread_name_prefix="dynamodb-query")


def _in_parallel(call: Callable[[Task], Answer], tasks: Sequence[Task]) -> list[Answer]:
    """``[call(task) for task in tasks]``, ``PARALLEL_QUERIES`` round trips at a time."""
    if len(tasks) <= 1:
        return [call(task) for task in tasks]
    return list(_executor().map(call, tasks))


def _hour_spans(span: Window) -> Iterator[tuple[str, str, str]]:
    """(hour partition, first minute, last minute) of each hour the window touches."""
    hour = span.first.replace(minute=0)
    while hour <= span.last:
        first = max(span.first, hour)
        last = min(span.last, hour + _HOUR - _MINUTE)
        yield (
            hour.strftime("%Y-%m-%dT%H"),
            first.strftime(MINUTE_FORMAT),
            last.strftime(MINUTE_FORMAT),
        )
        if hour + _HOUR <= hour:  # the end of datetime
            return
        hour += _HOUR


def active_minutes(client: DynamoDBClient, table: str, span: Window) -> Counter[str]:
    """Topic -> minutes with at least one tweet in the window, from the discovery index.

    The index holds one key per partial stats item (a minute of a topic's key part fed by one
    shard), so a topic's minutes are counted once however many shards and parts wrote them.
    """

    def one_hour(hour_span: tuple[str, str, str]) -> set[tuple[str, str]]:
        hour, first, last = hour_span
        low, high = stats_sk_range(first, last)
        found: set[tuple[str, str]] = set()
        for item in query_all(
            client,
            {
                "TableName": table,
                "IndexName": ACTIVITY_INDEX,
                "KeyConditionExpression": "#hour = :hour AND sk BETWEEN :first AND :last",
                "ExpressionAttributeNames": {"#hour": ACTIVE_HOUR_ATTRIBUTE, "#pk": "pk"},
                "ExpressionAttributeValues": {
                    ":hour": {"S": hour},
                    ":first": {"S": low},
                    ":last": {"S": high},
                },
                "ProjectionExpression": "#pk, sk",
            },
        ):
            pk = item.get("pk", {}).get("S")
            sk = item.get("sk", {}).get("S")
            if pk is not None and sk is not None and pk.startswith("TOPIC#"):
                found.add((topic_of_pk(pk), minute_of_stats_sk(sk)))
        return found

    total: Counter[str] = Counter()
    for found in _in_parallel(one_hour, list(_hour_spans(span))):
        total.update(topic for topic, _ in found)
    return total


def candidates(client: DynamoDBClient, table: str, span: Window, named: Sequence[str]) -> list[str]:
    """The topics to rank: those named (checked against the rule), else the most active ones."""
    if named:
        if len(named) > MAX_NAMED:
            raise InvalidQueryError(f"{len(named)} topics asked; at most {MAX_NAMED} per call")
        return list(dict.fromkeys(check_topic(topic) for topic in named))
    found = active_minutes(client, table, span)
    busiest = sorted(found.items(), key=lambda entry: (-entry[1], entry[0]))
    return [topic for topic, _ in busiest[:MAX_DISCOVERED]]


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQueryError(f"'limit' must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def top_topics(
    client_factory: ClientFactory,
    table: str,
    span: Window,
    named: Sequence[str],
    limit: int,
) -> list[dict[str, Any]]:
    """The busiest topics of the window, most tweets first (ties by name)."""
    check_limit(limit)
    client = client_factory()
    topics = candidates(client, table, span, named)
    totals = _in_parallel(lambda topic: topic_totals(client, table, topic, span), topics)
    active = [entry for entry in totals if entry["tweet_count"] > 0]
    return sorted(active, key=lambda entry: (-entry["tweet_count"], entry["topic"]))[:limit]


@dataclass(frozen=True)
class TrendWindows:
    """The recent window and the baseline right before it."""

    recent: Window
    baseline: Window

    @property
    def whole(self) -> Window:
        return Window(self.baseline.first, self.recent.last)


def trend_windows(end: datetime, recent_minutes: int, baseline_minutes: int) -> TrendWindows:
    """``recent_minutes`` up to ``end`` (a whole minute), after ``baseline_minutes`` before it."""
    if not 1 <= recent_minutes <= 60:
        raise InvalidQueryError(f"'recent' must be 1 to 60 minutes, not {recent_minutes}")
    if not recent_minutes <= baseline_minutes <= 24 * 60 - recent_minutes:
        raise InvalidQueryError(
            f"'baseline' must be {recent_minutes} to {24 * 60 - recent_minutes} minutes "
            f"(at least 'recent', and both within a day), not {baseline_minutes}"
        )
    try:
        recent_first = end - (recent_minutes - 1) * _MINUTE
        baseline_first = recent_first - baseline_minutes * _MINUTE
    except OverflowError:
        raise InvalidQueryError("the windows fall outside years 1 to 9999 UTC") from None
    return TrendWindows(
        recent=Window(recent_first, end),
        baseline=Window(baseline_first, recent_first - _MINUTE),
    )


def trend_score(recent: int, baseline: int, recent_minutes: int, baseline_minutes: int) -> float:
    """The smoothed ratio of the recent rate to the baseline rate (1.0: no change)."""
    expected = baseline * recent_minutes / baseline_minutes
    return (recent + PSEUDO_COUNT) / (expected + PSEUDO_COUNT)


def _split_totals(
    client: DynamoDBClient, table: str, topic: str, windows: TrendWindows
) -> dict[str, Any]:
    """One Query over baseline and recent minutes: the recent counters and the baseline count."""
    recent_from = windows.recent.first.strftime(MINUTE_FORMAT)
    recent = [0] * len(STATS_COUNTERS)
    baseline = 0
    for minute, counts in minute_counts(client, table, topic, windows.whole):
        if minute >= recent_from:
            recent = [total + count for total, count in zip(recent, counts, strict=True)]
        else:
            baseline += counts[0]
    return {
        "topic": topic,
        "recent": dict(zip(STATS_COUNTERS, recent, strict=True)),
        "baseline": baseline,
    }


def trending(
    client_factory: ClientFactory,
    table: str,
    windows: TrendWindows,
    named: Sequence[str],
    limit: int,
) -> list[dict[str, Any]]:
    """Topics active in the recent window, most risen first (score, then recent tweets, name)."""
    check_limit(limit)
    client = client_factory()
    topics = candidates(client, table, windows.recent, named)
    splits = _in_parallel(lambda topic: _split_totals(client, table, topic, windows), topics)
    recent_minutes, baseline_minutes = windows.recent.minutes, windows.baseline.minutes
    rising = []
    for split in splits:
        recent = split["recent"]
        if recent["tweet_count"] < MIN_RECENT_TWEETS:
            continue
        expected = split["baseline"] * recent_minutes / baseline_minutes
        score = trend_score(
            recent["tweet_count"], split["baseline"], recent_minutes, baseline_minutes
        )
        rising.append(
            {
                "topic": split["topic"],
                "score": round(score, 3),
                "recent_count": recent["tweet_count"],
                "baseline_count": split["baseline"],
                "expected_count": round(expected, 2),
                **{name: recent[name] for name in STATS_COUNTERS if name != "tweet_count"},
            }
        )
    rising.sort(key=lambda entry: (-entry["score"], -entry["recent_count"], entry["topic"]))
    return rising[:limit]
