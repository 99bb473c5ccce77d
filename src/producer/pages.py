"""Turn X API v2 response bodies into stream records: the one parsing path shared by the live
client and the replay dataset, so replay exercises exactly what production runs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tweet_record import StreamRecord, Topic, authors_by_id, build_stream_record, make_topic
from tweet_record.topics import topic_name_problem

logger = logging.getLogger(__name__)

XPage = dict[str, Any]
"""An X API v2 response body exactly as the API returns it."""

TWEET_FIELDS = (
    "created_at",
    "lang",
    "author_id",
    "public_metrics",
    "entities",
    "edit_history_tweet_ids",
)
USER_FIELDS = ("username", "name", "public_metrics", "verified")
EXPANSIONS = ("author_id",)


class MalformedPageError(Exception):
    """The response body does not have the documented v2 shape."""


@dataclass(frozen=True)
class SearchPage:
    records: list[StreamRecord]
    tweet_ids: list[str]
    """Ids of every tweet on the page, including skipped ones: they were seen, so since_id may
    move past them."""
    next_token: str | None
    skipped: int


def parse_search_page(page: XPage, topic: Topic, fetched_at: datetime) -> SearchPage:
    """One stream record per tweet in `data`, its author joined from `includes.users`.

    The last page of a search is `{"meta": {"result_count": 0}}` with no `data`: an empty page,
    not an error. A page whose shape is wrong is rejected whole (MalformedPageError); a single tweet
    lacking the fields we requested is skipped and counted, the rest of the page goes on.
    """
    if not isinstance(page, dict):
        raise MalformedPageError(f"search response is {type(page).__name__}, not an object")
    tweets = page.get("data", [])
    if not isinstance(tweets, list):
        raise MalformedPageError("search response `data` is not a list")
    includes = page.get("includes")
    authors = authors_by_id(includes if isinstance(includes, dict) else None)
    records: list[StreamRecord] = []
    tweet_ids: list[str] = []
    skipped = 0
    for tweet in tweets:
        tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise MalformedPageError("search response holds a tweet without a decimal string `id`")
        tweet_ids.append(tweet_id)
        author_id = tweet.get("author_id")
        author = authors.get(author_id) if isinstance(author_id, str) else None
        try:
            records.append(build_stream_record(topic, tweet, author, fetched_at))
        except ValueError as error:
            skipped += 1
            logger.warning("Skipping tweet", extra={"tweet_id": tweet_id, "error": str(error)})
    meta = page.get("meta") or {}
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return SearchPage(
        records, tweet_ids, token if isinstance(token, str) and token else None, skipped
    )


def parse_trends(page: XPage, woeid: int, limit: int) -> list[Topic]:
    """Topics from `GET /2/trends/by/woeid/{woeid}`, in the API's order, at most `limit`."""
    if not isinstance(page, dict):
        raise MalformedPageError(f"trends response is {type(page).__name__}, not an object")
    trends = page.get("data", [])
    if not isinstance(trends, list):
        raise MalformedPageError("trends response `data` is not a list")
    topics: list[Topic] = []
    for trend in trends:
        if len(topics) >= limit:  # MAX_TRENDS=0 (queries only) must yield no trend at all
            break
        name = trend.get("trend_name") if isinstance(trend, dict) else None
        if not isinstance(name, str) or not name.strip():
            continue
        problem = topic_name_problem(name.strip())
        if problem is not None:  # the consumer would quarantine every tweet of it
            logger.warning(
                "Trend skipped: its name breaks the topic name rule",
                extra={"woeid": woeid, "trend": name[:300], "problem": problem},
            )
            continue
        topics.append(make_topic(name.strip(), "trend", woeid=woeid))
    return topics


def search_query(topic: Topic) -> str:
    """The search query for a topic: a trend name with spaces is searched as an exact phrase;
    a user-configured query is sent verbatim (it may use operators)."""
    name = topic["name"]
    if topic["kind"] == "trend" and any(char.isspace() for char in name):
        return '"' + name.replace('"', "") + '"'
    return name


def merge_topics(trends: Iterable[Topic], queries: Iterable[str]) -> list[Topic]:
    """Trends first, then queries; one topic per name (a query equal to a trend: same search)."""
    merged: dict[str, Topic] = {}
    for topic in trends:
        merged.setdefault(topic["name"], topic)
    for query in queries:
        merged.setdefault(query, make_topic(query, "query"))
    return list(merged.values())


def newest_id(ids: Iterable[str]) -> str | None:
    """Tweet ids are decimal snowflakes: compare numerically, never as strings."""
    numeric = [int(tweet_id) for tweet_id in ids if tweet_id.isdigit()]
    return str(max(numeric)) if numeric else None
