"""`trendstream verify` (`make verify`): prove a deployed stack end to end, locally or on AWS.

Puts marked synthetic tweets on the stream and waits until the table, the quarantine, the lake
and a named Athena query show what the pipeline made of them, then removes its items from the
table (the logic is in `trendstream_cli.verification`). Exits 1 naming the stage that failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import boto3
from rich.console import Console
from rich.live import Live
from rich.table import Table

from trendstream_cli import stack, verification
from trendstream_cli.verification import Report, Stage, StageName, Status
from tweet_record.lake import TWEETS_PREFIX

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1

_STYLE: dict[Status, str] = {
    "pending": "dim",
    "waiting": "yellow",
    "ok": "green",
    "failed": "bold red",
    "skipped": "dim",
}
_WHAT: dict[StageName, str] = {
    "stack": "outputs, delivery stream, named query",
    "put": "PutRecords on the stream",
    "table": "each tweet once + minute stats",
    "quarantine": "poison record quarantined",
    "lake": f"a row per tweet under {TWEETS_PREFIX}",
    "query": "named query sees the topics",
    "cleanup": "synthetic items deleted",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the local stack's state directory (default: the one `trendstream up` uses); "
        "with --terraform, the stack verified when none is deployed for the environment",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--outputs",
        type=Path,
        default=None,
        metavar="FILE",
        help="`terraform output -json` of a deployed stack, reached with the default credential "
        "chain (in the stack's `region` output, else the default region)",
    )
    source.add_argument(
        "--terraform",
        action="store_true",
        help="read the outputs with `terraform output -json` in terraform/ (the state "
        "`make deploy` used; backend and workspace as the environment says)",
    )
    parser.add_argument(
        "--table-timeout",
        type=_seconds,
        default=verification.DEFAULT_TABLE_SECONDS,
        metavar="S",
        help="seconds the consumer has to write the table and quarantine (default %(default).0f)",
    )
    parser.add_argument(
        "--lake-timeout",
        type=_seconds,
        default=None,
        metavar="S",
        help="seconds Firehose has to write the lake (default: 1.5 x the delivery stream's "
        f"processor + destination buffering intervals + {verification.LAKE_MARGIN_SECONDS:.0f})",
    )
    parser.add_argument(
        "--query-timeout",
        type=_seconds,
        default=verification.DEFAULT_QUERY_SECONDS,
        metavar="S",
        help="seconds the named query has to see the tweets once the lake holds them "
        "(default %(default).0f)",
    )
    parser.add_argument(
        "--poll-interval",
        type=_seconds,
        default=verification.DEFAULT_POLL_SECONDS,
        metavar="S",
        help="seconds between two looks at the stack (default %(default).0f)",
    )
    parser.add_argument(
        "--named-query",
        default=verification.DEFAULT_NAMED_QUERY,
        metavar="NAME",
        help="the workgroup's named query that must see the tweets (default %(default)s)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "athena", "duckdb"),
        default="auto",
        help="run the named query on Athena or locally through DuckDB (default: DuckDB for "
        "the emulator, Athena otherwise)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the synthetic items in the table"
    )


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def resolve_target(args: argparse.Namespace, errors: Console) -> verification.Target:
    if args.outputs is not None:
        return verification.outputs_file_target(args.outputs)
    local_state_dir = (args.state_dir or stack.default_state_dir()).resolve()
    if args.terraform:
        try:
            return verification.terraform_target()
        except verification.NoDeploymentError as error:
            # Nothing deployed for ENV: the local stack, when `make up` left one, is the only
            # stack there is, and the one a user who just ran `make up` means.
            if stack.running_endpoint(stack.StackPaths(state_dir=local_state_dir)) is None:
                raise
            errors.print(
                f"verify: no stack is deployed for ENV={error.environment}; verifying the local "
                "stack `make up` started (`make verify ENV=local` names it)",
                highlight=False,
                soft_wrap=True,
            )
    return verification.local_target(local_state_dir)


def stage_table(report: Report, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("stage")
    table.add_column("checks")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for stage in report.stages:
        table.add_row(
            stage.name,
            _WHAT[stage.name],
            f"[{_STYLE[stage.status]}]{stage.status}[/]",
            _timing(stage),
            stage.detail,
        )
    return table


def _timing(stage: Stage) -> str:
    if stage.seconds is None:
        return ""
    if stage.status == "waiting" and stage.deadline is not None:
        return f"{stage.seconds:.0f} / {stage.deadline:.0f} s"
    return f"{stage.seconds:.1f} s"


def run(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    try:
        target = resolve_target(args, errors)
    except verification.NoDeploymentError as error:
        errors.print(f"verify: {error}", highlight=False, soft_wrap=True, markup=False)
        return EXIT_FAILED
    except verification.TargetError as error:
        errors.print(
            f'[red]verify: FAILED at stage "stack":[/red] {error}', highlight=False, soft_wrap=True
        )
        return EXIT_FAILED
    # The other read-side commands reach the emulator the same way: its standard variables.
    os.environ.update(target.environment)
    options = verification.Options(
        table_seconds=args.table_timeout,
        lake_seconds=args.lake_timeout,
        query_seconds=args.query_timeout,
        poll_seconds=args.poll_interval,
        named_query=args.named_query,
        engine=verification.choose_engine(target, args.engine),
        keep=args.keep,
    )
    title = f"trendstream verify: {target.description}"
    shown: dict[str, Status] = {}
    with Live(console=errors, auto_refresh=False, transient=True) as live:

        def show(report: Report, elapsed: float) -> None:
            live.update(stage_table(report, f"{title} ({elapsed:.0f} s)"), refresh=True)
            if not errors.is_terminal:
                # No live table in a log: one line per stage as it finishes.
                for stage in report.stages:
                    if stage.status in ("ok", "failed") and shown.get(stage.name) != stage.status:
                        shown[stage.name] = stage.status
                        logger.info(
                            "%s %s %s: %s", stage.name, stage.status, _timing(stage), stage.detail
                        )

        session = boto3.session.Session(region_name=target.region)
        verifier = verification.Verifier(target, options, session, on_change=show)
        report = verifier.run()
    console = Console(file=sys.stdout)
    if report.run_id:
        console.print(
            f"run {report.run_id}: synthetic topics {', '.join(report.topics)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(stage_table(report, title))
    if report.ok:
        console.print(f"[green]{verification.failure_message(report)}[/green]", highlight=False)
        return EXIT_OK
    errors.print(
        f"[bold red]{verification.failure_message(report)}[/bold red]",
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_FAILED
