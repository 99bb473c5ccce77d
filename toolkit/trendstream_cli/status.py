"""`trendstream status`: counts and health of every resource of the deployed stack.

Each check reads one resource and says `ok`, `warn` (working, but look: records quarantined,
failed batches queued, a consumer falling behind, some invocations failed) or `fail` (not working:
missing, not active, alarm firing, every invocation failed). A function's invocations, errors,
throttles and dead-letter errors come from its `AWS/Lambda` metrics and its last error from its
log group, as the alarms see them: on AWS from Lambda itself, locally from the local runtime.
The command exits 1 when any check fails (with `--strict`, also on a warning), so it can gate
scripts and CI.

This module also resolves the stack every read-side command works on: the local stack's
Terraform outputs (and then the local emulator as the AWS endpoint), or a deployed stack's
`terraform output -json` file (and then whatever AWS the environment points at).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
)
from rich.console import Console
from rich.table import Table

from local_aws.stack_functions import FUNCTION_OUTPUT_SUFFIX, stack_functions
from trendstream_cli.outputs import StackOutputsError, add_stack_arguments, load_stack_outputs
from tweet_record.lake import LAKE_PREFIXES, TWEETS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_firehose import FirehoseClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

Health = Literal["ok", "warn", "fail"]

DEFAULT_SCAN_LIMIT = 10_000
"""Items a `Select=COUNT` scan reads at most: exact on a local table, bounded cost on a big one."""
ITERATOR_AGE_WINDOW = dt.timedelta(minutes=10)
ITERATOR_AGE_WARN_MS = 60_000
"""A consumer more than a minute behind the stream's tip is lagging."""

FUNCTION_WINDOW = dt.timedelta(minutes=15)
"""How far back a function's invocations and errors count: three runs of a five-minute schedule."""
FUNCTION_METRICS = ("Invocations", "Errors", "Throttles", "DeadLetterErrors")
LAST_ERROR_WIDTH = 200

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


class UnreachableError(RuntimeError):
    """AWS (or the emulator) cannot be reached at all: one error, not one per resource."""


@dataclass(frozen=True)
class Check:
    resource: str
    name: str
    health: Health
    detail: str


# ---------------------------------------------------------------------------------------------
# Checks, one resource each


def check_stream(
    kinesis: KinesisClient, cloudwatch: CloudWatchClient, stream_name: str, now: dt.datetime
) -> Check:
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    status = summary["StreamStatus"]
    shards = summary.get("OpenShardCount", 0)
    age_ms = iterator_age_ms(cloudwatch, stream_name, now)
    age = "iterator age n/a" if age_ms is None else f"iterator age {age_ms / 1000:.1f} s"
    detail = f"{status}, {shards} open shard(s), {age}"
    if status not in ("ACTIVE", "UPDATING"):
        return Check("kinesis stream", stream_name, "fail", detail)
    lagging = age_ms is not None and age_ms > ITERATOR_AGE_WARN_MS
    return Check("kinesis stream", stream_name, "warn" if lagging else "ok", detail)


def iterator_age_ms(
    cloudwatch: CloudWatchClient, stream_name: str, now: dt.datetime
) -> float | None:
    """The consumer's worst lag over the last minutes, from the stream's CloudWatch metric."""
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/Kinesis",
        MetricName="GetRecords.IteratorAgeMilliseconds",
        Dimensions=[{"Name": "StreamName", "Value": stream_name}],
        StartTime=now - ITERATOR_AGE_WINDOW,
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    )
    maxima = [point["Maximum"] for point in response.get("Datapoints", []) if "Maximum" in point]
    return max(maxima) if maxima else None


def check_table(dynamodb: DynamoDBClient, table_name: str, scan_limit: int) -> Check:
    """Item count from DescribeTable (refreshed ~6-hourly by AWS) and from a bounded scan."""
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    status = table["TableStatus"]
    counted, complete = count_items(dynamodb, table_name, scan_limit)
    scanned = f"{counted}" if complete else f">= {counted} (scan stopped at {scan_limit})"
    detail = f"{status}, {scanned} items (DescribeTable says {table.get('ItemCount', 0)})"
    return Check("dynamodb table", table_name, "ok" if status == "ACTIVE" else "fail", detail)


def count_items(dynamodb: DynamoDBClient, table_name: str, scan_limit: int) -> tuple[int, bool]:
    """Items counted by `Select=COUNT` scan pages until `scan_limit` items; (count, complete)."""
    counted = 0
    start_key: dict[str, Any] | None = None
    while counted < scan_limit:
        request: dict[str, Any] = {
            "TableName": table_name,
            "Select": "COUNT",
            "Limit": scan_limit - counted,
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        page = dynamodb.scan(**request)
        counted += page.get("Count", 0)
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return counted, True
    return counted, False


def check_lake(s3: S3Client, bucket: str) -> list[Check]:
    """Objects and bytes per lake area; anything under errors/ or quarantine/ deserves a look.

    A full listing: one LIST request per 1,000 objects, cheap at the lake's object sizes.
    """
    checks = []
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in LAKE_PREFIXES:
        objects = size = 0
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                objects += 1
                size += item.get("Size", 0)
        health: Health = "warn" if prefix != TWEETS_PREFIX and objects else "ok"
        detail = f"{objects} object{'' if objects == 1 else 's'}, {_human_bytes(size)}"
        checks.append(Check("s3 lake", f"s3://{bucket}/{prefix}", health, detail))
    return checks


def check_queue(
    sqs: SQSClient,
    queue_url: str,
    resource: str = "on-failure queue",
    what: str = "failed batch record(s)",
) -> Check:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    visible = int(attributes.get("ApproximateNumberOfMessages", "0"))
    in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0"))
    detail = f"{visible} {what} waiting, {in_flight} in flight"
    name = queue_url.rsplit("/", 1)[-1]
    return Check(resource, name, "warn" if visible + in_flight else "ok", detail)


def check_event_source_mapping(
    lambda_client: LambdaClient, function_name: str, stream_arn: str
) -> Check:
    mappings = lambda_client.list_event_source_mappings(
        FunctionName=function_name, EventSourceArn=stream_arn
    ).get("EventSourceMappings", [])
    if not mappings:
        return Check("event source mapping", function_name, "fail", "no mapping from the stream")
    mapping = mappings[0]
    state = mapping.get("State", "unknown")
    last_result = mapping.get("LastProcessingResult", "")
    detail = f"{state}, batch size {mapping.get('BatchSize', '?')}"
    if last_result:
        detail += f", last result: {last_result}"
    health: Health = "ok"
    if state in ("Disabled", "Disabling", "Deleting"):
        health = "fail"
    elif state != "Enabled" or last_result.startswith("PROBLEM"):
        health = "warn"
    return Check("event source mapping", f"{function_name} <- stream", health, detail)


def check_function(
    lambda_client: LambdaClient,
    function_name: str,
    cloudwatch: CloudWatchClient | None = None,
    logs: CloudWatchLogsClient | None = None,
    now: dt.datetime | None = None,
) -> Check:
    """The function's state, and with `cloudwatch` what it did lately (errors warn; a window in
    which every invocation failed fails), with its last error from `logs`."""
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    state = configuration.get("State", "Active")
    update = configuration.get("LastUpdateStatus", "Successful")
    detail = f"{state}, last update {update}, {configuration.get('Runtime', '?')}"
    health: Health = "ok"
    if state == "Failed" or update == "Failed":
        health = "fail"
    elif state != "Active":
        health = "warn"
    if cloudwatch is None:
        return Check("lambda function", function_name, health, detail)
    now = now or dt.datetime.now(dt.UTC)
    sums = function_metrics(cloudwatch, function_name, now)
    invocations, errors = sums["Invocations"], sums["Errors"]
    throttles, dead_letter_errors = sums["Throttles"], sums["DeadLetterErrors"]
    minutes = int(FUNCTION_WINDOW.total_seconds() // 60)
    detail += (
        f"; last {minutes} min: {invocations} invocations, {errors} errors, {throttles} throttles"
    )
    if dead_letter_errors:
        detail += f", {dead_letter_errors} dead-letter errors"
    if errors or dead_letter_errors:
        last = last_error(logs, function_name, now) if logs is not None else None
        if last:
            detail += f"; last error: {last}"
    if health != "fail" and (errors or throttles or dead_letter_errors):
        failed_every_time = invocations > 0 and errors >= invocations
        health = "fail" if failed_every_time or dead_letter_errors else "warn"
    return Check("lambda function", function_name, health, detail)


def function_metrics(
    cloudwatch: CloudWatchClient, function_name: str, now: dt.datetime
) -> dict[str, int]:
    """Sums of the function's AWS/Lambda metrics the alarms watch, over `FUNCTION_WINDOW`."""
    sums: dict[str, int] = {}
    for metric in FUNCTION_METRICS:
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function_name}],
            StartTime=now - FUNCTION_WINDOW,
            EndTime=now,
            Period=60,
            Statistics=["Sum"],
        )
        sums[metric] = int(sum(point.get("Sum", 0) for point in response.get("Datapoints", [])))
    return sums


def last_error(logs: CloudWatchLogsClient, function_name: str, now: dt.datetime) -> str | None:
    """The newest `ERROR` line of the function's log group within `FUNCTION_WINDOW`."""
    try:
        events = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{function_name}",
            filterPattern="ERROR",
            startTime=int((now - FUNCTION_WINDOW).timestamp() * 1000),
            endTime=int(now.timestamp() * 1000) + 1,
        ).get("events", [])
    except logs.exceptions.ResourceNotFoundException:
        return None
    except ClientError as error:
        return f"(its log group cannot be read: {error.response.get('Error', {}).get('Code')})"
    if not events:
        return None
    newest = max(events, key=lambda event: event.get("timestamp", 0))
    line = " ".join(str(newest.get("message", "")).split())
    return line if len(line) <= LAST_ERROR_WIDTH else line[: LAST_ERROR_WIDTH - 1] + "…"


def check_delivery_stream(firehose: FirehoseClient, name: str) -> Check:
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    status = description["DeliveryStreamStatus"]
    failure = description.get("FailureDescription", {}).get("Details", "")
    detail = status + (f": {failure}" if failure else "")
    return Check("firehose", name, "ok" if status == "ACTIVE" else "fail", detail)


def check_query_path(
    glue: GlueClient, athena: AthenaClient, database: str, table: str, workgroup: str
) -> Check:
    """The Glue table `query` reads and the workgroup holding the named queries."""
    columns = (
        glue.get_table(DatabaseName=database, Name=table)["Table"]
        .get("StorageDescriptor", {})
        .get("Columns", [])
    )
    state = athena.get_work_group(WorkGroup=workgroup)["WorkGroup"].get("State", "ENABLED")
    named = len(athena.list_named_queries(WorkGroup=workgroup).get("NamedQueryIds", []))
    detail = (
        f"table {database}.{table}: {len(columns)} columns; "
        f"workgroup {state}, {named} named queries"
    )
    return Check("athena", workgroup, "ok" if state == "ENABLED" else "fail", detail)


def check_alarms(cloudwatch: CloudWatchClient, topic_arn: str) -> list[Check]:
    """The alarms that notify the stack's topic; one firing makes the stack unhealthy."""
    checks = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate():
        for alarm in page.get("MetricAlarms", []):
            if topic_arn not in alarm.get("AlarmActions", []):
                continue
            state = alarm["StateValue"]
            health: Health = "fail" if state == "ALARM" else "ok"
            # INSUFFICIENT_DATA is how every alarm starts, and stays until its metric has data.
            detail = state if state == "OK" else f"{state}: {alarm.get('StateReason', '')}"
            checks.append(Check("alarm", alarm["AlarmName"], health, detail))
    if not checks:
        checks.append(Check("alarm", topic_arn, "warn", "no alarm notifies the alarm topic"))
    return checks


def collect_status(
    outputs: Mapping[str, Any],
    *,
    session: boto3.session.Session | None = None,
    scan_limit: int = DEFAULT_SCAN_LIMIT,
    now: dt.datetime | None = None,
) -> list[Check]:
    """Run every check the outputs allow; a check that errors becomes a `fail` row, not a crash."""
    session = session or boto3.session.Session()
    now = now or dt.datetime.now(dt.UTC)
    checks: list[Check] = []

    def attempt(resource: str, keys: tuple[str, ...], probe: Callable[..., Any]) -> None:
        missing = [key for key in keys if not outputs.get(key)]
        if missing:
            checks.append(Check(resource, "-", "warn", f"not in the outputs: {', '.join(missing)}"))
            return
        values = [outputs[key] for key in keys]
        try:
            result = probe(*values)
        except (EndpointConnectionError, ConnectionClosedError) as error:
            raise UnreachableError(str(error)) from error
        except (ClientError, BotoCoreError) as error:
            name = str(values[-1] if resource == "athena" else values[0])
            checks.append(Check(resource, name, "fail", _error_text(error)))
            return
        checks.extend(result if isinstance(result, list) else [result])

    attempt(
        "kinesis stream",
        ("stream_name",),
        lambda name: check_stream(
            session.client("kinesis"), session.client("cloudwatch"), name, now
        ),
    )
    attempt(
        "dynamodb table",
        ("table_name",),
        lambda name: check_table(session.client("dynamodb"), name, scan_limit),
    )
    attempt("s3 lake", ("lake_bucket",), lambda bucket: check_lake(session.client("s3"), bucket))
    functions = stack_functions(outputs)
    if not functions:
        checks.append(
            Check("lambda function", "-", "warn", f"no *{FUNCTION_OUTPUT_SUFFIX} in the outputs")
        )
    for function in functions:
        attempt(
            "lambda function",
            (function.output,),
            lambda name: check_function(
                session.client("lambda"),
                name,
                session.client("cloudwatch"),
                session.client("logs"),
                now,
            ),
        )
    attempt(
        "event source mapping",
        ("consumer_function_name", "stream_arn"),
        lambda name, arn: check_event_source_mapping(session.client("lambda"), name, arn),
    )
    attempt(
        "firehose",
        ("delivery_stream_name",),
        lambda name: check_delivery_stream(session.client("firehose"), name),
    )
    attempt(
        "athena",
        ("glue_database", "glue_table", "athena_workgroup"),
        lambda database, table, workgroup: check_query_path(
            session.client("glue"), session.client("athena"), database, table, workgroup
        ),
    )
    attempt(
        "on-failure queue",
        ("on_failure_queue_url",),
        lambda url: check_queue(session.client("sqs"), url),
    )
    if outputs.get("producer_dead_letter_queue_url"):
        attempt(
            "dead-letter queue",
            ("producer_dead_letter_queue_url",),
            lambda url: check_queue(
                session.client("sqs"), url, "dead-letter queue", "failed producer event(s)"
            ),
        )
    attempt(
        "alarm",
        ("alarm_topic_arn",),
        lambda arn: check_alarms(session.client("cloudwatch"), arn),
    )
    return checks


def _error_text(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}".rstrip(": ")
    return str(error)


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def is_healthy(checks: list[Check], *, strict: bool = False) -> bool:
    bad: set[Health] = {"fail", "warn"} if strict else {"fail"}
    return not any(check.health in bad for check in checks)


# ---------------------------------------------------------------------------------------------
# Command

_STYLE: dict[Health, str] = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def render(checks: list[Check], output_format: str, stream: TextIO) -> None:
    if output_format == "json":
        json.dump([asdict(check) for check in checks], stream, indent=2)
        stream.write("\n")
        return
    table = Table(title="trendstream status")
    for column in ("resource", "name", "health", "detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        health = f"[{_STYLE[check.health]}]{check.health}[/]"
        table.add_row(check.resource, check.name, health, check.detail)
    Console(file=stream).print(table)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--scan-limit",
        type=int,
        default=DEFAULT_SCAN_LIMIT,
        metavar="N",
        help="count at most N table items by scan (read cost grows with N; default %(default)s)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit non-zero on warnings as well as failures"
    )
    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        outputs = load_stack_outputs(args)
    except StackOutputsError as error:
        Console(stderr=True).print(
            f"[red]cannot read the stack outputs:[/red] {error}", highlight=False, soft_wrap=True
        )
        return EXIT_UNHEALTHY
    try:
        checks = collect_status(outputs, scan_limit=args.scan_limit)
    except UnreachableError as error:
        Console(stderr=True).print(
            f"[red]cannot reach the stack's AWS endpoint:[/red] {error}",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_UNHEALTHY
    render(checks, args.format, sys.stdout)
    return EXIT_HEALTHY if is_healthy(checks, strict=args.strict) else EXIT_UNHEALTHY
