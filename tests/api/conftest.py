"""Fixtures for the read API: a moto table holding a few minutes and tweets, and event builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws
from tests.event_table import create_event_table

TABLE = "trendstream-test-EventData"
EVENTS = Path(__file__).resolve().parent.parent / "events"


class FakeLambdaContext:
    function_name = "trendstream-test-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:trendstream-test-api"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def api_event(
    fixture: str, query: list[tuple[str, str]] | None = None, path: str | None = None
) -> dict[str, Any]:
    """A fixture from tests/events/, its query string (and path) replaced as API Gateway would."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / fixture).read_text()))
    if query is not None:
        event["rawQueryString"] = urlencode(query)
        joined: dict[str, str] = {}
        for name, value in query:  # format 2.0 comma-joins repeated parameters
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        if joined:
            event["queryStringParameters"] = joined
        else:
            event.pop("queryStringParameters", None)
    if path is not None:
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
    return event


def minute_item(topic: str, minute: str, counts: dict[str, int]) -> dict[str, Any]:
    counters = {"tweet_count": 0, "positive": 0, "negative": 0, "neutral": 0, "mixed": 0}
    counters.update(counts)
    item: dict[str, Any] = {"pk": {"S": f"TOPIC#{topic}"}, "sk": {"S": f"MINUTE#{minute}"}}
    item.update({name: {"N": str(value)} for name, value in counters.items()})
    return item


def tweet_item(topic: str, created_at: str, tweet_id: str, sentiment: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"TWEET#{created_at}#{tweet_id}"},
        "tweet_id": {"S": tweet_id},
        "topic": {"S": topic},
        "text": {"S": f"tweet {tweet_id} about {topic}"},
        "author_username": {"S": "someone"},
        "created_at": {"S": created_at},
        "lang": {"S": "en"},
        "hashtags": {"L": [{"S": "Europe"}]},
        "like_count": {"N": "3"},
        "retweet_count": {"N": "1"},
        "sentiment": {"S": sentiment},
        "expires_at": {"N": "1797933600"},
    }


SEED = [
    minute_item("#Europe", "2026-11-22T09:00", {"tweet_count": 3, "positive": 2, "negative": 1}),
    minute_item("#Europe", "2026-11-22T09:02", {"tweet_count": 2, "neutral": 1, "mixed": 1}),
    minute_item("#Europe", "2026-11-22T09:10", {"tweet_count": 7, "positive": 7}),
    minute_item("World Cup", "2026-11-22T09:01", {"tweet_count": 9, "negative": 9}),
    minute_item("Quiet", "2026-11-22T08:00", {"tweet_count": 1, "neutral": 1}),
    *[tweet_item("#Europe", f"2026-11-22T09:00:0{i}.000Z", f"10{i}", "POSITIVE") for i in range(5)],
    {"pk": {"S": "TOPIC##Europe"}, "sk": {"S": "COUNTED#100"}, "expires_at": {"N": "1"}},
]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler module against a moto table seeded with SEED; its client cache reset."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "POWERTOOLS_SERVICE_NAME": "api",
        "POWERTOOLS_METRICS_NAMESPACE": "trendstream-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("TOPICS", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_event_table(dynamodb, TABLE)
        for item in SEED:
            dynamodb.put_item(TableName=TABLE, Item=item)
        from api import app

        app.dynamodb.cache_clear()
        app.config.cache_clear()
        yield app
        app.dynamodb.cache_clear()
        app.config.cache_clear()


Invoke = Callable[..., tuple[int, Any]]


@pytest.fixture
def invoke(api: Any) -> Invoke:
    """Run the handler on a fixture; answer (status code, decoded JSON body or text)."""

    def run(
        fixture: str, query: list[tuple[str, str]] | None = None, path: str | None = None
    ) -> tuple[int, Any]:
        response = api.lambda_handler(api_event(fixture, query, path), FakeLambdaContext())
        body = response["body"]
        content_type = response.get("headers", {}).get("Content-Type", "")
        return response["statusCode"], json.loads(body) if "json" in content_type else body

    return run
