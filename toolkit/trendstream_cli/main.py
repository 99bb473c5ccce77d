"""`trendstream`: run the local stack (up, run, demo, down), look into it, prove it works.

Each command lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`. A
module is imported only when its command runs: `trendstream plan` pays for neither boto3 nor DuckDB.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Protocol, cast

COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("trendstream_cli.lifecycle", "start the local emulator and terraform apply the stack"),
    "down": ("trendstream_cli.lifecycle", "destroy the local stack and stop the emulator"),
    "run": (
        "trendstream_cli.run",
        "run the local runtime (schedule, event source mapping, Firehose)",
    ),
    "demo": ("trendstream_cli.demo", "the whole pipeline locally, bounded, then a summary"),
    "status": ("trendstream_cli.status", "counts and health per resource"),
    "query": ("trendstream_cli.query", "run an Athena named query or SQL over the lake"),
    "tail": ("trendstream_cli.tail", "the latest tweets per topic from DynamoDB"),
    "plan": ("trendstream_cli.plan", "capacity and monthly cost for a tweet rate"),
    "verify": (
        "trendstream_cli.verify",
        "prove a deployed stack end to end with marked synthetic tweets",
    ),
}


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def load(command: str) -> CommandModule:
    return cast(CommandModule, importlib.import_module(COMMANDS[command][0]))


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trendstream", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((word for word in argv if word in COMMANDS), None)
    for name, (_, summary) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=summary, description=summary)
        if name == chosen:
            load(name).add_arguments(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    command = load(args.command)
    try:
        code = command.run(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (`| head`) left: send what is still buffered nowhere, as the Python docs
        # advise for SIGPIPE, so the interpreter's final flush does not fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
