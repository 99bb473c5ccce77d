"""Shared by the chaos tests: a faulty stack, the dataset's recount, what the stack holds."""

from __future__ import annotations

import json
import shutil
import time
from base64 import b64decode
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scripts.generate_replay_dataset import DEFAULT_SEED, generate
from tests.emulator.support import Aws
from tests.kpl_records import aggregate

from local_aws import fault_plan
from local_aws.moto_server import emulator_environment, stop_emulator
from local_aws.runtime import LocalRuntime
from trendstream_cli import stack
from trendstream_cli.demo import put_poison_records
from trendstream_cli.lake_objects import lake_rows
from tweet_record import build_stream_record, encode_stream_record, parse_stream_record
from tweet_record.items import (
    STATS_COUNTERS,
    STATS_SK_PREFIX,
    minute_of_stats_sk,
    topic_of_pk,
    topic_pk,
)
from tweet_record.sentiment import SentimentDocument, VaderEngine
from tweet_record.timestamps import minute_of

POLL_SECONDS = 1.0
AGGREGATE_USER_RECORDS = 20
BUILD_DIR = stack.REPO_ROOT / "build"
ZIP_NAMES = ("producer.zip", "consumer.zip", "firehose_transformer.zip", "api.zip")
SENTIMENT_COUNTER = {
    "POSITIVE": "positive",
    "NEGATIVE": "negative",
    "NEUTRAL": "neutral",
    "MIXED": "mixed",
}


@dataclass(frozen=True)
class Expected:
    """What the dataset must become, recounted from the input files alone."""

    pairs: set[tuple[str, str]]
    stats: dict[tuple[str, str], Counter[str]]
    poison_reasons: dict[str, str]
    poison_data: dict[str, str]


def recount(
    dataset: Path,
    lost_pairs: frozenset[tuple[str, str]] = frozenset(),
    lost_poison: frozenset[str] = frozenset(),
) -> Expected:
    """The expected table and quarantine, less what a test knows was given up."""
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    fetched_at = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)
    parsed = []
    for entry in manifest["topics"]:
        topic = {key: entry[key] for key in ("name", "kind", "woeid") if key in entry}
        document = json.loads((dataset / entry["file"]).read_text(encoding="utf-8"))
        for page in document["pages"]:
            for api_tweet in page.get("data", []):
                record = build_stream_record(topic, api_tweet, None, fetched_at)  # type: ignore[arg-type]
                tweet = parse_stream_record(encode_stream_record(record))
                if (tweet.topic, tweet.tweet_id) not in lost_pairs:
                    parsed.append(tweet)
    labels = VaderEngine().classify([SentimentDocument(t.text, t.lang) for t in parsed])
    stats: dict[tuple[str, str], Counter[str]] = {}
    for tweet, label in zip(parsed, labels, strict=True):
        minute = (topic_pk(tweet.topic), f"{STATS_SK_PREFIX}{minute_of(tweet.created_at)}")
        counts = stats.setdefault(minute, Counter())
        counts["tweet_count"] += 1
        counts[SENTIMENT_COUNTER[str(label)]] += 1
    poison = [
        json.loads(line)
        for line in (dataset / "poison.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["partition_key"] not in lost_poison
    ]
    return Expected(
        pairs={(t.topic, t.tweet_id) for t in parsed},
        stats=stats,
        poison_reasons={p["partition_key"]: p["reason"] for p in poison},
        poison_data={p["partition_key"]: p["data_base64"] for p in poison},
    )


@dataclass
class ChaosStack:
    outputs: dict[str, Any]
    endpoint: str
    state_dir: Path
    plan: Path
    dataset: Path
    build_dir: Path
    aggregated: list[tuple[str, bytes]] = field(default_factory=list)
    """(partition key, data) of the tweets the test puts itself, in KPL aggregates."""

    def client(self, service: str) -> Any:
        return Aws(self.endpoint).client(service)

    def stream_records(self, pairs: int, poison: int) -> int:
        """Kinesis records the stream ends up holding: the producer's and the plain poison
        records one each, the aggregated tweets and poison records one per aggregate."""
        if not self.aggregated:
            return pairs + poison
        aggregates = self.aggregates()
        return pairs - len(self.aggregated) + poison - self.poison_inside(poison) + aggregates

    def aggregates(self) -> int:
        """Kinesis records the aggregated tweets take."""
        return -(-len(self.aggregated) // AGGREGATE_USER_RECORDS)

    def poison_inside(self, poison: int) -> int:
        """Poison records put inside aggregates: half of them, one per aggregate at most."""
        return min(poison // 2, self.aggregates())


def move_to_kpl(dataset: Path, out: Path, share: float) -> list[tuple[str, bytes]]:
    """Copy ``dataset`` to ``out`` without its smallest topics (about ``share`` of the pairs):
    the producer replays the copy, the test puts those topics' tweets itself, aggregated as the
    KPL would. Returns their (partition key, version 1 record) pairs, as the recount builds them."""
    shutil.copytree(dataset, out)
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    total = sum(topic["pairs"] for topic in manifest["topics"])
    moved: list[dict[str, Any]] = []
    for topic in sorted(manifest["topics"], key=lambda entry: entry["pairs"]):
        if sum(entry["pairs"] for entry in moved) + topic["pairs"] > share * total and moved:
            break
        moved.append(topic)
    fetched_at = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)
    records = []
    for entry in moved:
        topic = {key: entry[key] for key in ("name", "kind", "woeid") if key in entry}
        document = json.loads((dataset / entry["file"]).read_text(encoding="utf-8"))
        for page in document["pages"]:
            for api_tweet in page.get("data", []):
                record = build_stream_record(topic, api_tweet, None, fetched_at)  # type: ignore[arg-type]
                records.append((api_tweet["id"], encode_stream_record(record)))
    manifest["topics"] = [topic for topic in manifest["topics"] if topic not in moved]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return records


def put_aggregated(
    kinesis: Any, stream_name: str, tweets: list[tuple[str, bytes]], poison: list[dict[str, Any]]
) -> int:
    """Put ``tweets`` in KPL aggregates of AGGREGATE_USER_RECORDS made by AWS's aggregator, the
    first ones each carrying one of ``poison`` among them; returns the Kinesis records put."""
    aggregates = []
    for number, start in enumerate(range(0, len(tweets), AGGREGATE_USER_RECORDS)):
        users = list(tweets[start : start + AGGREGATE_USER_RECORDS])
        if number < len(poison):
            entry = poison[number]
            users.insert(
                number % len(users), (entry["partition_key"], b64decode(entry["data_base64"]))
            )
        key, data = aggregate(users)
        aggregates.append({"PartitionKey": key, "Data": data})
    for start in range(0, len(aggregates), 500):
        pending = aggregates[start : start + 500]
        while pending:
            response = kinesis.put_records(StreamName=stream_name, Records=pending)
            pending = [
                record
                for record, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
    return len(aggregates)


@contextmanager
def stack_with_faults(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plan: dict[str, Any] | Callable[[Path], dict[str, Any]],
    pairs: int,
    poison: int | None = None,
    *,
    kpl_share: float = 0.0,
) -> Iterator[ChaosStack]:
    """A generated dataset, the fault plan in ``TRENDSTREAM_FAULTS``, the stack applied to a
    fresh emulator on a free port, the producer pointed at the dataset (less ``kpl_share`` of
    its pairs, which the test puts in KPL aggregates); always torn down."""
    # A private copy of the zips: another `make build` mid-run would otherwise change the code
    # under the stack (the runtime refuses a zip whose hash is not the deployed CodeSha256).
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    for zip_name in ZIP_NAMES:
        assert (BUILD_DIR / zip_name).is_file(), f"build/{zip_name} missing: run `make build`"
        shutil.copyfile(BUILD_DIR / zip_name, build_dir / zip_name)
    dataset = tmp_path / "dataset"
    generate(dataset, pairs, DEFAULT_SEED, None, poison)
    plan_path = tmp_path / "fault_plan.json"
    document = plan(dataset) if callable(plan) else plan
    plan_path.write_text(json.dumps(document), encoding="utf-8")
    # Read by the emulator (inherits the environment) and by the runtime (this process).
    monkeypatch.setenv(fault_plan.ENVIRONMENT_VARIABLE, str(plan_path))
    paths = stack.StackPaths(state_dir=tmp_path / "state")
    try:
        outputs = stack.up(paths, 0, extra_vars={"lambda_artifacts_dir": str(build_dir)})
        endpoint = stack.running_endpoint(paths)
        assert endpoint is not None, f"the emulator stopped: see {paths.emulator_log}"
        for name, value in emulator_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        chaos = ChaosStack(outputs, endpoint, paths.state_dir, plan_path, dataset, build_dir)
        producer_dataset = dataset
        if kpl_share:
            producer_dataset = tmp_path / "producer-dataset"
            chaos.aggregated = move_to_kpl(dataset, producer_dataset, kpl_share)
        point_producer_at(chaos, producer_dataset)
        # One producer run, when the runtime starts: a scheduled run while the first is still
        # replaying (it may take any time under load) would put the same topics twice.
        chaos.client("events").disable_rule(Name=outputs["schedule_rule_name"])
        yield chaos
    finally:
        stop_emulator(pid_file=paths.pid_file)
        shutil.rmtree(paths.state_dir / ".terraform", ignore_errors=True)


def point_producer_at(chaos: ChaosStack, dataset: Path) -> None:
    lambda_client = chaos.client("lambda")
    name = chaos.outputs["producer_function_name"]
    variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"][
        "Variables"
    ]
    # As recorded: the recount keys the per-minute stats by the dataset's own created_at.
    variables.update(
        REPLAY_DATASET_URI=str(dataset), REPLAY_SHIFT_TIMESTAMPS="false", MAX_PAGES_PER_TOPIC="1000"
    )
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": variables}
    )


class Lake:
    """What the deployed table and bucket hold, read through their APIs."""

    def __init__(self, chaos: ChaosStack) -> None:
        self._dynamodb = chaos.client("dynamodb")
        self._s3 = chaos.client("s3")
        self._table = chaos.outputs["table_name"]
        self._bucket = chaos.outputs["lake_bucket"]

    def items_by_kind(self) -> dict[str, list[dict[str, Any]]]:
        """One scan of the whole table, items grouped by their sort key's kind (TWEET, ...)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._table):
            for item in page["Items"]:
                grouped.setdefault(item["sk"]["S"].split("#", 1)[0], []).append(item)
        return grouped

    def count(self, sort_key_prefix: str) -> int:
        paginator = self._dynamodb.get_paginator("scan")
        return sum(
            page["Count"]
            for page in paginator.paginate(
                TableName=self._table,
                Select="COUNT",
                FilterExpression="begins_with(sk, :prefix)",
                ExpressionAttributeValues={":prefix": {"S": sort_key_prefix}},
            )
        )

    def counted_tweets(self) -> int:
        """The tweets the minute stats count: a tweet item lands before its minute's update
        (``consumer.writes``), so a wait on the stats waits on this, not on the items."""
        paginator = self._dynamodb.get_paginator("scan")
        return sum(
            int(item["tweet_count"]["N"])
            for page in paginator.paginate(
                TableName=self._table,
                FilterExpression="begins_with(sk, :prefix)",
                ExpressionAttributeValues={":prefix": {"S": "MINUTE#"}},
                ProjectionExpression="tweet_count",
            )
            for item in page["Items"]
        )

    def keys(self, prefix: str) -> list[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        return [
            entry["Key"]
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
            for entry in page.get("Contents", [])
        ]

    def body(self, key: str) -> bytes:
        data: bytes = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return data

    def lines(self, prefix: str) -> list[dict[str, Any]]:
        """Every row under ``prefix``: Parquet rows, or JSON lines."""
        return [row for key in self.keys(prefix) for row in lake_rows(self.body(key))]


def wait_until(condition: Callable[[], bool], describe: Callable[[], str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {timeout:.0f}s: {describe()}")
        time.sleep(POLL_SECONDS)


def consumer_metric(log_path: Path, name: str) -> int:
    """Sum of one EMF metric the consumer logged (its worker log holds the EMF lines)."""
    total = 0
    if not log_path.exists():
        return total
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if f'"{name}"' not in line or '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        value = document.get(name, 0)
        total += int(sum(value) if isinstance(value, list) else value)
    return total


class ChaosRuntime(LocalRuntime):
    """The runtime with its one producer run at start (the schedule is disabled), and once it
    has started (Firehose reads from LATEST) the dataset's poison records on the stream: the
    producer writes tweets only, as the demo does."""

    def __init__(self, chaos: ChaosStack, clock_speed: float) -> None:
        super().__init__(
            chaos.outputs,
            chaos.endpoint,
            build_dir=chaos.build_dir,
            state_dir=chaos.state_dir / "runtime",
            clock_speed=clock_speed,
            start_with_producer_run=True,
        )
        self._chaos = chaos
        self._poisoned = False

    def start(self) -> None:
        super().start()
        if self._poisoned:
            return
        self._poisoned = True
        kinesis = self._chaos.client("kinesis")
        stream = self._chaos.outputs["stream_name"]
        poison_file = self._chaos.dataset / "poison.jsonl"
        if not self._chaos.aggregated:
            put_poison_records(kinesis, stream, poison_file)
            return
        # Up to half the poison records travel inside aggregates (one each), among tweets; the
        # rest plain.
        poison = [
            json.loads(line)
            for line in poison_file.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        inside = poison[: self._chaos.poison_inside(len(poison))]
        plain = self._chaos.state_dir / "plain-poison.jsonl"
        plain.write_text(
            "".join(json.dumps(entry) + "\n" for entry in poison[len(inside) :]),
            encoding="utf-8",
        )
        put_poison_records(kinesis, stream, plain)
        put_aggregated(kinesis, stream, self._chaos.aggregated, inside)


def start_runtime(chaos: ChaosStack, clock_speed: float) -> LocalRuntime:
    return ChaosRuntime(chaos, clock_speed)


def stored_stats(items: list[dict[str, Any]]) -> dict[tuple[str, str], Counter[str]]:
    """(``TOPIC#<topic>``, ``MINUTE#<minute>``) -> non-zero counters, the minute's partial items
    (one per shard, over every key part) summed as a reader sums them: comparable with a
    recount."""
    stats: dict[tuple[str, str], Counter[str]] = {}
    for item in items:
        topic, minute = topic_of_pk(item["pk"]["S"]), minute_of_stats_sk(item["sk"]["S"])
        counts = stats.setdefault((topic_pk(topic), f"{STATS_SK_PREFIX}{minute}"), Counter())
        counts.update({name: int(item[name]["N"]) for name in STATS_COUNTERS})
    return {key: +counts for key, counts in stats.items()}
