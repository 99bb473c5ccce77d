"""Replay source end to end: the handler, the packaged dataset, moto Kinesis and DynamoDB."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from producer_helpers import (
    REGION,
    REPLAY_DATASET,
    FakeContext,
    checkpoint_item,
    load_event,
    read_stream,
)

from tweet_record import RecordRejectedError, parse_stream_record

pytestmark = pytest.mark.usefixtures("aws", "producer_env")

MANIFEST: dict[str, Any] = json.loads((REPLAY_DATASET / "manifest.json").read_text())
BUCKET = "trendstream-test-lake-123456789012"


def upload_dataset() -> str:
    """The dataset as the stack uploads it: objects under replay/ in the lake bucket."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    for path in REPLAY_DATASET.rglob("*.json"):
        s3.put_object(
            Bucket=BUCKET, Key=f"replay/{path.relative_to(REPLAY_DATASET)}", Body=path.read_bytes()
        )
    return f"s3://{BUCKET}/replay/"


def _invoke(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    from producer.app import lambda_handler

    monkeypatch.setenv("TWEET_SOURCE", "replay")
    monkeypatch.setenv("REPLAY_DATASET_URI", str(REPLAY_DATASET))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result: dict[str, Any] = lambda_handler(load_event("eventbridge_scheduled.json"), FakeContext())
    return result


def _split(records: list[dict[str, Any]]) -> tuple[list[tuple[str, Any]], list[tuple[str, str]]]:
    parsed: list[tuple[str, Any]] = []
    rejected: list[tuple[str, str]] = []
    for record in records:
        try:
            parsed.append((record["key"], parse_stream_record(record["data"])))
        except RecordRejectedError as error:
            rejected.append((record["key"], error.reason))
    return parsed, rejected


def test_dataset_from_s3_lands_once_per_topic_tweet_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = MANIFEST["counts"]

    summary = _invoke(monkeypatch, REPLAY_DATASET_URI=upload_dataset())

    records = read_stream()
    parsed, rejected = _split(records)
    assert summary["records_put"] == len(records) == counts["pairs"]
    assert summary["records_failed"] == 0
    assert summary["tweets_fetched"] == counts["pairs"]
    # Poison records are the demo's business now: the producer writes tweets only.
    assert rejected == []
    # partition key = tweet id; one record per (topic, tweet); shared tweets appear twice
    assert all(key == tweet.tweet_id for key, tweet in parsed)
    pairs = {(tweet.topic, tweet.tweet_id) for _, tweet in parsed}
    assert len(pairs) == len(parsed) == counts["pairs"]
    assert len({tweet.tweet_id for _, tweet in parsed}) == counts["distinct_tweets"]
    per_topic: dict[str, int] = {}
    for _, tweet in parsed:
        per_topic[tweet.topic] = per_topic.get(tweet.topic, 0) + 1
    assert per_topic == counts["per_topic"]


def test_replay_dates_the_dataset_to_the_run_keeping_its_spacing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = sorted(
        datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
        for path in (REPLAY_DATASET / "search").glob("*.json")
        for page in json.loads(path.read_text())["pages"]
        for tweet in page.get("data", [])
    )
    before = datetime.now(UTC).replace(microsecond=0)

    _invoke(monkeypatch)

    after = datetime.now(UTC)
    replayed = sorted(
        {
            datetime.fromisoformat(
                parse_stream_record(record["data"]).created_at.replace("Z", "+00:00")
            )
            for record in read_stream()
        }
    )
    assert before <= replayed[-1] <= after
    offset = replayed[-1] - recorded[-1]
    assert replayed == sorted({moment + offset for moment in recorded})


def test_second_run_produces_nothing_new(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _invoke(monkeypatch)
    second = _invoke(monkeypatch)

    assert first["records_put"] > 0
    assert second["records_put"] == 0
    assert second["tweets_fetched"] == 0
    assert len(read_stream()) == first["records_put"]
    newest = max(
        int(tweet["id"])
        for page in json.loads((REPLAY_DATASET / "search/europe.json").read_text())["pages"]
        for tweet in page.get("data", [])
    )
    assert checkpoint_item("#Europe")["since_id"] == {"N": str(newest)}


def test_search_queries_setting_replaces_the_dataset_queries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = _invoke(monkeypatch, SEARCH_QUERIES="[]", TREND_WOEIDS="none")

    assert summary["topics"] == 0
    assert summary["tweets_fetched"] == 0
    assert summary["records_put"] == 0


def test_generated_large_dataset_via_replay_dataset_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scripts.generate_replay_dataset import generate

    manifest = generate(tmp_path / "replay", pairs=10_000, seed=7)

    summary = _invoke(
        monkeypatch,
        REPLAY_DATASET_URI=f"file://{tmp_path / 'replay'}",
        MAX_PAGES_PER_TOPIC=str(manifest["min_max_pages_per_topic"]),
    )

    expected = manifest["counts"]["pairs"]
    assert summary["records_put"] == expected == len(read_stream())
    # full batches across topics: ceil(records / 500) PutRecords calls, the floor
    assert summary["put_records_calls"] == -(-expected // 500)


def test_page_cap_below_the_dataset_is_partial_but_advances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = _invoke(monkeypatch, MAX_PAGES_PER_TOPIC="1")

    page_size = MANIFEST["page_size"]
    assert summary["tweets_fetched"] == page_size * len(MANIFEST["topics"])
    assert summary["checkpoints_advanced"] == len(MANIFEST["topics"])


def test_no_time_left_fetches_nothing_and_logs_json_under_any_service_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    import producer.app

    package_logger = logging.getLogger("producer")
    for attribute in ("handlers", "propagate", "level"):  # restored after the test
        monkeypatch.setattr(package_logger, attribute, getattr(package_logger, attribute))
    monkeypatch.setenv("TWEET_SOURCE", "replay")
    monkeypatch.setenv("REPLAY_DATASET_URI", str(REPLAY_DATASET))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "trendstream-producer")
    # a fresh import, as a cold start would do, with this service name and this test's stdout
    lambda_handler = importlib.reload(producer.app).lambda_handler
    context = FakeContext(remaining_millis=15_000)  # below the 20 s safety margin

    summary = lambda_handler(load_event("eventbridge_scheduled.json"), context)

    assert summary["stopped_for_time"]
    assert summary["tweets_fetched"] == 0
    assert summary["checkpoints_advanced"] == 0
    logs = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert any(
        entry.get("message", "").startswith("Stopping fetches") and entry.get("level") == "WARNING"
        for entry in logs
    )
