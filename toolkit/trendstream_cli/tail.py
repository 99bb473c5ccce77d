"""`trendstream tail`: the latest tweets per topic, read from the DynamoDB table.

Per topic this is one Query per key part (`pk = TOPIC#<topic>`, and a hot topic's further
parts, `sk` begins with `TWEET#`, newest first, `Limit`), so it costs about `limit` items of reads
per part. Without `--topic`, topics are discovered by a Scan for the per-minute stats items (`sk`
begins with `MINUTE#`): a Scan reads, and is billed for, the whole table whatever the filter
keeps, so on a large table name the topics.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from trendstream_cli.outputs import (
    StackOutputsError,
    add_stack_arguments,
    key_parts_of,
    load_stack_outputs,
)
from trendstream_cli.terminal_text import json_visible, visible
from tweet_record.items import (
    NO_KEY_PARTS,
    STATS_SK_PREFIX,
    TOPIC_PK_PREFIX,
    TopicKeyParts,
    minute_of_stats_sk,
    topic_of_pk,
    topic_pks,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TWEET_PREFIX = "TWEET#"
DEFAULT_LIMIT = 10
DEFAULT_MAX_TOPICS = 20
TEXT_WIDTH = 80
MAX_TOPICS_LISTED = 20

EXIT_OK = 0
EXIT_ERROR = 1

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class TailedTweet:
    topic: str
    created_at: str
    author: str
    sentiment: str
    text: str
    tweet_id: str
    like_count: int | None
    retweet_count: int | None


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def discover_topics(dynamodb: DynamoDBClient, table_name: str) -> list[str]:
    """Topics that have per-minute stats, most recently active first (a full-table Scan)."""
    latest_minute: dict[str, str] = {}
    paginator = dynamodb.get_paginator("scan")
    pages = paginator.paginate(
        TableName=table_name,
        FilterExpression="begins_with(sk, :minute)",
        ProjectionExpression="pk, sk",
        ExpressionAttributeValues={":minute": {"S": STATS_SK_PREFIX}},
    )
    for page in pages:
        for item in page.get("Items", []):
            partition, sort = item["pk"]["S"], item["sk"]["S"]
            if not partition.startswith(TOPIC_PK_PREFIX):
                continue
            topic = topic_of_pk(partition)
            latest_minute[topic] = max(latest_minute.get(topic, ""), minute_of_stats_sk(sort))
    return sorted(latest_minute, key=lambda topic: (latest_minute[topic], topic), reverse=True)


def latest_tweets(
    dynamodb: DynamoDBClient,
    table_name: str,
    topic: str,
    limit: int,
    key_parts: TopicKeyParts = NO_KEY_PARTS,
) -> list[TailedTweet]:
    """The topic's newest `limit` tweets over its key parts: the sort key orders them by
    `created_at`."""
    items = []
    for pk in topic_pks(topic, key_parts):
        response = dynamodb.query(
            TableName=table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :tweet)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":tweet": {"S": TWEET_PREFIX}},
            ScanIndexForward=False,
            Limit=limit,
        )
        items.extend(response.get("Items", []))
    newest = sorted(items, key=lambda item: str(item["sk"]["S"]), reverse=True)[:limit]
    return [to_tailed_tweet(topic, _plain(item)) for item in newest]


def to_tailed_tweet(topic: str, item: Mapping[str, Any]) -> TailedTweet:
    """One table row; tolerant of missing attributes, as items from older writers may be."""
    return TailedTweet(
        topic=str(item.get("topic", topic)),
        created_at=str(item.get("created_at", "")),
        author=str(item.get("author_username", "")),
        sentiment=_sentiment_text(item.get("sentiment")),
        text=str(item.get("text", "")),
        tweet_id=str(item.get("tweet_id", "")),
        like_count=_optional_int(item.get("like_count")),
        retweet_count=_optional_int(item.get("retweet_count")),
    )


def _sentiment_text(value: Any) -> str:
    """A label, or a label and score when the consumer stored a map."""
    if isinstance(value, Mapping):
        label = value.get("label", value.get("sentiment", ""))
        score = value.get("compound", value.get("score"))
        return (
            f"{label} {float(score):+.2f}"
            if isinstance(score, Decimal | float | int)
            else str(label)
        )
    return "" if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, Decimal | int) else None


class UnknownTopicError(Exception):
    """A topic asked for has never had a tweet in the table; the message lists those that have."""


def tail(
    outputs: Mapping[str, Any],
    *,
    topics: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
    max_topics: int = DEFAULT_MAX_TOPICS,
    session: boto3.session.Session | None = None,
) -> list[TailedTweet]:
    """The newest tweets of each topic (given, or the most recently active discovered ones).

    A given topic with no tweet is looked up among the discovered ones (a Scan, paid only then):
    a topic the table has never seen is an `UnknownTopicError` naming the ones it has.
    """
    session = session or boto3.session.Session()
    dynamodb = session.client("dynamodb")
    if "table_name" not in outputs:
        raise KeyError("stack outputs lack 'table_name'")
    table_name = str(outputs["table_name"])
    chosen = list(dict.fromkeys(topics)) or discover_topics(dynamodb, table_name)[:max_topics]
    tweets: list[TailedTweet] = []
    silent: list[str] = []
    key_parts = key_parts_of(outputs)
    for topic in chosen:
        found = latest_tweets(dynamodb, table_name, topic, limit, key_parts)
        if not found:
            silent.append(topic)
        tweets.extend(found)
    if topics and silent:
        known = discover_topics(dynamodb, table_name)
        unknown = [topic for topic in silent if topic not in known]
        if unknown:
            raise UnknownTopicError(unknown_topic_message(unknown, known))
    return tweets


def unknown_topic_message(unknown: Sequence[str], known: Sequence[str]) -> str:
    """Which topics are unknown, a near spelling where there is one, and which topics exist."""
    parts = []
    for topic in unknown:
        close = [name for name in known if name.casefold() == topic.casefold()]
        close = close or difflib.get_close_matches(topic, known, n=1)
        parts.append(f"{topic!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    shown = ", ".join(known[:MAX_TOPICS_LISTED]) or "none yet"
    more = f" and {len(known) - MAX_TOPICS_LISTED} more" if len(known) > MAX_TOPICS_LISTED else ""
    return (
        f"no tweets ever stored for topic {', '.join(parts)}; "
        f"topics in the table, most recently active first: {shown}{more}"
    )


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render(tweets: Sequence[TailedTweet], output_format: str, stream: TextIO) -> None:
    if output_format == "json":
        document = json.dumps([asdict(tweet) for tweet in tweets], indent=2, ensure_ascii=False)
        stream.write(json_visible(document) + "\n")
        return
    table = Table(title="latest tweets per topic", caption=f"{len(tweets)} tweets")
    for column in ("topic", "created_at", "author", "sentiment", "text"):
        table.add_column(column, overflow="fold" if column != "text" else "ellipsis")
    for tweet in tweets:
        author = f"@{tweet.author}" if tweet.author else ""
        # Plain Text: a tweet's `[/]` or `[link=...]` is shown as written, never read as markup,
        # and its control characters as escapes, never acted on by the terminal.
        table.add_row(
            *(
                Text(visible(value))
                for value in (
                    tweet.topic,
                    tweet.created_at,
                    author,
                    tweet.sentiment,
                    _one_line(tweet.text, TEXT_WIDTH),
                )
            )
        )
    Console(file=stream).print(table)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topic",
        action="append",
        default=[],
        dest="topics",
        help="a topic to show (repeatable); default: discover topics by a full-table Scan",
    )
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help="tweets per topic (default %(default)s)"
    )
    parser.add_argument(
        "--max-topics",
        type=int,
        default=DEFAULT_MAX_TOPICS,
        help="discovered topics to show, most recently active first (default %(default)s)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    if args.limit < 1 or args.max_topics < 1:
        errors.print("[red]--limit and --max-topics must be at least 1[/red]")
        return EXIT_ERROR
    try:
        outputs = load_stack_outputs(args)
        tweets = tail(outputs, topics=args.topics, limit=args.limit, max_topics=args.max_topics)
    except (StackOutputsError, ClientError, BotoCoreError, UnknownTopicError) as error:
        errors.print(
            f"[red]tail failed:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        return EXIT_ERROR
    except KeyError as error:
        errors.print(f"[red]tail failed:[/red] {escape(str(error.args[0]))}", highlight=False)
        return EXIT_ERROR
    render(tweets, args.format, sys.stdout)
    return EXIT_OK
