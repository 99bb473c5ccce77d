import json
from collections import Counter

import pytest
from tests.tweet_record.tweet_samples import LAKE_COLUMNS, record_bytes, record_dict

from tweet_record import parse_stream_record
from tweet_record.items import (
    STATS_COUNTERS,
    item_size,
    key_part,
    minute_of_stats_sk,
    stats_increments,
    stats_key,
    stats_sk_range,
    topic_of_pk,
    topic_pks,
    ttl_days_from_env,
    tweet_item,
)
from tweet_record.lake import encode_lake_line, lake_row


def test_tweet_item_has_the_contract_keys_and_attributes() -> None:
    item = tweet_item(parse_stream_record(record_bytes()), "POSITIVE", ttl_days=30)
    assert item["pk"] == {"S": "TOPIC##Europe"}
    assert item["sk"] == {"S": "TWEET#2026-11-22T10:59:58.000Z#1578516068309794817"}
    assert item["tweet_id"] == {"S": "1578516068309794817"}
    assert item["topic"] == {"S": "#Europe"}
    assert item["author_username"] == {"S": "xdevelopers"}
    assert item["created_at"] == {"S": "2026-11-22T10:59:58.000Z"}
    assert item["lang"] == {"S": "en"}
    assert item["hashtags"] == {"L": [{"S": "Europe"}]}
    assert item["like_count"] == {"N": "12"}
    assert item["retweet_count"] == {"N": "3"}
    assert item["sentiment"] == {"S": "POSITIVE"}
    # fetched_at 2026-11-22T11:00:03Z + 30 days
    assert item["expires_at"] == {"N": str(1795345203 + 30 * 86400)}


def test_tweet_item_is_identical_for_a_redelivered_record() -> None:
    first = tweet_item(parse_stream_record(record_bytes()), "NEUTRAL", 7)
    again = tweet_item(parse_stream_record(record_bytes()), "NEUTRAL", 7)
    assert first == again


def test_tweet_item_omits_absent_optional_fields() -> None:
    document = record_dict()
    del document["author"], document["tweet"]["lang"], document["tweet"]["public_metrics"]
    del document["tweet"]["author_id"]
    item = tweet_item(parse_stream_record(json.dumps(document)), "NONE", 30)
    for absent in ("author_username", "author_id", "lang", "like_count", "retweet_count"):
        assert absent not in item
    assert all(len(value) == 1 for value in item.values())  # one AttributeValue type each


def test_stats_keys() -> None:
    shard = "shardId-000000000003"
    assert stats_key("#Europe", "2026-11-22T10:59:58.000Z", shard) == (
        "TOPIC##Europe",
        "MINUTE#2026-11-22T10:59#shardId-000000000003",
    )
    pk, sk = stats_key("#Europe", "2026-11-22T10:59:58.000Z", shard, {"#Europe": 8})
    assert pk in topic_pks("#Europe", {"#Europe": 8})
    assert topic_of_pk(pk) == "#Europe"
    assert minute_of_stats_sk(sk) == "2026-11-22T10:59"
    first, last = stats_sk_range("2026-11-22T10:59", "2026-11-22T10:59")
    assert first <= sk <= last
    assert not first <= "MINUTE#2026-11-22T11:00#shardId-000000000000" <= last


def test_a_hot_topics_key_parts_are_unambiguous_and_stable() -> None:
    """Part 0 is the topic's own key (a topic made hot keeps what it had); a part is a function
    of the tweet id, and no topic name, ``#`` or not, makes another topic's part."""
    parts = {"#Euro#2026": 5}
    assert topic_pks("#Euro#2026", parts)[0] == "TOPIC##Euro#2026"
    assert len(set(topic_pks("#Euro#2026", parts))) == 5
    assert topic_pks("#Europe", parts) == ["TOPIC##Europe"]
    chosen = Counter(key_part(str(10**18 + n), 5) for n in range(5_000))
    assert set(chosen) == set(range(5))
    assert min(chosen.values()) > 900
    assert key_part("1578516068309794817", 5) == key_part("1578516068309794817", 5)
    assert all(topic_of_pk(pk) == "#Euro#2026" for pk in topic_pks("#Euro#2026", parts))


def test_item_size_follows_dynamodbs_sizing_rules() -> None:
    """Item size = attribute name lengths + value sizes; a number takes about one byte per two
    significant digits plus one; a list 3 bytes plus one per element (DynamoDB developer
    guide, "Item sizes and formats")."""
    assert item_size({"pk": {"S": "TOPIC#é"}}) == 2 + 8
    assert item_size({"n": {"N": "1795345203"}}) == 1 + 6
    assert item_size({"n": {"N": "-0.0500"}}) == 1 + 2
    assert item_size({"tags": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 4 + 3 + 2 + 3
    item = tweet_item(parse_stream_record(record_bytes()), "POSITIVE", ttl_days=30)
    assert 300 < item_size(item) < 1024  # a typical tweet item: one write unit per KB


def test_stats_increments_count_every_label_and_keep_zeroes() -> None:
    increments = stats_increments(["POSITIVE", "POSITIVE", "MIXED", "NONE", "ERROR"])
    assert increments == {
        "tweet_count": 5,
        "positive": 2,
        "negative": 0,
        "neutral": 0,
        "mixed": 1,
    }
    assert tuple(increments) == STATS_COUNTERS


@pytest.mark.parametrize(
    ("environ", "days"), [({}, 7), ({"TTL_DAYS": ""}, 7), ({"TTL_DAYS": " 30 "}, 30)]
)
def test_ttl_days_from_env(environ: dict[str, str], days: int) -> None:
    assert ttl_days_from_env(environ) == days


@pytest.mark.parametrize("value", ["0", "-3", "thirty"])
def test_ttl_days_rejects_nonsense(value: str) -> None:
    with pytest.raises(ValueError, match="TTL_DAYS"):
        ttl_days_from_env({"TTL_DAYS": value})


def test_lake_line_has_every_column_in_order() -> None:
    line = encode_lake_line(lake_row(parse_stream_record(record_bytes()), "POSITIVE"))
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    row = json.loads(line)
    assert tuple(row) == LAKE_COLUMNS
    assert row["hashtags"] == ["Europe"]
    assert row["mentions"] == ["someone"]
    assert row["urls"] == ["https://example.com/article"]
    assert row["author_followers"] == 570_000
    assert row["sentiment"] == "POSITIVE"
    assert row["fetched_at"] == "2026-11-22T11:00:03.000Z"


def test_lake_line_omits_absent_fields_and_escapes_newlines() -> None:
    document = record_dict(text="line one\nline two")
    del document["author"], document["tweet"]["public_metrics"], document["tweet"]["lang"]
    del document["tweet"]["author_id"], document["tweet"]["entities"]
    line = encode_lake_line(lake_row(parse_stream_record(json.dumps(document)), "NONE"))
    assert line.count(b"\n") == 1
    row = json.loads(line)
    assert tuple(row) == (
        "tweet_id",
        "created_at",
        "text",
        "topic",
        "topic_kind",
        "hashtags",
        "mentions",
        "urls",
        "sentiment",
        "fetched_at",
    )
    assert row["text"] == "line one\nline two"
    assert row["hashtags"] == row["mentions"] == row["urls"] == []
