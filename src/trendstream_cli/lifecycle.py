"""`trendstream up` / `trendstream down`: the local stack's whole life cycle in two commands."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from local_aws.apigateway import local_api_port
from trendstream_cli import stack

log = logging.getLogger(__name__)

DEFAULT_PORT = 4566


def default_port() -> int:
    return int(os.environ.get("LOCAL_AWS_PORT", DEFAULT_PORT))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=stack.default_state_dir(),
        help="where the emulator PID, logs, Terraform state and outputs live (default: .local/)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default_port(),
        help="emulator port (default: $LOCAL_AWS_PORT or 4566)",
    )


def run(args: argparse.Namespace) -> int:
    paths = stack.StackPaths(state_dir=args.state_dir.resolve())
    if args.command == "up":
        outputs = stack.up(paths, args.port)
        endpoint = stack.running_endpoint(paths) or f"http://127.0.0.1:{args.port}"
        log.info("stack is up on %s", endpoint)
        api_port = local_api_port({**os.environ, "LOCAL_AWS_PORT": str(args.port)})
        log.info("read API and live page (while `make run` runs): http://127.0.0.1:%d/", api_port)
        log.info(
            "try: aws --endpoint-url %s dynamodb describe-table --table-name %s",
            endpoint,
            outputs["table_name"],
        )
        return 0
    stack.down(paths)
    log.info("stack destroyed, emulator stopped, local state removed")
    return 0
