"""`trendstream run`: the local runtime against the stack `make up` left running, live counts."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from local_aws.runtime import LocalRuntime
from trendstream_cli import stack

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: Ctrl-C)",
    )
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="run schedules and buffer intervals this many times faster than real time",
    )
    parser.add_argument("--state-dir", type=Path, default=stack.default_state_dir())


def progress_table(stats: Mapping[str, Any], elapsed: float) -> Table:
    table = Table(title=f"trendstream local runtime ({elapsed:.0f}s)", show_header=True)
    table.add_column("stage")
    table.add_column("count", justify="right")
    lag = stats.get("iterator_lag_ms", {})
    consumer_lag = max(lag.get("consumer", {}).values(), default=0)
    firehose_lag = max(lag.get("firehose", {}).values(), default=0)
    rows = [
        ("producer runs (schedule)", stats.get("scheduled_events", 0)),
        ("consumed by the consumer", stats.get("consumed", 0)),
        ("given up (on-failure queue)", stats.get("consumer_discarded", 0)),
        ("delivered to the lake", stats.get("delivered", 0)),
        ("dropped by the transformer", stats.get("dropped", 0)),
        ("processing failed (errors/)", stats.get("processing_failed", 0)),
        ("lake objects written", stats.get("objects_written", 0)),
        ("consumer iterator lag (ms)", consumer_lag),
        ("Firehose iterator lag (ms)", firehose_lag),
    ]
    for stage, count in rows:
        table.add_row(stage, str(count))
    return table


def run(args: argparse.Namespace) -> int:
    paths = stack.StackPaths(state_dir=args.state_dir.resolve())
    endpoint = stack.running_endpoint(paths)
    if endpoint is None:
        log.error("no local stack is running for %s: run `make up` first", paths.state_dir)
        return 2
    outputs = stack.read_outputs(paths)
    runtime = LocalRuntime(
        outputs,
        endpoint,
        build_dir=stack.REPO_ROOT / "build",
        state_dir=paths.state_dir / "runtime",
        clock_speed=args.clock_speed,
    )
    started = time.monotonic()
    console = Console()
    with runtime, Live(console=console, auto_refresh=False) as live:
        if runtime.api is not None:
            console.print(f"read API and live page: {runtime.api.url}", soft_wrap=True)
        while args.duration is None or time.monotonic() - started < args.duration:
            live.update(progress_table(runtime.stats(), time.monotonic() - started), refresh=True)
            remaining = (
                REFRESH_SECONDS
                if args.duration is None
                else min(REFRESH_SECONDS, args.duration - (time.monotonic() - started))
            )
            time.sleep(max(remaining, 0.0))
        live.update(progress_table(runtime.stats(), time.monotonic() - started), refresh=True)
    return 0
