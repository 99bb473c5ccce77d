"""The read API: cold start from its zip, and warm handler time of a day-long series.

Cold start: a fresh interpreter (``-I -S``) whose path holds only the unzipped ``build/api.zip``
and the runtime's boto3, as Lambda lays them out. It imports ``app``, builds the DynamoDB client
and answers one series request (an hour of minutes) with validation on; the client's ``query``
is answered by botocore's ``Stubber``, so no network is touched and the request and response are
still (de)serialised. Stubbing is set up outside the timed spans.

Warm: the handler in this process answering the series over 1,440 minutes (a full day, the
largest window) from a fake client that returns every minute's item in one page; and the default
ranking (no topic named: the discovery index, then each topic's minutes) over an hour of 50
topics, from an in-memory table that also charges each call's read units.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

from bench.cold_import import fresh_process, function_environment, runtime_path
from bench.figures import Figure, Goal, Spread, number, unavailable

REPO_ROOT = Path(__file__).resolve().parent.parent
COLD_KEY = "api_cold_start_ms"
RANKING_KEY = "api_warm_ranking_ms_hour_of_50_topics"
WARM_KEY = "api_warm_series_of_a_day_ms"
COLD_GOAL = Goal("at_most", 800.0)
WARM_GOAL = Goal("at_most", 30.0)
SERIES_EVENT = REPO_ROOT / "tests" / "events" / "apigw_v2_series.json"


class _Context:
    function_name = "trendstream-bench-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:trendstream-bench-api"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def minute_items(day: str, minutes: int) -> list[dict[str, Any]]:
    items = []
    for index in range(minutes):
        minute = f"{day}T{index // 60:02d}:{index % 60:02d}"
        counts = {"tweet_count": 7, "positive": 3, "negative": 2, "neutral": 1, "mixed": 1}
        item: dict[str, Any] = {"sk": {"S": f"MINUTE#{minute}#shardId-000000000000"}}
        item.update({name: {"N": str(value)} for name, value in counts.items()})
        items.append(item)
    return items


def series_event(start: str, end: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SERIES_EVENT.read_text(encoding="utf-8"))
    event["queryStringParameters"] = {"topic": "#Europe", "from": start, "to": end}
    event["rawQueryString"] = f"topic=%23Europe&from={start}&to={end}"
    return event


CHILD = """
import json, sys, time
sys.path[:0] = [{task_root!r}, {runtime!r}]
event = json.loads({event!r})
items = json.loads({items!r})
wall, cpu = time.perf_counter(), time.process_time()
import app
imported = time.perf_counter()
client = app.dynamodb()
client_made = time.perf_counter()
from botocore.stub import Stubber
stubber = Stubber(client)
stubber.add_response("query", {{"Items": items, "Count": len(items), "ScannedCount": len(items)}})
stubber.activate()
stubbed = time.perf_counter()
response = app.lambda_handler(event, type("Context", (), {context!r})())
answered = time.perf_counter()
print(json.dumps({{
    "status": response["statusCode"],
    "import_ms": (imported - wall) * 1000,
    "client_ms": (client_made - imported) * 1000,
    "answer_ms": (answered - stubbed) * 1000,
    "total_ms": (answered - wall - (stubbed - client_made)) * 1000,
    "cpu_ms": (time.process_time() - cpu) * 1000,
}}))
"""


def cold_sample(task_root: Path, runtime: Path) -> dict[str, float]:
    event = series_event("2026-11-22T09:00:00Z", "2026-11-22T09:59:00Z")
    context = {k: v for k, v in vars(_Context).items() if not k.startswith("_")}
    code = CHILD.format(
        task_root=str(task_root),
        runtime=str(runtime),
        event=json.dumps(event),
        items=json.dumps(minute_items("2026-11-22", 60)),
        context=context,
    )
    environment = {**function_environment(task_root), "POWERTOOLS_SERVICE_NAME": "api"}
    environment.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # noqa: S106
    completed = fresh_process([], code, environment, "cold start")
    sample: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    if sample["status"] != 200:
        raise RuntimeError(f"the first answer was {sample['status']}, not 200")
    return sample


def cold_figure(build_dir: Path, runs: int) -> Figure:
    title = "API cold start: import + client + first series answer (fresh process, zip)"
    archive = build_dir / "api.zip"
    if not archive.exists():
        return unavailable(COLD_KEY, title, "ms", f"{archive} missing: make build", COLD_GOAL)
    with tempfile.TemporaryDirectory(prefix="trendstream-bench-api-") as scratch:
        runtime = runtime_path(Path(scratch) / "runtime")
        task_root = Path(scratch) / "api"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(task_root)
        try:
            samples = [cold_sample(task_root, runtime) for _ in range(runs)]
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
            return unavailable(COLD_KEY, title, "ms", str(error), COLD_GOAL)

    def median(key: str) -> float:
        return statistics.median(sample[key] for sample in samples)

    return Figure(
        COLD_KEY,
        title,
        "ms",
        Spread.of([sample["total_ms"] for sample in samples]),
        COLD_GOAL,
        baseline=(
            f"import {number(median('import_ms'))} ms, client {number(median('client_ms'))} "
            f"ms, first answer {number(median('answer_ms'))} ms; CPU {number(median('cpu_ms'))} ms"
        ),
        details={"samples": samples},
    )


class _DayClient:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": self._items, "Count": len(self._items)}


def warm_figure(runs: int, calls: int = 50) -> Figure:
    title = "API warm handler: series over a day (1,440 minutes, validation on)"
    src = str(REPO_ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    os.environ.setdefault("TABLE_NAME", "trendstream-bench-EventData")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "api")
    from api import app

    client = _DayClient(minute_items("2026-11-22", 1440))
    original = app.dynamodb
    app.dynamodb = lambda: client  # type: ignore[assignment]
    event = series_event("2026-11-22T00:00:00Z", "2026-11-22T23:59:00Z")
    try:
        response = app.lambda_handler(event, _Context())
        body = json.loads(response["body"])
        if response["statusCode"] != 200 or len(body["minutes"]) != 1440:
            return unavailable(WARM_KEY, title, "ms", f"answer {response['statusCode']}", WARM_GOAL)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(calls):
                app.lambda_handler(event, _Context())
            samples.append((time.perf_counter() - started) * 1000 / calls)
    finally:
        app.dynamodb = original
    return Figure(
        WARM_KEY,
        title,
        "ms",
        Spread.of(samples),
        WARM_GOAL,
        baseline=f"{calls} calls per run, response {number(len(response['body']) / 1024)} KiB",
    )


RANKED_TOPICS = 50
"""The capacity model's default number of topics with stats: every one active every minute."""
RANKING_GOAL = Goal("at_most", 30.0)
SHARD_WATERMARK = "applied#shardId-000000000000"


class ActivityTable:
    """Minute stats of ``RANKED_TOPICS`` topics, every minute of a day, as the consumer writes
    them, answering the API's ``Query`` calls on the table and on the discovery index, and
    charging each call's read units as DynamoDB does: the size of the items (or index entries)
    read, summed per call, rounded up to 4 KB, halved for eventually consistent reads ("Read
    consumption for Query", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
    read-write-operations.html; index entries are sized on their projected attributes).
    """

    def __init__(self, day: str, topics: int = RANKED_TOPICS) -> None:
        from tweet_record.activity import ACTIVE_HOUR_ATTRIBUTE
        from tweet_record.items import item_size

        self.by_topic: dict[str, list[dict[str, Any]]] = {}
        self.by_hour: dict[str, list[dict[str, Any]]] = {}
        for rank in range(topics):
            pk = f"TOPIC##trending topic {rank:02d}"
            minutes = []
            for item in minute_items(day, 1440):
                minute = item["sk"]["S"][len("MINUTE#") :]
                stored = {
                    "pk": {"S": pk},
                    **item,
                    "tweet_count": {"N": str(7 + rank)},
                    "expires_at": {"N": "1797933600"},
                    SHARD_WATERMARK: {"S": "05649590339658103962127870000000000000000000000000012"},
                    ACTIVE_HOUR_ATTRIBUTE: {"S": minute[:13]},
                }
                minutes.append(stored)
                entry = {key: stored[key] for key in ("pk", "sk", ACTIVE_HOUR_ATTRIBUTE)}
                self.by_hour.setdefault(minute[:13], []).append(entry)
            self.by_topic[pk] = minutes
        for entries in self.by_hour.values():
            entries.sort(key=lambda entry: entry["sk"]["S"])
        # Sort keys and sizes computed once: the fake's own work is timed with the handler.
        self._keys = {
            name: ([item["sk"]["S"] for item in pool], [item_size(item) for item in pool])
            for name, pool in [*self.by_topic.items(), *self.by_hour.items()]
        }
        self.read_units: list[float] = []

    def query(self, **request: Any) -> dict[str, Any]:
        values = request["ExpressionAttributeValues"]
        first, last = values[":first"]["S"], values[":last"]["S"]
        name = values[":hour" if "IndexName" in request else ":pk"]["S"]
        pool = (self.by_hour if "IndexName" in request else self.by_topic).get(name, [])
        keys, sizes = self._keys.get(name, ([], []))
        start, end = bisect_left(keys, first), bisect_right(keys, last)
        self.read_units.append(max(1, -(-sum(sizes[start:end]) // 4096)) * 0.5)
        return {"Items": pool[start:end], "Count": end - start}


def ranking_event(start: str, end: str, route: str = "/api/topics") -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SERIES_EVENT.read_text(encoding="utf-8"))
    event["routeKey"] = f"GET {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = route
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["queryStringParameters"] = {"from": start, "to": end}
    event["rawQueryString"] = f"from={start}&to={end}"
    return event


def ranking_figures(runs: int, calls: int = 20) -> list[Figure]:
    """Warm time of the default ranking over an hour of 50 topics, and read units per call."""
    src = str(REPO_ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    os.environ.setdefault("TABLE_NAME", "trendstream-bench-EventData")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "api")
    from api import app

    table = ActivityTable("2026-11-22")
    original = app.dynamodb
    app.dynamodb = lambda: table  # type: ignore[assignment]
    hour = ranking_event("2026-11-22T10:30:00Z", "2026-11-22T11:29:00Z")
    day = ranking_event("2026-11-22T00:00:00Z", "2026-11-22T23:59:00Z")
    trending = ranking_event("2026-11-22T00:00:00Z", "2026-11-22T23:59:00Z", "/api/trending")
    trending["queryStringParameters"] = {"to": "2026-11-22T23:59:00Z"}
    trending["rawQueryString"] = "to=2026-11-22T23:59:00Z"
    units: dict[str, float] = {}
    title = f"API warm handler: default ranking over an hour of {RANKED_TOPICS} topics"
    try:
        for name, event in (("hour", hour), ("day", day), ("trending", trending)):
            table.read_units.clear()
            response = app.lambda_handler(event, _Context())
            ranked = json.loads(response["body"]).get("topics", [])
            if response["statusCode"] != 200 or len(ranked) != 25:
                reason = f"{name}: {response['statusCode']}"
                return [unavailable(RANKING_KEY, title, "ms", reason, RANKING_GOAL)]
            units[name] = sum(table.read_units)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(calls):
                app.lambda_handler(hour, _Context())
            samples.append((time.perf_counter() - started) * 1000 / calls)
    finally:
        app.dynamodb = original
    return [
        Figure(
            RANKING_KEY,
            title,
            "ms",
            Spread.of(samples),
            RANKING_GOAL,
            baseline=f"{calls} calls per run; 2 index Queries + {RANKED_TOPICS} topic Queries",
        ),
        Figure(
            "api_read_units_default_ranking_last_hour",
            f"API read units: default ranking, last hour ({RANKED_TOPICS} topics every minute)",
            "RRU",
            Spread.of([units["hour"]]),
            baseline="discovery index + each topic's minutes; eventually consistent",
        ),
        Figure(
            "api_read_units_ranking_over_a_day",
            f"API read units: ranking over a day ({RANKED_TOPICS} topics every minute)",
            "RRU",
            Spread.of([units["day"]]),
            baseline="the worst call the API accepts (docs/api.md)",
        ),
        Figure(
            "api_read_units_default_trending_call",
            f"API read units: default trending call ({RANKED_TOPICS} topics, 15 + 180 minutes)",
            "RRU",
            Spread.of([units["trending"]]),
        ),
    ]


def api_figures(build_dir: Path, runs: int) -> list[Figure]:
    return [cold_figure(build_dir, runs), warm_figure(runs), *ranking_figures(runs)]
