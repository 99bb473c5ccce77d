import json
from datetime import UTC, datetime

import pytest
from tests.tweet_record.tweet_samples import FETCHED_AT, x_author, x_tweet

from tweet_record import (
    SCHEMA_VERSION,
    SCHEMA_VERSION_1,
    authors_by_id,
    build_stream_record,
    encode_stream_record,
    make_topic,
    parse_stream_record,
    with_sentiment,
)


def test_build_follows_the_contract_shape() -> None:
    record = build_stream_record(
        make_topic("#Europe", "trend", woeid=1), x_tweet(), x_author(), FETCHED_AT
    )
    assert record["schema"] == SCHEMA_VERSION_1
    assert "sentiment" not in record
    assert record["topic"] == {"name": "#Europe", "kind": "trend", "woeid": 1}
    assert record["tweet"] == x_tweet()
    assert record["author"] == x_author()
    assert record["fetched_at"] == "2026-11-22T11:00:03Z"


def test_build_without_author_omits_the_block() -> None:
    record = build_stream_record(make_topic("rust lang", "query"), x_tweet(), None, FETCHED_AT)
    assert "author" not in record
    assert record["topic"] == {"name": "rust lang", "kind": "query"}


def test_build_copies_inputs_so_later_mutation_cannot_leak() -> None:
    tweet = x_tweet()
    record = build_stream_record(make_topic("q", "query"), tweet, None, FETCHED_AT)
    tweet["text"] = "changed"
    assert record["tweet"]["text"] != "changed"


def test_build_rejects_tweets_without_required_fields() -> None:
    tweet = x_tweet()
    del tweet["created_at"]
    with pytest.raises(ValueError, match="created_at"):
        build_stream_record(make_topic("q", "query"), tweet, None, FETCHED_AT)


def test_build_rejects_naive_fetched_at() -> None:
    with pytest.raises(ValueError, match="naive"):
        build_stream_record(
            make_topic("q", "query"),
            x_tweet(),
            None,
            datetime(2026, 1, 1),
        )


@pytest.mark.parametrize(("name", "kind"), [("", "trend"), ("  ", "query"), ("x", "hashtag")])
def test_make_topic_validates(name: str, kind: str) -> None:
    with pytest.raises(ValueError, match="topic"):
        make_topic(name, kind)


def test_encoding_is_canonical_compact_sorted_utf8() -> None:
    tweet = x_tweet(text="Grüße aus Köln 🚀")
    first = build_stream_record(make_topic("#Köln", "trend", 1), tweet, x_author(), FETCHED_AT)
    reordered = json.loads(json.dumps(first, sort_keys=False))
    reordered["tweet"] = dict(reversed(list(reordered["tweet"].items())))
    data = encode_stream_record(first)
    assert data == encode_stream_record(reordered)
    assert b'", "' not in data
    assert b'": ' not in data
    assert "Grüße aus Köln 🚀".encode() in data  # not \\u-escaped
    assert data.startswith(b'{"author":')


def test_encoding_rejects_nan() -> None:
    record = build_stream_record(make_topic("q", "query"), x_tweet(), None, FETCHED_AT)
    record["tweet"]["score"] = float("nan")
    with pytest.raises(ValueError, match="JSON"):
        encode_stream_record(record)


def test_round_trip_through_the_parser() -> None:
    fetched = datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)
    data = encode_stream_record(
        build_stream_record(make_topic("#Europe", "trend", 1), x_tweet(), x_author(), fetched)
    )
    parsed = parse_stream_record(data)
    assert parsed.tweet_id == "1578516068309794817"
    assert parsed.fetched_at == "2026-11-22T11:00:03.000Z"
    assert parsed.author_username == "xdevelopers"


def test_authors_by_id_indexes_includes_users() -> None:
    includes = {"users": [x_author("1"), x_author("2"), {"name": "no id"}, "junk"]}
    authors = authors_by_id(includes)
    assert sorted(authors) == ["1", "2"]
    assert authors_by_id(None) == {}
    assert authors_by_id({}) == {}


def test_with_sentiment_makes_the_version_2_record() -> None:
    record = build_stream_record(make_topic("q", "query"), x_tweet(), None, FETCHED_AT)
    scored = with_sentiment(record, "NEGATIVE")
    assert scored["schema"] == SCHEMA_VERSION == "trendstream.tweet/2"
    assert scored["sentiment"] == "NEGATIVE"
    assert record["schema"] == SCHEMA_VERSION_1  # the version 1 record is left as it was
    assert parse_stream_record(encode_stream_record(scored)).sentiment == "NEGATIVE"
