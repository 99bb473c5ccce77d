"""`trendstream up` / `trendstream down`: the local stack's whole life cycle in two commands."""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from local_aws.apigateway import local_api_port
from local_aws.moto_server import EmulatorError
from trendstream_cli import arguments, stack

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4566
PROGRESS_EVERY_SECONDS = 5.0


def default_port() -> int:
    """$LOCAL_AWS_PORT, or 4566; a bad value is reported as the variable's fault."""
    text = os.environ.get("LOCAL_AWS_PORT", str(DEFAULT_PORT))
    try:
        return arguments.port(text)
    except argparse.ArgumentTypeError as error:
        raise SystemExit(f"trendstream: LOCAL_AWS_PORT: {error}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=stack.default_state_dir(),
        help="where the emulator PID, logs, Terraform state and outputs live (default: .local/)",
    )
    parser.add_argument(
        "--port",
        type=arguments.port,
        default=default_port(),
        help="emulator port, 1-65535 (default: $LOCAL_AWS_PORT or 4566)",
    )


class ProgressLog:
    """Logs a running apply/destroy: resources done of total and the longest wait in flight,
    at most every few seconds (Terraform's own output is in the terraform log)."""

    def __init__(self, verb: str, every: float = PROGRESS_EVERY_SECONDS) -> None:
        self._verb = verb
        self._every = every
        self._last = time.monotonic()

    def __call__(self, progress: stack.ApplyProgress) -> None:
        now = time.monotonic()
        finished = progress.total is not None and progress.done >= progress.total
        if now - self._last < self._every and not finished:
            return
        self._last = now
        logger.info("%s", describe_progress(self._verb, progress))


def describe_progress(verb: str, progress: stack.ApplyProgress) -> str:
    wait = progress.longest_wait()
    if progress.total is None:
        reading = f"reading {wait[0]}" if wait is not None else ""
        refreshed = f"{progress.refreshed} resources refreshed" if progress.refreshed else ""
        details = "; ".join(part for part in (refreshed, reading) if part)
        return f"terraform {verb}: planning" + (f" ({details})" if details else "")
    text = f"terraform {verb}: {progress.done}/{progress.total} resources"
    if wait is not None:
        address, action, elapsed = wait
        others = len(progress.running) - 1
        text += f"; waiting on {address} ({action}, {elapsed}s)"
        if others:
            text += f" and {others} more"
    return text


def run(args: argparse.Namespace) -> int:
    paths = stack.StackPaths(state_dir=args.state_dir.resolve())
    if args.command == "up":
        try:
            outputs = stack.up(paths, args.port, on_progress=ProgressLog("apply"))
        except (stack.PortInUseError, stack.TerraformError, EmulatorError) as error:
            arguments.print_error(error)
            return 1
        endpoint = stack.running_endpoint(paths) or f"http://127.0.0.1:{args.port}"
        logger.info("stack is up on %s", endpoint)
        api_port = local_api_port({**os.environ, "LOCAL_AWS_PORT": str(args.port)})
        logger.info(
            "read API and live page (while `make run` runs): http://127.0.0.1:%d/", api_port
        )
        logger.info(
            "try: aws --endpoint-url %s dynamodb describe-table --table-name %s",
            endpoint,
            outputs["table_name"],
        )
        return 0
    try:
        stack.down(paths, on_progress=ProgressLog("destroy"))
    except stack.TerraformError as error:
        arguments.print_error(error)
        return 1
    logger.info("stack destroyed, emulator stopped, local state removed")
    return 0
