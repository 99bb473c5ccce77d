"""A whole run against the X API (tweepy over `responses`) into moto Kinesis and DynamoDB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from producer_helpers import (
    checkpoint_item,
    decode,
    make_checkpoints,
    make_config,
    make_writer,
    read_stream,
    search_page,
    tweet,
)
from test_x_api_source import SEARCH_URL, TOO_MANY, TRENDS_URL, UNAUTHORIZED, credentials

from producer.deadline import Deadline, unlimited
from producer.run import ProducerRun, RunSummary
from producer.sources import XApiSource, XAuthError

pytestmark = pytest.mark.usefixtures("aws")

NOW = time.time()


def search_for(query: str):  # type: ignore[no-untyped-def]
    """A `responses` matcher on the search query parameter."""
    return responses.matchers.query_param_matcher({"query": query}, strict_match=False)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def run(
    api: responses.RequestsMock, deadline: Deadline | None = None, **config: object
) -> RunSummary:
    settings: dict[str, object] = {"trend_woeids": (), "search_queries": ("alpha", "beta")}
    settings.update(config)
    source = XApiSource(credentials(), deadline or unlimited(), sleep=lambda _s: None)
    return ProducerRun(
        make_config(**settings),
        source=source,
        writer=make_writer(),
        checkpoints=make_checkpoints(now=NOW),
        deadline=deadline or unlimited(),
        now=lambda: NOW,
    ).execute()


def test_429_stops_that_topic_others_go_on_and_rerun_sends_since_id(
    api: responses.RequestsMock,
) -> None:
    reset = int(NOW) + 600
    api.get(
        SEARCH_URL,
        json=search_page([tweet(30), tweet(29)], next_token="p2"),
        match=[search_for("alpha")],
    )
    api.get(
        SEARCH_URL,
        json={"meta": {"result_count": 0}},
        match=[
            search_for("alpha"),
            responses.matchers.query_param_matcher({"next_token": "p2"}, strict_match=False),
        ],
    )
    api.get(
        SEARCH_URL,
        status=429,
        json=TOO_MANY,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
        match=[search_for("beta")],
    )

    first = run(api)

    assert first.rate_limited == 1
    assert first.records_put == 2
    assert sorted(record["key"] for record in read_stream()) == ["29", "30"]
    assert {decode(record["data"])["topic"]["name"] for record in read_stream()} == {"alpha"}
    assert checkpoint_item("alpha")["since_id"] == {"N": "30"}
    assert checkpoint_item("beta")["rate_limited_until"] == {"N": str(reset)}
    assert "since_id" not in checkpoint_item("beta")

    api.reset()
    api.get(SEARCH_URL, json={"meta": {"result_count": 0}}, match=[search_for("alpha")])

    second = run(api)

    assert parse_qs(urlparse(str(api.calls[0].request.url)).query)["since_id"] == ["30"]
    assert len(api.calls) == 1  # beta skipped until its reset: no request at all
    assert second.topics_skipped_rate_limited == 1
    assert second.records_put == 0


def test_same_tweet_under_two_topics_is_two_records(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, json=search_page([tweet(7)]), match=[search_for("alpha")])
    api.get(SEARCH_URL, json=search_page([tweet(7), tweet(6)]), match=[search_for("beta")])

    summary = run(api)

    topics = sorted(
        (record["key"], decode(record["data"])["topic"]["name"]) for record in read_stream()
    )
    assert topics == [("6", "beta"), ("7", "alpha"), ("7", "beta")]
    assert summary.put_records_calls == 1


def test_page_cap_stops_pagination(api: responses.RequestsMock) -> None:
    api.get(
        SEARCH_URL, json=search_page([tweet(9)], next_token="more"), match=[search_for("alpha")]
    )

    summary = run(api, search_queries=("alpha",), max_pages_per_topic=1)

    assert summary.pages_fetched == 1
    assert len(api.calls) == 1
    assert checkpoint_item("alpha")["since_id"] == {"N": "9"}


def test_trends_become_topics_and_a_rate_limited_trends_call_is_remembered(
    api: responses.RequestsMock,
) -> None:
    reset = int(NOW) + 900
    api.get(TRENDS_URL, status=429, json=TOO_MANY, headers={"x-rate-limit-reset": str(reset)})
    api.get(SEARCH_URL, json={"meta": {"result_count": 0}}, match=[search_for("alpha")])
    source = XApiSource(credentials(bearer="b"), unlimited(), sleep=lambda _s: None)

    summary = ProducerRun(
        make_config(trend_woeids=(1,), search_queries=("alpha",)),
        source=source,
        writer=make_writer(),
        checkpoints=make_checkpoints(now=NOW),
        deadline=unlimited(),
        now=lambda: NOW,
    ).execute()

    assert summary.rate_limited == 1
    assert summary.topics == 1
    assert checkpoint_item("TRENDS#1")["rate_limited_until"] == {"N": str(reset)}


def test_trend_with_spaces_is_searched_as_a_phrase(api: responses.RequestsMock) -> None:
    api.get(TRENDS_URL, json={"data": [{"trend_name": "World Cup", "tweet_count": 5}]})
    api.get(SEARCH_URL, json=search_page([tweet(3)]), match=[search_for('"World Cup"')])
    source = XApiSource(credentials(bearer="b"), unlimited(), sleep=lambda _s: None)

    ProducerRun(
        make_config(trend_woeids=(1,), search_queries=()),
        source=source,
        writer=make_writer(),
        checkpoints=make_checkpoints(now=NOW),
        deadline=unlimited(),
    ).execute()

    [record] = read_stream()
    assert decode(record["data"])["topic"] == {"name": "World Cup", "kind": "trend", "woeid": 1}
    assert checkpoint_item("World Cup")["since_id"] == {"N": "3"}


def test_401_stops_the_run(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, status=401, json=UNAUTHORIZED, match=[search_for("alpha")])

    with pytest.raises(XAuthError):
        run(api)


def test_server_errors_skip_the_topic_and_keep_its_checkpoint(
    api: responses.RequestsMock,
) -> None:
    api.get(SEARCH_URL, json=search_page([tweet(12)], next_token="p2"), match=[search_for("alpha")])
    api.get(
        SEARCH_URL, status=503, json={"title": "Service Unavailable"}, match=[search_for("alpha")]
    )
    api.get(SEARCH_URL, json=search_page([tweet(40)]), match=[search_for("beta")])

    summary = run(api)

    assert summary.topics_failed == 1
    assert "alpha" in summary.errors[0]
    # alpha's first page is delivered (at-least-once) but its checkpoint does not move
    assert sorted(record["key"] for record in read_stream()) == ["12", "40"]
    assert "since_id" not in checkpoint_item("alpha")
    assert checkpoint_item("beta")["since_id"] == {"N": "40"}


def test_remaining_time_guard_stops_fetching(api: responses.RequestsMock) -> None:
    api.assert_all_requests_are_fired = False
    remaining = [25_000]

    def remaining_millis() -> int:
        remaining[0] -= 4_000  # every check costs "4 s" of the invocation
        return remaining[0]

    api.get(SEARCH_URL, json=search_page([tweet(50)], next_token="p2"), match=[search_for("alpha")])

    summary = run(api, deadline=Deadline(remaining_millis, safety_margin_seconds=15))

    assert summary.stopped_for_time
    assert len(api.calls) == 1
    assert summary.records_put == 1  # what was fetched is still written
    assert "since_id" not in checkpoint_item("alpha")  # interrupted: fetched again next run


def test_429_without_reset_header_pauses_for_one_window(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, status=429, json=TOO_MANY, match=[search_for("alpha")])

    summary = run(api, search_queries=("alpha",))

    assert summary.rate_limited == 1
    assert checkpoint_item("alpha")["rate_limited_until"] == {"N": str(int(NOW) + 900)}


def test_a_401_mid_run_still_writes_what_was_fetched(api: responses.RequestsMock) -> None:
    api.get(SEARCH_URL, json=search_page([tweet(70)]), match=[search_for("alpha")])
    api.get(SEARCH_URL, status=401, json=UNAUTHORIZED, match=[search_for("beta")])

    with pytest.raises(XAuthError):
        run(api)

    assert [record["key"] for record in read_stream()] == ["70"]
    assert checkpoint_item("alpha")["since_id"] == {"N": "70"}
