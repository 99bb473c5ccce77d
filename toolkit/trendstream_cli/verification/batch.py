"""The synthetic tweets of one verification: marked, under topics no one else uses."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from dataclasses import dataclass

from tweet_record import build_stream_record, encode_stream_record, format_utc, make_topic
from tweet_record.items import STATS_SK_PREFIX, topic_pk
from tweet_record.timestamps import minute_of

TOPIC_PREFIX = "trendstream-verify-"
TWEET_AGES_SECONDS = ((0, 1, 61), (0, 2))
"""Two topics; how old each tweet is when put (the first topic spans two minutes of stats).
The first topic's first tweet is put twice."""
AUTHOR_ID = "1"


@dataclass(frozen=True)
class SyntheticTweet:
    tweet_id: str
    topic: str
    created_at: str
    data: bytes
    """The encoded stream record, as the producer would put it."""


@dataclass(frozen=True)
class Batch:
    """Marked tweets under topics no one else uses, one duplicate, one poison record."""

    run_id: str
    tweets: tuple[SyntheticTweet, ...]
    poison: bytes
    poison_key: str

    @property
    def duplicate(self) -> SyntheticTweet:
        return self.tweets[0]

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tweet.topic for tweet in self.tweets))

    def entries(self) -> list[tuple[bytes, str]]:
        """(data, partition key) in put order: the tweets, the duplicate again, the poison."""
        records = [(tweet.data, tweet.tweet_id) for tweet in self.tweets]
        records.append((self.duplicate.data, self.duplicate.tweet_id))
        records.append((self.poison, self.poison_key))
        return records

    def tweets_per_topic(self) -> Counter[str]:
        return Counter(tweet.topic for tweet in self.tweets)

    def expected_minutes(self) -> dict[tuple[str, str], int]:
        """(``TOPIC#<topic>``, ``MINUTE#<minute>``) of each minute -> the tweet_count its shards'
        partial stats items must add up to."""
        return dict(
            Counter(
                (topic_pk(tweet.topic), f"{STATS_SK_PREFIX}{minute_of(tweet.created_at)}")
                for tweet in self.tweets
            )
        )


def make_batch(now: dt.datetime, run_id: str | None = None) -> Batch:
    """The synthetic tweets of one verification, created `now` (a timezone-aware time)."""
    run_id = run_id or f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    total = sum(len(ages) for ages in TWEET_AGES_SECONDS)
    id_base = f"{int(now.timestamp() * 1000):013d}{secrets.randbelow(10_000):04d}"
    author = {
        "id": AUTHOR_ID,
        "username": "trendstream_verify",
        "name": "trendstream verify",
        "public_metrics": {"followers_count": 0, "following_count": 0},
    }
    tweets: list[SyntheticTweet] = []
    for topic_index, ages in enumerate(TWEET_AGES_SECONDS):
        topic = f"{TOPIC_PREFIX}{run_id}-{chr(ord('a') + topic_index)}"
        for age in ages:
            number = len(tweets) + 1
            tweet_id = f"{id_base}{number:02d}"
            text = (
                f"trendstream verify {run_id}: synthetic tweet {number} of {total}, "
                "safe to ignore #trendstreamverify"
            )
            created_at = format_utc(now - dt.timedelta(seconds=age))
            tag_start = text.index("#")
            api_tweet = {
                "id": tweet_id,
                "text": text,
                "created_at": created_at,
                "lang": "en",
                "author_id": AUTHOR_ID,
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 0,
                    "quote_count": 0,
                },
                "entities": {
                    "hashtags": [{"start": tag_start, "end": len(text), "tag": "trendstreamverify"}]
                },
            }
            record = build_stream_record(make_topic(topic, "query"), api_tweet, author, now)
            tweets.append(SyntheticTweet(tweet_id, topic, created_at, encode_stream_record(record)))
    poison = json.dumps(
        {"schema": "trendstream.verify-poison/1", "run_id": run_id, "note": "must be quarantined"},
        separators=(",", ":"),
    ).encode("utf-8")
    return Batch(run_id, tuple(tweets), poison, f"{TOPIC_PREFIX}{run_id}-poison")
