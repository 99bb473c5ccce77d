"""One verification: the stages in order, the waiting stages polled together to deadlines."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local_aws.stack_functions import stack_functions
from trendstream_cli import query
from trendstream_cli.outputs import key_parts_of
from trendstream_cli.verification.batch import Batch, make_batch
from trendstream_cli.verification.checks import (
    CheckFailedError,
    FirehoseBuffering,
    LakeCheck,
    Observation,
    QuarantineCheck,
    SyntheticPut,
    check_table,
    delete_topics,
    firehose_buffering,
    put_batch,
)
from trendstream_cli.verification.named_query import (
    AthenaEngine,
    DuckDbEngine,
    QueryCheck,
    QueryEngine,
    QueryEngineName,
)
from trendstream_cli.verification.target import Target

StageName = Literal["stack", "put", "table", "quarantine", "lake", "query", "cleanup"]
STAGES: tuple[StageName, ...] = ("stack", "put", "table", "quarantine", "lake", "query", "cleanup")
Status = Literal["pending", "waiting", "ok", "failed", "skipped"]

REQUIRED_OUTPUTS = (
    "stream_name",
    "table_name",
    "lake_bucket",
    "delivery_stream_name",
    "athena_workgroup",
    "glue_database",
    "glue_table",
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
DEFAULT_NAMED_QUERY = "top-topics-last-hour"
DEFAULT_TABLE_SECONDS = 120.0
DEFAULT_QUERY_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Options:
    table_seconds: float = DEFAULT_TABLE_SECONDS
    """Deadline of the table and the quarantine (the consumer), from the put."""
    lake_seconds: float | None = None
    """Deadline of the lake, from the put; None: derived from the delivery stream."""
    query_seconds: float = DEFAULT_QUERY_SECONDS
    """Deadline of the query, from when the lake holds every line."""
    poll_seconds: float = DEFAULT_POLL_SECONDS
    named_query: str = DEFAULT_NAMED_QUERY
    engine: QueryEngineName = "athena"
    keep: bool = False
    """Leave the synthetic items in the table (to look at them)."""


@dataclass
class Stage:
    name: StageName
    status: Status = "pending"
    detail: str = ""
    seconds: float | None = None
    """How long the stage took (waiting stages: from the put until done)."""
    deadline: float | None = None


@dataclass
class Report:
    target: str
    run_id: str = ""
    topics: tuple[str, ...] = ()
    stages: list[Stage] = field(default_factory=lambda: [Stage(name) for name in STAGES])
    query_sql: str = ""
    seconds: float = 0.0

    def stage(self, name: StageName) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    @property
    def failure(self) -> Stage | None:
        return next((stage for stage in self.stages if stage.status == "failed"), None)

    @property
    def ok(self) -> bool:
        return self.failure is None


def failure_message(report: Report) -> str:
    """`verify: FAILED at stage "table": 2 of 5 tweets missing after 120 s` (or the success)."""
    failed = report.failure
    if failed is None:
        return (
            f"verify: OK in {report.seconds:.0f} s: {report.target} works end to end "
            f"(run {report.run_id})"
        )
    return f'verify: FAILED at stage "{failed.name}": {failed.detail}'


class Verifier:
    """One verification of one stack; `run()` always returns a report, never raises for a
    failing stack (only for a programming error)."""

    def __init__(
        self,
        target: Target,
        options: Options,
        session: boto3.session.Session,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_change: Callable[[Report, float], None] | None = None,
        run_id: str | None = None,
    ) -> None:
        self._outputs = target.outputs
        self._key_parts = key_parts_of(target.outputs)
        self._options = options
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._on_change = on_change or (lambda _report, _elapsed: None)
        self._run_id = run_id
        self.report = Report(target=target.description)
        self._buffering = FirehoseBuffering(0.0, 0.0)
        self._started = clock()

    def run(self) -> Report:
        named = self._stage("stack", self._check_stack)
        if named is None:
            return self._finish()
        batch = make_batch(self._now(), self._run_id)
        self.report.run_id, self.report.topics = batch.run_id, batch.topics
        put_at = self._now()
        results = self._stage("put", lambda: self._put(batch))
        if results is not None:
            try:
                self._wait(batch, results, named, put_at)
            except KeyboardInterrupt:
                # Ctrl-C while waiting still removes what was written.
                self._interrupted()
        if self._options.keep:
            self._skip("cleanup", "kept (--keep): the synthetic items stay in the table")
        else:
            self._stage("cleanup", lambda: self._cleanup(batch))
        return self._finish()

    # -- stages that run once --------------------------------------------------------------

    def _stage(self, name: StageName, action: Callable[[], tuple[Any, str]]) -> Any:
        stage = self.report.stage(name)
        stage.status = "waiting"
        self._notify()
        started = self._clock()
        try:
            value, stage.detail = action()
        except CheckFailedError as error:
            stage.status, stage.detail = "failed", str(error)
            value = None
        except (ClientError, BotoCoreError) as error:
            stage.status, stage.detail = "failed", _error_text(error)
            value = None
        else:
            stage.status = "ok"
        stage.seconds = self._clock() - started
        self._notify()
        return value

    def _check_stack(self) -> tuple[query.NamedQuery, str]:
        missing = [key for key in REQUIRED_OUTPUTS if not self._outputs.get(key)]
        if missing:
            raise CheckFailedError(f"the Terraform outputs lack {', '.join(missing)}")
        functions = stack_functions(self._outputs)
        lambda_client = self._session.client("lambda")
        for function in functions:
            configuration = lambda_client.get_function_configuration(FunctionName=function.name)
            state = configuration.get("State", "Active")
            if state != "Active":
                raise CheckFailedError(f"the {function.role} function {function.name} is {state}")
        buffering = self._buffering = firehose_buffering(
            self._session.client("firehose"), str(self._outputs["delivery_stream_name"])
        )
        lake_seconds = self._options.lake_seconds
        derived = lake_seconds is None
        if lake_seconds is None:
            lake_seconds = buffering.lake_deadline()
        self._options = replace(self._options, lake_seconds=lake_seconds)
        try:
            named_queries = query.list_named_queries(
                self._session.client("athena"), str(self._outputs["athena_workgroup"])
            )
            named = query.resolve_query(self._options.named_query, named_queries)
        except query.QueryError as error:
            raise CheckFailedError(str(error)) from error
        if named is None:
            raise CheckFailedError(f"no named query {self._options.named_query!r} in the workgroup")
        how = (
            f"Firehose buffers {buffering.processor_seconds:.0f} s + "
            f"{buffering.destination_seconds:.0f} s"
            if derived
            else "set by option"
        )
        return named, (
            f"stream {self._outputs['stream_name']}, table {self._outputs['table_name']}, "
            f"bucket {self._outputs['lake_bucket']}; lake deadline {lake_seconds:.0f} s ({how}); "
            f"{len(functions)} functions Active"
        )

    def _put(self, batch: Batch) -> tuple[list[SyntheticPut], str]:
        results = put_batch(
            self._session.client("kinesis"), str(self._outputs["stream_name"]), batch, self._sleep
        )
        shards = len({result.shard_id for result in results})
        return results, (
            f"{len(results)} records on {shards} shard(s): {len(batch.tweets)} tweets under "
            f"{len(batch.topics)} topics, 1 duplicate, 1 poison"
        )

    def _cleanup(self, batch: Batch) -> tuple[None, str]:
        deleted = delete_topics(
            self._session.client("dynamodb"),
            str(self._outputs["table_name"]),
            batch.topics,
            key_parts=self._key_parts,
        )
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(deleted.items())) or "none"
        return None, (
            f"deleted {sum(deleted.values())} items of the synthetic topics ({kinds}); "
            "the lake and quarantine keep their copies"
        )

    # -- stages that wait --------------------------------------------------------------------

    def _wait(
        self,
        batch: Batch,
        results: list[SyntheticPut],
        named: query.NamedQuery,
        put_at: dt.datetime,
    ) -> None:
        s3 = self._session.client("s3")
        bucket = str(self._outputs["lake_bucket"])
        dynamodb = self._session.client("dynamodb")
        table_name = str(self._outputs["table_name"])
        poison = next(result for result in results if result.partition_key == batch.poison_key)
        engine: QueryEngine = (
            DuckDbEngine(self._outputs, self._session)
            if self._options.engine == "duckdb"
            else AthenaEngine(
                self._session.client("athena"),
                str(self._outputs["glue_database"]),
                str(self._outputs["athena_workgroup"]),
            )
        )
        try:
            query_check = QueryCheck(engine, named, batch)
        except CheckFailedError as error:
            self._fail("query", str(error), 0.0)
            self._skip_rest()
            return
        self.report.query_sql = query_check.sql
        checks: dict[StageName, Callable[[dt.datetime], Observation]] = {
            "table": lambda _now: check_table(dynamodb, table_name, batch, self._key_parts),
            "quarantine": QuarantineCheck(s3, bucket, batch, poison, put_at),
            "lake": LakeCheck(s3, bucket, batch, put_at, self._buffering.longest),
            "query": query_check,
        }
        assert self._options.lake_seconds is not None  # noqa: S101 - set by the stack stage
        deadlines: dict[StageName, float] = {
            "table": self._options.table_seconds,
            "quarantine": self._options.table_seconds,
            "lake": self._options.lake_seconds,
            "query": self._options.query_seconds,
        }
        waiting_since = self._clock()
        starts: dict[StageName, float] = dict.fromkeys(("table", "quarantine", "lake"), 0.0)
        for name in checks:
            self.report.stage(name).deadline = deadlines[name]
            self.report.stage(name).status = "waiting" if name in starts else "pending"
        while True:
            for name, check in checks.items():
                stage = self.report.stage(name)
                if stage.status != "waiting":
                    continue
                elapsed = self._clock() - waiting_since
                status = self._poll(stage, check, elapsed - starts[name], deadlines[name])
                if status == "failed":
                    self._skip_rest()
                    self._notify()
                    return
                if name == "lake" and status == "ok":
                    starts["query"] = self._clock() - waiting_since
                    self.report.stage("query").status = "waiting"
            self._notify()
            if all(self.report.stage(name).status == "ok" for name in checks):
                break
            self._sleep(self._options.poll_seconds)
        self._recheck_table(dynamodb, table_name, batch)

    def _poll(
        self,
        stage: Stage,
        check: Callable[[dt.datetime], Observation],
        elapsed: float,
        deadline: float,
    ) -> Status:
        """One look at one stage: its status afterwards."""
        stage.seconds = elapsed
        try:
            observation = check(self._now())
        except CheckFailedError as error:
            self._fail(stage.name, str(error), elapsed)
            return "failed"
        except (ClientError, BotoCoreError) as error:
            self._fail(stage.name, _error_text(error), elapsed)
            return "failed"
        stage.detail = observation.detail
        if observation.done:
            stage.status, stage.seconds = "ok", elapsed
            return "ok"
        if elapsed >= deadline:
            self._fail(stage.name, f"{observation.shortfall} after {deadline:.0f} s", elapsed)
            return "failed"
        return "waiting"

    def _recheck_table(self, dynamodb: DynamoDBClient, table_name: str, batch: Batch) -> None:
        """The duplicate may arrive after the first count looked right: look once more."""
        stage = self.report.stage("table")
        try:
            observation = check_table(dynamodb, table_name, batch, self._key_parts)
        except CheckFailedError as error:
            stage.status, stage.detail = "failed", f"{error} (when checked again at the end)"
            return
        if not observation.done:
            stage.status = "failed"
            stage.detail = f"{observation.shortfall} when checked again at the end"

    def _interrupted(self) -> None:
        waiting = next(stage for stage in self.report.stages if stage.status == "waiting")
        waiting.status = "failed"
        waiting.detail = f"interrupted after {waiting.seconds or 0.0:.0f} s"
        self._skip_rest()

    def _fail(self, name: StageName, reason: str, elapsed: float) -> None:
        stage = self.report.stage(name)
        stage.status, stage.detail, stage.seconds = "failed", reason, elapsed

    def _skip(self, name: StageName, reason: str) -> None:
        stage = self.report.stage(name)
        stage.status, stage.detail = "skipped", reason
        self._notify()

    def _skip_rest(self) -> None:
        for stage in self.report.stages:
            if stage.name != "cleanup" and stage.status in ("pending", "waiting"):
                stage.status, stage.detail = "skipped", "not checked: an earlier stage failed"
                stage.seconds = None

    def _finish(self) -> Report:
        for stage in self.report.stages:
            if stage.status == "pending":
                stage.status, stage.detail = "skipped", "not reached"
        self.report.seconds = self._clock() - self._started
        self._notify()
        return self.report

    def _notify(self) -> None:
        self._on_change(self.report, self._clock() - self._started)


def _error_text(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        operation = error.operation_name
        return f"{operation}: {details.get('Code', 'error')}: {details.get('Message', '')}"
    return str(error)
