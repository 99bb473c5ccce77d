"""The read API without being told the topics: discovery, trending, topic names, bad rows, headers.

Events are API Gateway HTTP API payload format 2.0 fixtures from tests/events/ ("Working with
AWS Lambda proxy integrations for HTTP APIs",
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
The table is seeded as the consumer writes it: minute stats carry ``active_hour``, so they appear in
the sparse discovery index ("Take advantage of sparse indexes",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-indexes-general-sparse-indexes.html).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from tests.api.conftest import MARKUP_TOPIC, TABLE, Invoke, minute_item, tweet_item

from tweet_record.topics import TOPIC_NAME_MAX_CHARS

WINDOW = [("from", "2026-11-22T09:00:00Z"), ("to", "2026-11-22T09:44:00Z")]


def put(*items: dict[str, Any]) -> None:
    for item in items:
        boto3.client("dynamodb").put_item(TableName=TABLE, Item=item)


def test_with_no_topic_named_the_ranking_is_of_the_topics_the_pipeline_found(
    invoke: Invoke,
) -> None:
    status, body = invoke("apigw_v2_topics.json", WINDOW)
    assert status == 200
    assert (
        [(t["topic"], t["tweet_count"]) for t in body["topics"]]
        == [
            ("#Europe", 12),
            ("World Cup", 9),
            ("Steady", 60),  # 08:00 is outside 09:00-09:44: not found, not ranked
        ][:2]
    )


def test_a_window_across_hours_reads_each_hour_partition(invoke: Invoke) -> None:
    query = [("from", "2026-11-22T06:00:00Z"), ("to", "2026-11-22T09:59:00Z")]
    status, body = invoke("apigw_v2_topics.json", query)
    assert status == 200
    assert [(t["topic"], t["tweet_count"]) for t in body["topics"]] == [
        ("Steady", 130), ("Rising", 21), ("#Europe", 12), ("World Cup", 9), (MARKUP_TOPIC, 4),
        ("Tiny", 2), ("Quiet", 1),
    ]  # fmt: skip


def test_limit_keeps_the_busiest(invoke: Invoke) -> None:
    query = [("from", "2026-11-22T06:00:00Z"), ("to", "2026-11-22T09:59:00Z"), ("limit", "2")]
    status, body = invoke("apigw_v2_topics.json", query)
    assert status == 200
    assert [t["topic"] for t in body["topics"]] == ["Steady", "Rising"]


def test_configured_topics_pin_the_default_ranking(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOPICS", "World Cup,Nobody")
    status, body = invoke("apigw_v2_topics.json", WINDOW)
    assert status == 200
    assert [t["topic"] for t in body["topics"]] == ["World Cup"]


def test_trending_ranks_the_rise_over_each_topics_own_baseline(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_trending.json")
    assert status == 200
    assert (body["recent_first_minute"], body["recent_last_minute"]) == (
        "2026-11-22T09:45", "2026-11-22T09:59")  # fmt: skip
    assert (body["baseline_first_minute"], body["baseline_last_minute"]) == (
        "2026-11-22T06:45", "2026-11-22T09:44")  # fmt: skip
    rising, markup, steady = body["topics"]
    # Rising: 20 recent tweets against 1 in 180 minutes (0.083 expected in 15).
    assert rising == {
        "topic": "Rising", "score": round(25 / (1 / 12 + 5), 3), "recent_count": 20,
        "baseline_count": 1, "expected_count": 0.08, "positive": 10, "negative": 10,
        "neutral": 0, "mixed": 0,
    }  # fmt: skip
    # No history at all: the prior keeps 4 tweets from looking like a landslide.
    assert (markup["topic"], markup["score"], markup["mixed"]) == (MARKUP_TOPIC, 1.8, 4)
    # As busy as its baseline predicts (120 in 180 minutes -> 10 in 15): no rise.
    assert (steady["topic"], steady["score"], steady["expected_count"]) == ("Steady", 1.0, 10.0)
    # "Tiny" (2 recent tweets) is below the floor; #Europe has no recent tweet.


def test_trending_of_named_topics(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_trending.json", [("to", "2026-11-22T09:59:00Z"),
                                                     ("topic", "Steady,Tiny")])  # fmt: skip
    assert status == 200
    assert [t["topic"] for t in body["topics"]] == ["Steady"]


@pytest.mark.parametrize(
    "topic",
    ["👩‍👩‍👧 family", "x" * TOPIC_NAME_MAX_CHARS, "Ünïcödé 2", MARKUP_TOPIC, "#a #b"],
)
def test_every_name_the_pipeline_stores_can_be_named(invoke: Invoke, topic: str) -> None:
    """The consumer stores what the rule admits; each such name reads back, as data."""
    put(minute_item(topic, "2026-11-22T09:30", {"tweet_count": 1, "positive": 1}))
    put(tweet_item(topic, "2026-11-22T09:30:00.000Z", "77", "POSITIVE"))
    status, series = invoke("apigw_v2_series.json", [("topic", topic), *WINDOW])
    assert (status, series["topic"], sum(series["tweet_count"])) == (200, topic, 1)
    status, tweets = invoke("apigw_v2_tweets.json", [("topic", topic)])
    assert (status, tweets["topic"], len(tweets["tweets"])) == (200, topic, 1)
    status, ranking = invoke("apigw_v2_topics.json", WINDOW)
    assert topic in [entry["topic"] for entry in ranking["topics"]]


def test_a_tweet_without_its_optional_attributes_is_answered_with_what_is_there(
    invoke: Invoke,
) -> None:
    bare = {"pk": {"S": "TOPIC#Bare"}, "sk": {"S": "TWEET#2026-11-22T09:30:00.000Z#88"}}
    odd = {
        **tweet_item("Bare", "2026-11-22T09:31:00.000Z", "89", "NEGATIVE"),
        "like_count": {"S": "many"},
        "hashtags": {"L": [{"S": "ok"}, {"N": "1"}]},
    }
    for name in ("text", "author_username", "sentiment"):
        odd.pop(name)
    put(bare, odd)
    status, page = invoke("apigw_v2_tweets.json", [("topic", "Bare")])
    assert status == 200
    assert page["tweets"] == [
        {"tweet_id": "89", "created_at": "2026-11-22T09:31:00.000Z", "text": None,
         "author_username": None, "lang": "en", "sentiment": None, "like_count": None,
         "retweet_count": 1, "hashtags": ["ok"]},
        {"tweet_id": "88", "created_at": "2026-11-22T09:30:00.000Z", "text": None,
         "author_username": None, "lang": None, "sentiment": None, "like_count": None,
         "retweet_count": None, "hashtags": []},
    ]  # fmt: skip


def test_a_minute_without_its_counters_counts_what_it_holds(invoke: Invoke) -> None:
    partial = minute_item("Partial", "2026-11-22T09:20", {"tweet_count": 3, "positive": 3})
    partial.pop("negative")
    partial["mixed"] = {"S": "not a number"}
    put(partial)
    status, series = invoke("apigw_v2_series.json", [("topic", "Partial"), *WINDOW])
    assert status == 200
    index = series["minutes"].index("2026-11-22T09:20")
    assert [series[name][index] for name in ("tweet_count", "positive", "negative", "mixed")] == [
        3, 3, 0, 0]  # fmt: skip
    status, ranking = invoke("apigw_v2_topics.json", [*WINDOW, ("topic", "Partial")])
    assert (status, ranking["topics"][0]["tweet_count"]) == (200, 3)


@pytest.mark.parametrize(
    ("fixture", "query", "path"),
    [
        ("apigw_v2_topics.json", None, None),
        ("apigw_v2_trending.json", None, None),
        ("apigw_v2_series.json", [("topic", "a,b")], None),  # a 400
        ("apigw_v2_page.json", None, None),
        ("apigw_v2_page.json", None, "/static/page.js"),
        ("apigw_v2_page.json", None, "/static/nothing.js"),  # a 404
    ],
)
def test_every_response_carries_the_security_headers(
    api: Any, fixture: str, query: list[tuple[str, str]] | None, path: str | None
) -> None:
    from tests.api.conftest import FakeLambdaContext, api_event

    response = api.lambda_handler(api_event(fixture, query, path), FakeLambdaContext())
    headers = response["headers"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_swagger_ui_may_run_its_own_inline_blocks_and_nothing_else(api: Any) -> None:
    from tests.api.conftest import FakeLambdaContext, api_event

    response = api.lambda_handler(
        api_event("apigw_v2_page.json", None, "/swagger"), FakeLambdaContext()
    )
    policy = response["headers"]["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
