"""The live source through the real tweepy client, HTTP intercepted by `responses`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from producer_helpers import search_page, tweet

from producer.credentials import XCredentials
from producer.deadline import Deadline, unlimited
from producer.pages import parse_search_page, parse_trends
from producer.sources import RateLimitedError, SourceUnavailableError, XApiSource, XAuthError
from tweet_record import utc_now

SEARCH_URL = "https://api.twitter.com/2/tweets/search/recent"
TRENDS_URL = "https://api.twitter.com/2/trends/by/woeid/1"
CANARY = "canary-secret-7f3a9c"
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


def credentials(bearer: str | None = None) -> XCredentials:
    return XCredentials(
        consumer_key="ck-" + CANARY,
        consumer_secret="cs-" + CANARY,
        access_token_key="at-" + CANARY,
        access_token_secret="ats-" + CANARY,
        bearer_token=bearer,
    )


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def make_source(
    bearer: str | None = None, deadline: Deadline | None = None, sleeps: list[float] | None = None
) -> XApiSource:
    recorded = sleeps if sleeps is not None else []
    return XApiSource(
        credentials(bearer),
        deadline or unlimited(),
        sleep=recorded.append,
        jitter=lambda: 1.0,
    )


def query_of(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlparse(str(call.request.url)).query)


def test_search_sends_documented_fields_with_oauth1_user_context(
    api: responses.RequestsMock,
) -> None:
    api.get(SEARCH_URL, json=search_page([tweet(20), tweet(19)], next_token="tok2"))

    page = make_source().search("#Europe", since_id=None, next_token=None, max_results=100)

    parsed = parse_search_page(page, {"name": "#Europe", "kind": "trend", "woeid": 1}, utc_now())
    assert parsed.tweet_ids == ["20", "19"]
    assert parsed.next_token == "tok2"
    assert parsed.records[0]["author"]["username"] == "dev2244994945"
    params = query_of(api.calls[0])
    assert params["query"] == ["#Europe"]
    assert params["max_results"] == ["100"]
    assert params["expansions"] == ["author_id"]
    assert set(params["tweet.fields"][0].split(",")) == {
        "created_at",
        "lang",
        "author_id",
        "public_metrics",
        "entities",
        "edit_history_tweet_ids",
    }
    assert set(params["user.fields"][0].split(",")) == {
        "username",
        "name",
        "public_metrics",
        "verified",
    }
    assert "since_id" not in params
    assert api.calls[0].request.headers["Authorization"].startswith("OAuth ")


def test_search_with_bearer_sends_since_id_and_next_token(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, json={"meta": {"result_count": 0}})

    page = make_source(bearer="bearer-" + CANARY).search(
        "aws lambda", since_id="1234", next_token="tok2", max_results=10
    )

    parsed = parse_search_page(page, {"name": "aws lambda", "kind": "query"}, utc_now())
    assert parsed.records == []
    assert parsed.next_token is None
    params = query_of(api.calls[0])
    assert params["since_id"] == ["1234"]
    assert params["next_token"] == ["tok2"]
    assert api.calls[0].request.headers["Authorization"] == "Bearer bearer-" + CANARY


def test_trends_by_woeid_uses_bearer_and_parses_topics(api: responses.RequestsMock) -> None:
    api.get(
        TRENDS_URL,
        json={
            "data": [
                {"trend_name": "#Europe", "tweet_count": 232408},
                {"trend_name": "World Cup", "tweet_count": 1000},
                {"trend_name": "Nintendo", "tweet_count": 900},
            ]
        },
    )

    page = make_source(bearer="bearer-x").trends(1, max_trends=2)

    topics = parse_trends(page, 1, limit=2)
    assert topics == [
        {"name": "#Europe", "kind": "trend", "woeid": 1},
        {"name": "World Cup", "kind": "trend", "woeid": 1},
    ]
    assert query_of(api.calls[0])["max_trends"] == ["2"]
    assert api.calls[0].request.headers["Authorization"] == "Bearer bearer-x"


def test_a_trend_whose_name_breaks_the_topic_rule_is_skipped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = {"data": [{"trend_name": "#a,#b"}, {"trend_name": "x" * 300}, {"trend_name": "#ok"}]}

    with caplog.at_level(logging.WARNING, logger="producer.pages"):
        topics = parse_trends(page, 1, limit=3)

    assert topics == [{"name": "#ok", "kind": "trend", "woeid": 1}]
    skipped = [r for r in caplog.records if r.getMessage().startswith("Trend skipped")]
    assert [r.trend for r in skipped] == ["#a,#b", "x" * 300]  # type: ignore[attr-defined]


def test_trends_without_bearer_token_names_the_parameter_and_sends_nothing(
    api: responses.RequestsMock,
) -> None:
    api.assert_all_requests_are_fired = False
    with pytest.raises(SourceUnavailableError, match="/twitter/bearer_token"):
        make_source().trends(1, max_trends=10)
    assert len(api.calls) == 0


def test_401_is_a_configuration_error_naming_parameters_not_secrets(
    api: responses.RequestsMock,
) -> None:
    api.get(SEARCH_URL, status=401, json=UNAUTHORIZED)

    with pytest.raises(XAuthError) as raised:
        make_source().search("#Europe", since_id=None, next_token=None, max_results=10)

    message = str(raised.value)
    assert "/twitter/consumer_key" in message
    assert "/twitter/access_token_secret" in message
    assert CANARY not in message
    assert CANARY not in repr(raised.value.__cause__) + repr(raised.value.__context__)
    assert len(api.calls) == 1


def test_429_reports_the_reset_time_without_retrying(api: responses.RequestsMock) -> None:
    reset = int(time.time()) + 900
    api.get(
        SEARCH_URL,
        status=429,
        json=TOO_MANY,
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    sleeps: list[float] = []

    with pytest.raises(RateLimitedError) as raised:
        make_source(sleeps=sleeps).search("#Europe", since_id=None, next_token=None, max_results=10)

    assert raised.value.reset_at == reset
    assert sleeps == []
    assert len(api.calls) == 1


def test_5xx_is_retried_a_bounded_number_of_times_then_given_up(
    api: responses.RequestsMock,
) -> None:
    api.get(SEARCH_URL, status=503, json={"title": "Service Unavailable"})
    sleeps: list[float] = []

    with pytest.raises(SourceUnavailableError, match="gave up after 3 attempt"):
        make_source(sleeps=sleeps).search("#Europe", since_id=None, next_token=None, max_results=10)

    assert len(api.calls) == 3
    assert sleeps == [0.5, 1.0]  # jitter pinned to its maximum: base * 2 ** attempt


def test_5xx_then_success_returns_the_page(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, status=500, json={"title": "Internal Error"})
    api.get(SEARCH_URL, json=search_page([tweet(5)]))

    page = make_source().search("#Europe", since_id=None, next_token=None, max_results=10)

    assert [item["id"] for item in page["data"]] == ["5"]
    assert len(api.calls) == 2


def test_backoff_never_sleeps_past_the_time_budget(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, status=502, json={"title": "Bad Gateway"})
    sleeps: list[float] = []
    nearly_out = Deadline(lambda: 20_300, safety_margin_seconds=20)  # 0.3 s usable

    with pytest.raises(SourceUnavailableError, match="gave up after 1 attempt"):
        make_source(deadline=nearly_out, sleeps=sleeps).search(
            "#Europe", since_id=None, next_token=None, max_results=10
        )

    assert sleeps == []
    assert len(api.calls) == 1


def test_other_4xx_fail_the_request_without_retry(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, status=400, json={"title": "Invalid Request", "detail": "bad query"})

    with pytest.raises(SourceUnavailableError, match=r"HTTP 400 BadRequest: .*bad query"):
        make_source().search("(((", since_id=None, next_token=None, max_results=10)
    assert len(api.calls) == 1
