"""`trendstream demo` (`make demo`): the whole pipeline on the emulator, bounded, then torn down.

Starts the emulator, applies the stack, runs the local runtime with a faster clock so the schedule
fires the producer on the replay dataset within seconds, waits until every stage has caught up
(or the time bound passes), prints what each stage holds beside what the dataset says it should,
runs a named Athena query over the lake, and tears everything down. It exits 0 only when the
counts agree.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from rich.console import Console
from rich.table import Table

from local_aws.moto_server import EmulatorError, emulator_environment, stop_emulator
from local_aws.stack_functions import StackFunction, stack_functions
from trendstream_cli import arguments, lifecycle, pipeline, query, stack
from trendstream_cli import run as run_command
from tweet_record.lake import ERRORS_PREFIX

logger = logging.getLogger(__name__)

DATASET = stack.REPO_ROOT / "datasets" / "replay"
MANIFEST = DATASET / "manifest.json"
POISON = DATASET / "poison.jsonl"
"""Malformed payloads the demo puts on the stream itself: fault injection is not the producer's."""
DEMO_QUERY = "top-topics-last-hour"
"""Replay dates the dataset to the run, so the last-hour query sees what was just replayed."""
POLL_SECONDS = 1.0
PUT_RECORDS_LIMIT = 500


@dataclass(frozen=True)
class Expected:
    """What the replay dataset must turn into, from its manifest."""

    pairs: int
    poison: int

    @classmethod
    def from_manifest(cls, path: Path) -> Expected:
        counts = json.loads(path.read_text(encoding="utf-8"))["counts"]
        return cls(pairs=int(counts["pairs"]), poison=int(counts["poison"]))


def put_poison_records(kinesis: Any, stream_name: str, poison_file: Path = POISON) -> int:
    """Put each `poison.jsonl` payload on the stream byte for byte (partition key `poison-<name>`):
    the consumer must quarantine each with the reason the file names. Returns how many."""
    entries = [
        json.loads(line)
        for line in poison_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    records = [
        {"PartitionKey": entry["partition_key"], "Data": base64.b64decode(entry["data_base64"])}
        for entry in entries
    ]
    for start in range(0, len(records), PUT_RECORDS_LIMIT):
        pending = records[start : start + PUT_RECORDS_LIMIT]
        while pending:
            response = kinesis.put_records(StreamName=stream_name, Records=pending)
            pending = [
                record
                for record, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
    return len(records)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=arguments.bounded_float(0.0, 3600.0, low_inclusive=False),
        default=150.0,
        help="give up waiting for the pipeline after this many seconds (at most 3600)",
    )
    parser.add_argument(
        "--clock-speed",
        type=arguments.bounded_float(run_command.MIN_CLOCK_SPEED, run_command.MAX_CLOCK_SPEED),
        default=60.0,
        help="schedule and buffer time runs this many times faster (default 60: 5 min -> 5 s)",
    )
    parser.add_argument(
        "--port",
        type=arguments.port_or_any,
        default=lifecycle.default_port(),
        help="emulator port (default: $LOCAL_AWS_PORT or 4566; 0: any free port)",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=stack.default_state_dir() / "demo", help="demo state"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack up at the end")


def settled(counts: pipeline.PipelineCounts, dropped: int, expected: Expected) -> bool:
    """Every stage holds what the dataset implies: the pipeline has nothing left in flight."""
    return (
        counts.stream_records == expected.pairs + expected.poison
        and counts.tweet_items == expected.pairs
        and counts.tweets_counted == expected.pairs
        and counts.lake_lines + dropped == expected.pairs
        and counts.quarantined == expected.poison
    )


def wait_until_settled(
    read: Callable[[], pipeline.PipelineCounts],
    dropped: Callable[[], int],
    expected: Expected,
    timeout: float,
) -> pipeline.PipelineCounts:
    deadline = time.monotonic() + timeout
    while True:
        counts = read()
        logger.info(
            "stream %d, table %d (stats count %d), lake %d (+%d dropped), quarantine %d",
            counts.stream_records,
            counts.tweet_items,
            counts.tweets_counted,
            counts.lake_lines,
            dropped(),
            counts.quarantined,
        )
        if settled(counts, dropped(), expected) or time.monotonic() >= deadline:
            return counts
        time.sleep(POLL_SECONDS)


def summary_table(counts: pipeline.PipelineCounts, dropped: int, expected: Expected) -> Table:
    table = Table(title="trendstream demo: what each stage holds")
    table.add_column("stage")
    table.add_column("count", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("", justify="center")

    def row(stage: str, count: int, want: int) -> None:
        table.add_row(stage, str(count), str(want), "ok" if count == want else "MISMATCH")

    row(
        "records produced to Kinesis (tweets + poison)",
        counts.stream_records,
        expected.pairs + expected.poison,
    )
    row("tweets in DynamoDB (one per topic)", counts.tweet_items, expected.pairs)
    row("tweets counted in the per-minute stats", counts.tweets_counted, expected.pairs)
    row("rows in the lake + dropped by filters", counts.lake_lines + dropped, expected.pairs)
    row("poison records quarantined", counts.quarantined, expected.poison)
    table.add_row(
        f"Firehose processing failures ({ERRORS_PREFIX})", str(counts.error_records), "", ""
    )
    table.add_row("lake objects", str(counts.lake_objects), "", "")
    return table


def topics_table(counts: pipeline.PipelineCounts) -> Table:
    table = Table(title="top topics (per-minute stats in DynamoDB)")
    table.add_column("topic")
    table.add_column("tweets", justify="right")
    for topic, count in counts.top_topics():
        table.add_row(topic, str(count))
    return table


def functions_table(stats: Mapping[str, Any], functions: Sequence[StackFunction]) -> Table:
    """What each of the stack's functions did during the demo, as `make run` shows it."""
    table = Table(title="functions (the local runtime's counts)")
    table.add_column("function")
    table.add_column("count", justify="right")
    run_command.add_function_rows(table, stats, functions)
    return table


def print_query(console: Console, outputs: Mapping[str, Any]) -> None:
    console.print(f"\nnamed Athena query [bold]{DEMO_QUERY}[/bold], run locally by DuckDB:")
    result = query.run_query(outputs, DEMO_QUERY)
    query.render(result, "table", sys.stdout)


def closing_words(console: Console, port: int, table_name: str) -> None:
    console.print(
        "\nLook for yourself:\n"
        "  make up                 # emulator + stack, left running\n"
        "  make run DURATION=60    # the runtime: schedule, event source mapping, Firehose\n"
        f"  aws --endpoint-url http://127.0.0.1:{port} dynamodb scan --table-name {table_name}\n"
        "  .venv/bin/trendstream query top-hashtags\n"
        f"  the emulator's dashboard: http://127.0.0.1:{port}/moto-api/\n"
        "  make down"
    )


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 100))
    expected = Expected.from_manifest(MANIFEST)
    paths = stack.StackPaths(state_dir=args.state_dir.resolve())
    if stack.running_endpoint(paths) is not None:
        # Not this command's to replay into or tear down: it stops only what it started.
        arguments.print_error(
            f"a demo stack kept with --keep is still up in {paths.state_dir}: "
            f"`.venv/bin/trendstream down --state-dir {paths.state_dir}` removes it"
        )
        return 1
    started = time.monotonic()
    try:
        outputs = stack.up(paths, args.port, on_progress=lifecycle.ProgressLog("apply"))
    except (stack.PortInUseError, stack.TerraformError, EmulatorError) as error:
        arguments.print_error(error)
        return 1
    except KeyboardInterrupt:
        if not args.keep:  # the demo is bounded: what it started goes, interrupted or not
            stop_emulator(pid_file=paths.pid_file)
            shutil.rmtree(paths.state_dir, ignore_errors=True)
        raise
    endpoint = stack.running_endpoint(paths)
    if endpoint is None:
        logger.error("the emulator stopped during apply: see %s", paths.emulator_log)
        return 1
    logger.info("stack applied in %.0fs; running the pipeline", time.monotonic() - started)
    try:
        # boto3 in this process (the pipeline reader, the query) talks to the emulator too.
        os.environ.update(emulator_environment(endpoint))
        runtime = run_command.local_runtime(outputs, endpoint, paths, args.clock_speed)
        reader = pipeline.PipelineReader(outputs, endpoint)
        with runtime:
            # After the runtime started: Firehose reads from LATEST, as on AWS.
            put_poison_records(boto3.client("kinesis"), str(outputs["stream_name"]))
            if runtime.api is not None:
                # No parameters: the page ranks the topics the pipeline finds (the replay dates
                # its tweets to the run, so the default window, the last hour, holds them).
                console.print(f"live page while the demo runs: {runtime.api.url}", soft_wrap=True)

            def dropped() -> int:
                return int(runtime.stats()["dropped"])

            counts = wait_until_settled(reader.counts, dropped, expected, args.timeout)
            dropped_now = dropped()
            runtime_stats = runtime.stats()
        ok = settled(counts, dropped_now, expected)
        console.print(summary_table(counts, dropped_now, expected))
        console.print(topics_table(counts))
        console.print(functions_table(runtime_stats, stack_functions(outputs)))
        print_query(console, outputs)
        console.print(f"\ndemo took {time.monotonic() - started:.0f}s in all")
        closing_words(console, urlsplit(endpoint).port or args.port, str(outputs["table_name"]))
    finally:
        if not args.keep:
            # The emulator keeps every resource in memory: stopping it is the teardown, and
            # skips a `terraform destroy` (the slowest step of a teardown) whose result nobody
            # would see.
            # `make down` does run the destroy, and tests/emulator asserts it completes.
            stop_emulator(pid_file=paths.pid_file)
            shutil.rmtree(paths.state_dir, ignore_errors=True)
    if not ok:
        logger.error("the counts disagree: see the MISMATCH rows above")
        return 1
    return 0
