"""`trendstream run`: the local runtime against the stack `make up` left running, live counts.

The run starts with one producer run (as a deployment kicks the producer off) and then follows
the schedule; the table shows when the next scheduled run is due and, per function, the errors,
throttles and dead letters that the stack's alarms would see on AWS, with the last error.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from local_aws.apigateway import local_api_port
from local_aws.kinesis_reader import ShardCheckpointMismatchError
from local_aws.lambda_service import CodeMismatchError
from local_aws.runtime import LocalRuntime, RuntimeAlreadyRunningError
from local_aws.stack_functions import StackFunction, stack_functions
from trendstream_cli import arguments, stack
from trendstream_cli.outputs import StackOutputsError, local_stack

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
MAX_DURATION_SECONDS = 7 * 86400.0
MIN_CLOCK_SPEED, MAX_CLOCK_SPEED = 0.01, 3600.0
"""3600: an hour of schedule and buffer time per second, far beyond what the demo needs (60)."""
LAST_ERROR_WIDTH = 160


class EmulatorGoneError(RuntimeError):
    """The stack's emulator stopped while the runtime ran."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        type=arguments.bounded_float(0.0, MAX_DURATION_SECONDS, low_inclusive=False),
        default=None,
        help="stop after this many seconds, at most a week (default: Ctrl-C)",
    )
    parser.add_argument(
        "--clock-speed",
        type=arguments.bounded_float(MIN_CLOCK_SPEED, MAX_CLOCK_SPEED),
        default=1.0,
        help=f"run schedules and buffer intervals this many times faster than real time "
        f"({MIN_CLOCK_SPEED:g}-{MAX_CLOCK_SPEED:g})",
    )
    parser.add_argument("--state-dir", type=Path, default=stack.default_state_dir())


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def progress_table(
    stats: Mapping[str, Any], elapsed: float, functions: Sequence[StackFunction] = ()
) -> Table:
    """The live table, with the invocations and failures of each of the stack's `functions`."""
    table = Table(title=f"trendstream local runtime ({elapsed:.0f}s)", show_header=True)
    table.add_column("stage")
    table.add_column("count", justify="right", overflow="fold")
    lag = stats.get("iterator_lag_ms", {})
    consumer_lag = max(lag.get("consumer", {}).values(), default=0)
    firehose_lag = max(lag.get("firehose", {}).values(), default=0)
    next_run = stats.get("next_scheduled_run_in")
    rows: list[tuple[str, object]] = [
        (
            "producer runs (at start + schedule)",
            f"{stats.get('producer_runs_at_start', 0)} + {stats.get('scheduled_events', 0)}",
        ),
        ("next scheduled run in", "-" if next_run is None else _duration_text(next_run)),
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
    if stats.get("loop_errors"):
        table.add_row("runtime step failures", f"[red]{stats['loop_errors']}[/]")
        if stats.get("last_loop_error"):
            table.add_row("last failure", f"[red]{_shorten(str(stats['last_loop_error']))}[/]")
    add_function_rows(table, stats, functions)
    return table


def add_function_rows(
    table: Table, stats: Mapping[str, Any], functions: Sequence[StackFunction]
) -> None:
    """Per function of the stack: its invocations, failures and last error, as the runtime
    counted them (a function not invoked yet shows zeros)."""
    function_stats = stats.get("functions", {})
    for function in functions:
        role = function.role
        counters = function_stats.get(function.name) or {}
        failures = (
            f"{counters.get('errors', 0)} errors, {counters.get('throttles', 0)} throttles, "
            f"{counters.get('dead_letters', 0)} to DLQ"
        )
        style = "red" if counters.get("errors") or counters.get("dead_letter_errors") else ""
        table.add_row(f"{role} invocations", f"{counters.get('invocations', 0)}")
        table.add_row(f"{role} failures", f"[{style}]{failures}[/]" if style else failures)
        if counters.get("last_error"):
            table.add_row(
                f"{role} last error",
                f"[red]{_shorten(str(counters['last_error']))}[/]",
            )


def _shorten(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= LAST_ERROR_WIDTH else line[: LAST_ERROR_WIDTH - 1] + "…"


def run(args: argparse.Namespace) -> int:
    paths = stack.StackPaths(state_dir=args.state_dir.resolve())
    try:
        outputs, endpoint = local_stack(paths.state_dir)
    except StackOutputsError as error:
        arguments.print_error(error)
        return 2
    functions = stack_functions(outputs)
    runtime = local_runtime(outputs, endpoint, paths, args.clock_speed)
    try:
        with runtime:
            _show(runtime, args.duration, functions, paths)
    except (
        RuntimeAlreadyRunningError,
        ShardCheckpointMismatchError,
        CodeMismatchError,
        EmulatorGoneError,
        FileNotFoundError,
    ) as error:
        arguments.print_error(error)
        return 1
    except (BotoCoreError, ClientError) as error:
        if stack.running_endpoint(paths) is None:
            arguments.print_error(_gone(paths))
        else:
            arguments.print_error(f"the emulator at {endpoint} answered: {error}")
        return 1
    return 0


def local_runtime(
    outputs: Mapping[str, Any], endpoint: str, paths: stack.StackPaths, clock_speed: float
) -> LocalRuntime:
    """The runtime `run` and `demo` start: the built zips, the stack's own runtime state (its
    checkpoints), and one producer run at start as a deployment kicks the producer off."""
    return LocalRuntime(
        outputs,
        endpoint,
        build_dir=stack.REPO_ROOT / "build",
        state_dir=paths.runtime_dir,
        clock_speed=clock_speed,
        start_with_producer_run=True,
        api_port=local_api_port({**os.environ, "LOCAL_AWS_PORT": str(urlsplit(endpoint).port)}),
    )


def _gone(paths: stack.StackPaths) -> str:
    return (
        f"the stack's emulator stopped (see {paths.emulator_log}); the run ended. "
        "`make up` starts a new stack"
    )


def _show(
    runtime: LocalRuntime,
    duration: float | None,
    functions: Sequence[StackFunction],
    paths: stack.StackPaths,
) -> None:
    started = time.monotonic()
    console = Console()

    def table() -> Table:
        if runtime.unreachable_since is not None and stack.running_endpoint(paths) is None:
            raise EmulatorGoneError(_gone(paths))
        try:
            stats = runtime.stats()
        except (BotoCoreError, ClientError) as error:
            if stack.running_endpoint(paths) is None:
                raise EmulatorGoneError(_gone(paths)) from error
            raise
        return progress_table(stats, time.monotonic() - started, functions)

    with Live(console=console, auto_refresh=False) as live:
        if runtime.api is not None:
            console.print(f"read API and live page: {runtime.api.url}", soft_wrap=True)
        while duration is None or time.monotonic() - started < duration:
            live.update(table(), refresh=True)
            remaining = (
                REFRESH_SECONDS
                if duration is None
                else min(REFRESH_SECONDS, duration - (time.monotonic() - started))
            )
            time.sleep(max(remaining, 0.0))
        live.update(table(), refresh=True)
