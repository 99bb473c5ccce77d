"""Flattened lake rows: one JSON line per tweet under ``tweets/`` (newline-delimited JSON).

Columns are written in the Glue table's order. A column X did not send (``lang``, metrics,
author fields) is left out of the line rather than written as ``null``: Athena's JSON SerDe
and DuckDB (with the table's column list) read a missing key as NULL, and the shorter line
keeps the Firehose transformer's response below its request for any record, even minimal ones
(see ``firehose_transformer.transform``). The array columns are always present, empty or not.
"""

from __future__ import annotations

import orjson

from tweet_record.parse import ParsedTweet
from tweet_record.schema import LakeRow

TWEETS_PREFIX = "tweets/"
"""Firehose's delivered rows, one flattened tweet per line, in date partitions."""
ERRORS_PREFIX = "errors/"
"""Firehose's processing failures, by error output type, with the raw record."""
QUARANTINE_PREFIX = "quarantine/"
"""Records a function could never process, with their reason (the consumer's: ``consumer/``)."""
LAKE_PREFIXES = (TWEETS_PREFIX, ERRORS_PREFIX, QUARANTINE_PREFIX)
"""Every top-level prefix of the lake bucket (Terraform's copy: the lake module's ``prefixes``)."""


def lake_row(tweet: ParsedTweet, sentiment: str) -> LakeRow:
    """The lake columns of a parsed tweet, with its sentiment label."""
    return {
        "tweet_id": tweet.tweet_id,
        "created_at": tweet.created_at,
        "text": tweet.text,
        "lang": tweet.lang,
        "topic": tweet.topic,
        "topic_kind": tweet.topic_kind,
        "author_id": tweet.author_id,
        "author_username": tweet.author_username,
        "author_name": tweet.author_name,
        "author_followers": tweet.author_followers,
        "hashtags": list(tweet.hashtags),
        "mentions": list(tweet.mentions),
        "urls": list(tweet.urls),
        "retweet_count": tweet.retweet_count,
        "reply_count": tweet.reply_count,
        "like_count": tweet.like_count,
        "quote_count": tweet.quote_count,
        "sentiment": sentiment,
        "fetched_at": tweet.fetched_at,
    }


def encode_lake_line(row: LakeRow) -> bytes:
    """One UTF-8 JSON line ending in ``\\n``; ``None`` columns omitted (read back as NULL)."""
    present = {column: value for column, value in row.items() if value is not None}
    return orjson.dumps(present, option=orjson.OPT_APPEND_NEWLINE)
