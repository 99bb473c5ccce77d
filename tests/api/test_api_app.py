"""Every endpoint of the read API, and every bad input, through the handler with v2 events.

Event shapes: API Gateway HTTP API Lambda proxy integration, payload format 2.0
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html);
repeated query parameters arrive comma-joined in ``queryStringParameters``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import boto3
import pytest
from tests.api.conftest import TABLE, FakeLambdaContext, Invoke, api_event, minute_item, tweet_item

from tweet_record.items import topic_pk

WINDOW = [("from", "2026-11-22T09:00:00Z"), ("to", "2026-11-22T09:59:00Z")]
INVERTED = [("topic", "#Europe"), ("from", "2026-11-22T10:00:00Z"), ("to", "2026-11-22T09:00:00Z")]
TWO_DAYS = [("topic", "#Europe"), ("from", "2026-11-20T00:00:00Z"), ("to", "2026-11-22T00:00:00Z")]


def test_topics_ranked_by_tweets_in_window_with_sentiment_mix(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_topics.json")
    assert status == 200
    assert body == {
        "first_minute": "2026-11-22T09:00",
        "last_minute": "2026-11-22T09:59",
        "topics": [
            {"topic": "#Europe", "tweet_count": 12, "positive": 9, "negative": 1, "neutral": 1,
             "mixed": 1},
            {"topic": "World Cup", "tweet_count": 9, "positive": 0, "negative": 9, "neutral": 0,
             "mixed": 0},
        ],
    }  # fmt: skip


def test_topics_window_bounds_are_inclusive_minutes(invoke: Invoke) -> None:
    query = [("topic", "#Europe,World Cup"), ("from", "2026-11-22T09:01:59Z"),
             ("to", "2026-11-22T09:02:30+00:00")]  # fmt: skip
    status, body = invoke("apigw_v2_topics.json", query)
    assert status == 200
    assert [(t["topic"], t["tweet_count"]) for t in body["topics"]] == [
        ("World Cup", 9),
        ("#Europe", 2),
    ]


def test_topics_without_activity_in_window_are_left_out(invoke: Invoke) -> None:
    status, body = invoke(
        "apigw_v2_topics.json", [("topic", "Quiet"), ("topic", "Nobody"), *WINDOW]
    )
    assert status == 200
    assert body["topics"] == []


def test_topics_default_to_the_configured_list(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOPICS", "World Cup, Quiet")
    status, body = invoke("apigw_v2_topics.json", WINDOW)
    assert status == 200
    assert [t["topic"] for t in body["topics"]] == ["World Cup"]


def test_series_minute_by_minute_with_gaps_as_zeros(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_series.json")
    assert status == 200
    assert body == {
        "topic": "#Europe",
        "minutes": [f"2026-11-22T09:0{m}" for m in range(5)],
        "tweet_count": [3, 0, 2, 0, 0],
        "positive": [2, 0, 0, 0, 0],
        "negative": [1, 0, 0, 0, 0],
        "neutral": [0, 0, 1, 0, 0],
        "mixed": [0, 0, 1, 0, 0],
    }


def test_series_of_a_known_topic_with_an_empty_window_is_all_zeros(invoke: Invoke) -> None:
    query = [("topic", "Quiet"), ("from", "2026-11-22T10:00:00Z"), ("to", "2026-11-22T10:02:00Z")]
    status, body = invoke("apigw_v2_series.json", query)
    assert status == 200
    assert body["tweet_count"] == [0, 0, 0]


def test_series_at_the_end_of_time_is_all_zeros(invoke: Invoke) -> None:
    query = [("topic", "#Europe"), ("from", "9999-12-31T23:58:00Z"), ("to", "9999-12-31T23:59Z")]
    status, body = invoke("apigw_v2_series.json", query)
    assert status == 200
    assert body["minutes"] == ["9999-12-31T23:58", "9999-12-31T23:59"]


def test_series_over_a_whole_day_is_accepted(invoke: Invoke) -> None:
    query = [("topic", "#Europe"), ("from", "2026-11-22T00:00:00Z"), ("to", "2026-11-22T23:59:00Z")]
    status, body = invoke("apigw_v2_series.json", query)
    assert status == 200
    assert len(body["minutes"]) == 1440
    assert sum(body["tweet_count"]) == 12


def test_tweets_newest_first_paginated_with_an_opaque_cursor(invoke: Invoke) -> None:
    seen: list[str] = []
    query = [("topic", "#Europe"), ("limit", "2")]
    pages = 0
    while True:
        status, body = invoke("apigw_v2_tweets.json", query)
        assert status == 200
        pages += 1
        seen += [tweet["tweet_id"] for tweet in body["tweets"]]
        if body["next_cursor"] is None:
            break
        query = [("topic", "#Europe"), ("limit", "2"), ("cursor", body["next_cursor"])]
    assert seen == ["104", "103", "102", "101", "100"]
    assert pages == 3


def test_a_hot_topic_is_read_over_every_key_part(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series sum the partial items of every part; tweets merge the parts newest first and the
    cursor resumes every part where the page ended."""
    monkeypatch.setenv("HOT_TOPIC_KEY_PARTS", json.dumps({"Hot#1": 3}))
    dynamodb = boto3.client("dynamodb")
    for part in range(3):
        pk = topic_pk("Hot#1", part)
        partial = minute_item("Hot#1", "2026-11-22T09:00", {"tweet_count": 2, "neutral": 2})
        dynamodb.put_item(TableName=TABLE, Item={**partial, "pk": {"S": pk}})
        for second in range(part, 9, 3):
            item = tweet_item("Hot#1", f"2026-11-22T09:00:0{second}.000Z", f"20{second}", "NEUTRAL")
            dynamodb.put_item(TableName=TABLE, Item={**item, "pk": {"S": pk}})
    status, body = invoke("apigw_v2_series.json", [("topic", "Hot#1"), *WINDOW])
    assert status == 200
    assert (body["tweet_count"][0], body["neutral"][0], sum(body["tweet_count"])) == (6, 6, 6)

    seen: list[str] = []
    query = [("topic", "Hot#1"), ("limit", "4")]
    while True:
        status, body = invoke("apigw_v2_tweets.json", query)
        assert status == 200
        seen += [tweet["tweet_id"] for tweet in body["tweets"]]
        if body["next_cursor"] is None:
            break
        query = [("topic", "Hot#1"), ("limit", "4"), ("cursor", body["next_cursor"])]
    assert seen == [f"20{second}" for second in range(8, -1, -1)]
    monkeypatch.delenv("HOT_TOPIC_KEY_PARTS")
    status, body = invoke("apigw_v2_series.json", [("topic", "Hot#1"), *WINDOW])
    assert body["tweet_count"][0] == 2  # without the configuration only part 0 is read


def test_tweet_fields(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_tweets.json", [("topic", "#Europe"), ("limit", "1")])
    assert status == 200
    assert body["tweets"] == [
        {
            "tweet_id": "104",
            "created_at": "2026-11-22T09:00:04.000Z",
            "text": "tweet 104 about #Europe",
            "author_username": "someone",
            "lang": "en",
            "sentiment": "POSITIVE",
            "like_count": 3,
            "retweet_count": 1,
            "hashtags": ["Europe"],
        }
    ]


def test_known_topic_without_tweets_has_an_empty_page(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_tweets.json", [("topic", "Quiet")])
    assert status == 200
    assert body == {"topic": "Quiet", "tweets": [], "next_cursor": None}


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("fixture", "query", "status", "says"),
    [
        pytest.param("apigw_v2_series.json", [("topic", "Nobody"), *WINDOW], 404,
                     "unknown topic 'Nobody'", id="series-unknown-topic"),
        pytest.param("apigw_v2_tweets.json", [("topic", "Nobody")], 404,
                     "unknown topic 'Nobody'", id="tweets-unknown-topic"),
        pytest.param("apigw_v2_series.json", INVERTED, 400, "inverted", id="series-inverted"),
        pytest.param("apigw_v2_topics.json", INVERTED, 400, "inverted", id="topics-inverted"),
        pytest.param("apigw_v2_series.json", TWO_DAYS, 400, "at most 1440", id="series-too-long"),
        pytest.param("apigw_v2_topics.json", TWO_DAYS, 400, "at most 1440", id="topics-too-long"),
        pytest.param("apigw_v2_series.json", [("topic", "#Europe"), ("from", "2000-01-01T00:00Z")],
                     400, "at most 1440", id="series-unbounded-from"),
        pytest.param("apigw_v2_series.json", [("topic", "#Europe"), ("from", "2026-11-22T09:00")],
                     400, "UTC offset", id="series-naive-time"),
        pytest.param("apigw_v2_series.json", [("topic", "#Europe"), ("to", "0001-01-01T00:00Z")],
                     400, "outside years 1 to 9999", id="series-default-window-before-year-1"),
        pytest.param("apigw_v2_series.json", [("topic", "#Europe"),
                     ("to", "9999-12-31T23:59-01:00")], 400, "outside years 1 to 9999",
                     id="series-after-year-9999"),
        pytest.param("apigw_v2_series.json", [("topic", "#Europe"), ("from", "yesterday")], 422,
                     "query.from", id="series-not-a-time"),
        pytest.param("apigw_v2_series.json", WINDOW, 422, "query.topic", id="series-no-topic"),
        pytest.param("apigw_v2_series.json", [("topic", "x" * 300)], 422, "query.topic",
                     id="series-topic-too-long"),
        pytest.param("apigw_v2_series.json", [("topic", "two\nlines")], 400, "one line",
                     id="series-topic-two-lines"),
        pytest.param("apigw_v2_series.json", [("topic", " padded")], 400, "nor ends with a space",
                     id="series-topic-padded"),
        pytest.param("apigw_v2_topics.json", [*WINDOW, ("limit", "0")], 400, "between 1 and 100",
                     id="topics-limit-zero"),
        pytest.param("apigw_v2_trending.json", [("recent", "61")], 400, "1 to 60 minutes",
                     id="trending-recent-too-long"),
        pytest.param("apigw_v2_trending.json", [("recent", "30"), ("baseline", "10")], 400,
                     "'baseline' must be 30 to 1410", id="trending-baseline-too-short"),
        pytest.param("apigw_v2_topics.json", [("topic", ",".join(f"t{i}" for i in range(26)))],
                     400, "at most 25", id="topics-too-many"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("limit", "101")], 400,
                     "between 1 and 100", id="tweets-oversized-page"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("limit", "0")], 400,
                     "between 1 and 100", id="tweets-empty-page"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("limit", "ten")], 422,
                     "query.limit", id="tweets-limit-not-a-number"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("cursor", "%%%")], 400,
                     "malformed cursor", id="cursor-not-base64"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("cursor", _cursor([1, 2]))],
                     400, "malformed cursor", id="cursor-not-a-key"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"),
                     ("cursor", _cursor({"pk": "TOPIC##Europe", "sk": "MINUTE#2026"}))], 400,
                     "malformed cursor", id="cursor-not-a-tweet-key"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"),
                     ("cursor", _cursor({"pk": "TOPIC#World Cup", "sk": "TWEET#x"}))], 400,
                     "another topic", id="cursor-of-another-topic"),
        pytest.param("apigw_v2_tweets.json", [("topic", "#Europe"), ("cursor", "eyJwayI6")], 400,
                     "malformed cursor", id="cursor-truncated"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_a_clear_message(
    invoke: Invoke, fixture: str, query: list[tuple[str, str]], status: int, says: str
) -> None:
    answered, body = invoke(fixture, query)
    assert answered == status
    assert body["statusCode"] == status
    assert says in body["message"]


def test_page_is_served_at_the_root_with_its_vendored_chart(invoke: Invoke) -> None:
    status, body = invoke("apigw_v2_page.json")
    assert status == 200
    assert "static/uPlot.iife.min.js" in body
    assert "static/page.js" in body
    status, script = invoke("apigw_v2_page.json", path="/static/uPlot.iife.min.js")
    assert status == 200
    assert "uPlot" in script
    status, licence = invoke("apigw_v2_page.json", path="/static/uPlot-LICENSE.txt")
    assert status == 200
    assert "MIT License" in licence


def test_a_path_or_method_the_app_does_not_serve_is_its_404(api: Any) -> None:
    """API Gateway's one `$default` route sends every request no other route matches to the
    function, so the resolver is the only route table: what it does not route is a JSON 404,
    never a 500 ("Working with routes for HTTP APIs", the `$default` route:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)."""
    for method, path in (("GET", "/no/such/route"), ("POST", "/api/topics"), ("GET", "/api")):
        event = api_event("apigw_v2_page.json", path=path)
        event["requestContext"]["http"]["method"] = method
        response = api.lambda_handler(event, FakeLambdaContext())
        assert response["statusCode"] == 404, (method, path)
        assert json.loads(response["body"])["message"] == "Not found"


def test_unlisted_static_file_is_a_404(invoke: Invoke) -> None:
    status, _ = invoke("apigw_v2_page.json", path="/static/..%2Fapp.py")
    assert status == 404
    status, _ = invoke("apigw_v2_page.json", path="/static/app.py")
    assert status == 404


def test_swagger_ui_needs_nothing_outside_the_api(invoke: Invoke) -> None:
    """Powertools inlines Swagger UI's bundle when no ``swagger_base_url`` is given, so the page
    works where a CDN cannot be reached (docs.powertools.aws.dev/lambda/python/latest/core/
    event_handler/openapi/ "Customizing Swagger UI")."""
    status, page = invoke("apigw_v2_page.json", path="/swagger")
    assert status == 200
    assert "SwaggerUIBundle" in page
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)


def test_openapi_schema_documents_every_endpoint(invoke: Invoke) -> None:
    status, schema = invoke("apigw_v2_page.json", [("format", "json")], path="/swagger")
    assert status == 200
    assert set(schema["paths"]) == {"/api/topics", "/api/trending", "/api/series", "/api/tweets"}
    series = schema["paths"]["/api/series"]["get"]
    assert {p["name"] for p in series["parameters"]} == {"topic", "from", "to"}
    assert {"200", "400", "404", "422"} <= set(series["responses"])
    assert "Series" in schema["components"]["schemas"]
