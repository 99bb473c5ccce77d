"""The read API on the emulator stack after the pipeline ran, through the local HTTP API.

Terraform deploys the API (routes, Lambda proxy integration, payload 2.0); the runtime serves
those routes on loopback with the same zip. Then: the API's answers equal a recount of the
table's items; the live page, in Debian's headless chromium, shows the topics, draws the chart
and updates when a new minute arrives through the stream; and, opened without parameters, it
finds topics that only the stream names, in its trending and top rankings, markup shown as text.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from tests.chaos.chaos_support import (
    ChaosStack,
    Lake,
    stack_with_faults,
    start_runtime,
    wait_until,
)

from local_aws.runtime import LocalRuntime
from trendstream_cli import stack
from tweet_record import build_stream_record, encode_stream_record
from tweet_record.items import STATS_COUNTERS as COUNTERS
from tweet_record.items import minute_of_stats_sk, topic_of_pk

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.xdist_group("api-stack"),  # one stack for the module, not one per worker
]

PAIRS = 300
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = stack.REPO_ROOT / "build" / "api_page.png"


@dataclass
class Served:
    chaos: ChaosStack
    runtime: LocalRuntime
    url: str
    topics: list[str]
    first_minute: str
    last_minute: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("api-stack")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LOCAL_API_PORT", "0")
        with stack_with_faults(tmp_path, monkeypatch, {}, PAIRS, 0) as chaos:
            runtime = start_runtime(chaos, clock_speed=20.0)
            with runtime:
                lake = Lake(chaos)
                wait_until(
                    lambda: lake.count("TWEET#") >= PAIRS and lake.counted_tweets() >= PAIRS,
                    lambda: (
                        f"tweets {lake.count('TWEET#')}/{PAIRS}, "
                        f"counted {lake.counted_tweets()}/{PAIRS}: {runtime.stats()}"
                    ),
                    240,
                )
                assert runtime.api is not None
                minutes = sorted(
                    minute_of_stats_sk(i["sk"]["S"]) for i in lake.items_by_kind()["MINUTE"]
                )
                manifest = json.loads((chaos.dataset / "manifest.json").read_text())
                yield Served(
                    chaos,
                    runtime,
                    runtime.api.url,
                    [entry["name"] for entry in manifest["topics"]],
                    minutes[0],
                    minutes[-1],
                )


def get(served: Served, path: str, query: list[tuple[str, str]]) -> tuple[int, Any]:
    url = f"{served.url.rstrip('/')}{path}?{urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def in_replay(served: Served, minute: str) -> bool:
    """Within the replay's minutes: what the browser test adds later (a minute after the last)
    is outside, so no test depends on whether it ran first."""
    return served.first_minute <= minute[:16] <= served.last_minute


def table_recount(served: Served) -> dict[str, dict[str, Counter[str]]]:
    """topic -> minute -> counters, from a scan of the table's partial stats items in the replay,
    summed."""
    recount: dict[str, dict[str, Counter[str]]] = {}
    for item in Lake(served.chaos).items_by_kind()["MINUTE"]:
        topic, minute = topic_of_pk(item["pk"]["S"]), minute_of_stats_sk(item["sk"]["S"])
        if not in_replay(served, minute):
            continue
        counters = recount.setdefault(topic, {}).setdefault(minute, Counter())
        counters.update({name: int(item[name]["N"]) for name in COUNTERS})
    return recount


def test_routes_come_from_what_terraform_deployed(served: Served) -> None:
    """Terraform deploys one `$default` route: the function's resolver answers every path."""
    assert served.runtime.api is not None
    assert [route.key for route in served.runtime.api.routes] == ["$default"]
    status, body = get(served, "/no/such/route", [])
    assert (status, body) == (404, {"statusCode": 404, "message": "Not found"})


def test_api_answers_equal_a_recount_of_the_table(served: Served) -> None:
    recount = table_recount(served)
    window = [("from", served.first_minute + "Z"), ("to", served.last_minute + "Z")]

    status, ranking = get(served, "/api/topics", [("topic", ",".join(served.topics)), *window])
    assert status == 200
    expected_totals = {
        topic: sum(minutes.values(), Counter()) for topic, minutes in recount.items()
    }
    answered = {
        entry["topic"]: Counter({k: entry[k] for k in COUNTERS if entry[k]})
        for entry in ranking["topics"]
    }
    assert answered == {topic: +counts for topic, counts in expected_totals.items()}
    counts = [entry["tweet_count"] for entry in ranking["topics"]]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == PAIRS

    for topic, minutes in recount.items():
        status, series = get(served, "/api/series", [("topic", topic), *window])
        assert status == 200
        for index, minute in enumerate(series["minutes"]):
            stored = minutes.get(minute, Counter())
            assert [series[name][index] for name in COUNTERS] == [stored[n] for n in COUNTERS]
        assert set(minutes) <= set(series["minutes"])

    topic = ranking["topics"][0]["topic"]
    seen, query = [], [("topic", topic), ("limit", "100")]
    while True:
        status, page = get(served, "/api/tweets", query)
        assert status == 200
        seen += [
            tweet["created_at"] + tweet["tweet_id"]
            for tweet in page["tweets"]
            if in_replay(served, tweet["created_at"])
        ]
        if page["next_cursor"] is None:
            break
        query = [("topic", topic), ("limit", "100"), ("cursor", page["next_cursor"])]
    assert len(seen) == len(set(seen)) == ranking["topics"][0]["tweet_count"]
    assert seen == sorted(seen, reverse=True)

    status, problem = get(served, "/api/series", [("topic", "no such topic"), *window])
    assert status == 404
    assert "unknown topic" in problem["message"]


def put_tweet(
    served: Served,
    topic: str,
    created_at: datetime,
    tweet_id: str = "9" * 19,
    topic_object: dict[str, Any] | None = None,
) -> None:
    if topic_object is None:
        manifest = json.loads((served.chaos.dataset / "manifest.json").read_text())
        entry = next(e for e in manifest["topics"] if e["name"] == topic)
        topic_object = {key: entry[key] for key in ("name", "kind", "woeid") if key in entry}
    stamp = created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    api_tweet = {
        "id": tweet_id,
        "text": f"a new minute for {topic}",
        "created_at": stamp,
        "lang": "en",
        "author_id": "42",
        "edit_history_tweet_ids": [tweet_id],
    }
    record = build_stream_record(topic_object, api_tweet, None, created_at + timedelta(seconds=5))  # type: ignore[arg-type]
    served.chaos.client("kinesis").put_record(
        StreamName=served.chaos.outputs["stream_name"],
        Data=encode_stream_record(record),
        PartitionKey=api_tweet["id"],
    )


@contextmanager
def chromium_page(served: Served) -> Iterator[tuple[Page, list[str], list[str]]]:
    """Debian's headless chromium on a page that may reach only the API; yields the page, the
    outside requests it tried and its console errors (a CSP violation is one)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            outside: list[str] = []
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(served.url)
                    else (outside.append(route.request.url), route.abort())
                ),
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            yield page, outside, errors
        finally:
            browser.close()


def test_live_page_shows_topics_draws_the_chart_and_updates(served: Served) -> None:
    from playwright.sync_api import expect

    first = datetime.fromisoformat(served.first_minute + ":00+00:00")
    last = datetime.fromisoformat(served.last_minute + ":00+00:00")
    end = (last + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ")
    window = [("from", served.first_minute + "Z"), ("to", end)]
    status, ranking = get(served, "/api/topics", [("topic", ",".join(served.topics)), *window])
    assert status == 200
    chosen = ranking["topics"][0]["topic"]
    query = {
        "topics": ",".join(served.topics),
        "topic": chosen,
        "to": end,
        "minutes": str(int((last - first) / timedelta(minutes=1)) + 2),
        "refresh": "1",
    }
    with chromium_page(served) as (page, outside, errors):
        page.goto(f"{served.url}?{urlencode(query)}")
        page.wait_for_selector("#topics tbody tr")
        page.wait_for_selector("#chart canvas")
        shown = page.locator("#topics tbody tr td:first-child").all_inner_texts()
        assert shown == [entry["topic"] for entry in ranking["topics"]]
        assert page.locator("#chosen").inner_text() == chosen
        before = int(page.locator("#chart").get_attribute("data-points") or "-1")
        assert before == ranking["topics"][0]["tweet_count"]

        put_tweet(served, chosen, last + timedelta(minutes=1, seconds=10))
        # Locator waits, not wait_for_function: Playwright compiles a predicate with eval in the
        # page, which the page's Content-Security-Policy refuses (as it should).
        expect(page.locator("#chart")).to_have_attribute(
            "data-points", str(before + 1), timeout=120_000
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert outside == []
        assert errors == []


NEW_TOPIC = "#NamedByNoVariable"
MARKUP_TOPIC = "<img src=x onerror=\"document.title='injected'\"><b>bold</b>"


def test_page_without_parameters_finds_a_new_topic_trending_and_shows_markup_as_text(
    served: Served,
) -> None:
    """Neither topic is in any variable or in the dataset: they come from the stream alone."""
    now = datetime.now(UTC).replace(microsecond=0)
    for offset, topic in enumerate([NEW_TOPIC] * 4 + [MARKUP_TOPIC] * 3):
        put_tweet(served, topic, now - timedelta(seconds=offset), tweet_id=str(8 * 10**18 + offset),
                  topic_object={"name": topic, "kind": "trend", "woeid": 1})  # fmt: skip
    with chromium_page(served) as (page, outside, errors):
        page.goto(served.url)  # no address parameters
        for table in ("#trending", "#topics"):
            for topic in (NEW_TOPIC, MARKUP_TOPIC):
                row = page.locator(f"{table} tbody tr[data-topic={json.dumps(topic)}]")
                row.wait_for(timeout=180_000)
        trending_names = page.locator("#trending tbody tr td:first-child").all_inner_texts()
        assert {NEW_TOPIC, MARKUP_TOPIC} <= set(trending_names)
        assert page.locator("main img, main b").count() == 0  # the markup stayed text
        assert page.title() == "trendstream: live topics"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT.with_name("api_page_discovered.png")), full_page=True)
        assert outside == []
        assert errors == []
    status, trending = get(served, "/api/trending", [])
    assert status == 200
    rising = {entry["topic"]: entry for entry in trending["topics"]}
    assert rising[NEW_TOPIC]["recent_count"] == 4
    assert rising[MARKUP_TOPIC]["recent_count"] == 3
