"""The read API: cold start from its zip, and warm handler time of a day-long series.

Cold start: a fresh interpreter (``-I -S``) whose path holds only the unzipped ``build/api.zip``
and the runtime's boto3, as Lambda lays them out. It imports ``app``, builds the DynamoDB client
and answers one series request (an hour of minutes) with validation on; the client's ``query``
is answered by botocore's ``Stubber``, so no network is touched and the request and response are
still (de)serialised. Stubbing is set up outside the timed spans.

Warm: the handler in this process answering the series over 1,440 minutes (a full day, the
largest window) from a fake client that returns every minute's item in one page.
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
from pathlib import Path
from typing import Any

from bench.cold_import import function_environment, runtime_path
from bench.figures import Figure, Goal, Spread, number, unavailable

REPO_ROOT = Path(__file__).resolve().parent.parent
COLD_GOAL = Goal("at_most", 800.0)
WARM_GOAL = Goal("at_most", 30.0)
SERIES_EVENT = REPO_ROOT / "tests" / "events" / "apigw_v2_series.json"
COUNTERS = ("tweet_count", "positive", "negative", "neutral", "mixed")


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
    completed = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-I", "-S", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"cold start failed: {tail[0]}")
    sample: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    if sample["status"] != 200:
        raise RuntimeError(f"the first answer was {sample['status']}, not 200")
    return sample


def cold_figure(build_dir: Path, runs: int) -> Figure:
    title = "API cold start: import + client + first series answer (fresh process, zip)"
    archive = build_dir / "api.zip"
    if not archive.exists():
        return unavailable(title, "ms", f"{archive} missing: make build", COLD_GOAL)
    with tempfile.TemporaryDirectory(prefix="trendstream-bench-api-") as scratch:
        runtime = runtime_path(Path(scratch) / "runtime")
        task_root = Path(scratch) / "api"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(task_root)
        try:
            samples = [cold_sample(task_root, runtime) for _ in range(runs)]
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
            return unavailable(title, "ms", str(error), COLD_GOAL)

    def median(key: str) -> float:
        return statistics.median(sample[key] for sample in samples)

    return Figure(
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
            return unavailable(title, "ms", f"answer {response['statusCode']}", WARM_GOAL)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(calls):
                app.lambda_handler(event, _Context())
            samples.append((time.perf_counter() - started) * 1000 / calls)
    finally:
        app.dynamodb = original
    return Figure(
        title,
        "ms",
        Spread.of(samples),
        WARM_GOAL,
        baseline=f"{calls} calls per run, response {number(len(response['body']) / 1024)} KiB",
    )


def api_figures(build_dir: Path, runs: int) -> list[Figure]:
    return [cold_figure(build_dir, runs), warm_figure(runs)]
