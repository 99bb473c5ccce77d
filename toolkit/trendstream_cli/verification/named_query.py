"""The named query, scoped to the synthetic topics, run on Athena or (locally) DuckDB."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import boto3
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from trendstream_cli import query
from trendstream_cli.verification.batch import Batch
from trendstream_cli.verification.checks import CheckFailedError, Observation
from trendstream_cli.verification.target import Target

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

QueryEngineName = Literal["athena", "duckdb"]
ATHENA_DIALECT = "athena"
"""sqlglot's name for Athena's SQL (Trino for queries)."""
QUERY_HOURS = 2
"""Lake partitions the local query reads: the tweets arrived within the last hour or two."""


class QueryEngine(Protocol):
    name: str

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        """The rows of `sql`, or None while it is still running."""


class AthenaEngine:
    """Athena in the stack's workgroup (which sets the result location and its encryption)."""

    name = "Athena"

    def __init__(self, athena: AthenaClient, database: str, workgroup: str) -> None:
        self._athena = athena
        self._database = database
        self._workgroup = workgroup
        self._execution: str | None = None

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        if self._execution is None:
            self._execution = self._athena.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self._database},
                WorkGroup=self._workgroup,
            )["QueryExecutionId"]
            return None
        status = self._athena.get_query_execution(QueryExecutionId=self._execution)[
            "QueryExecution"
        ]["Status"]
        state = status["State"]
        if state in ("QUEUED", "RUNNING"):
            return None
        execution, self._execution = self._execution, None
        if state != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise CheckFailedError(f"Athena query {execution} {state}: {reason}")
        return self._rows(execution)

    def _rows(self, execution: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: list[str] = []
        paginator = self._athena.get_paginator("get_query_results")
        for page in paginator.paginate(QueryExecutionId=execution):
            result_set = page["ResultSet"]
            if not columns:
                columns = [
                    column["Name"] for column in result_set["ResultSetMetadata"]["ColumnInfo"]
                ]
            for row in result_set.get("Rows", []):
                values = [datum.get("VarCharValue") for datum in row.get("Data", [])]
                if not rows and values == columns:
                    continue  # the header row Athena puts first in a SELECT's results
                rows.append(dict(zip(columns, values, strict=False)))
        return rows


class DuckDbEngine:
    """What `trendstream query` does: the lake copied from S3, the SQL run by DuckDB."""

    name = "DuckDB"

    def __init__(self, outputs: Mapping[str, Any], session: boto3.session.Session) -> None:
        self._outputs = outputs
        self._session = session

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        try:
            result = query.run_query(self._outputs, sql, session=self._session, hours=QUERY_HOURS)
        except (query.QueryError, query.StackError) as error:
            raise CheckFailedError(str(error)) from error
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def scoped_to_topics(sql: str, topics: Sequence[str]) -> str:
    """The named query with `topic IN (…)` added to its WHERE, so other topics cannot crowd
    the synthetic ones out of its LIMIT."""
    try:
        tree = sqlglot.parse_one(sql, read=ATHENA_DIALECT)
    except SqlglotError as error:
        raise CheckFailedError(f"cannot read the named query's SQL: {error}") from error
    if not isinstance(tree, exp.Select):
        raise CheckFailedError("the named query is not a single SELECT")
    condition = exp.column("topic").isin(*(exp.Literal.string(topic) for topic in topics))
    return tree.where(condition).sql(dialect=ATHENA_DIALECT)


class QueryCheck:
    """The named query returns a row for each synthetic topic, counting at least its tweets."""

    def __init__(self, engine: QueryEngine, named: query.NamedQuery, batch: Batch) -> None:
        self._engine = engine
        self._named = named
        self._expected = batch.tweets_per_topic()
        self.sql = scoped_to_topics(named.sql, batch.topics)
        self._last = "not run yet"

    def __call__(self, now: dt.datetime) -> Observation:
        rows = self._engine.poll(self.sql)
        label = f"named query {self._named.name!r} on {self._engine.name}"
        if rows is None:
            return Observation(False, f"{label}: running", f"{label}: {self._last}")
        if rows and "topic" not in rows[0]:
            raise CheckFailedError(f"{label} returns no `topic` column")
        counts = {str(row["topic"]): row.get("tweets") for row in rows}
        seen = [topic for topic in self._expected if topic in counts]
        short = [
            f"{topic}: {counts[topic]} of {wanted}"
            for topic, wanted in self._expected.items()
            if topic in counts and counts[topic] is not None and int(str(counts[topic])) < wanted
        ]
        total = len(self._expected)
        self._last = f"saw {len(seen)} of {total} synthetic topics" + (
            f" ({'; '.join(short)} tweets)" if short else ""
        )
        done = len(seen) == total and not short
        return Observation(done, f"{label}: {self._last}", f"{label}: {self._last}")


def choose_engine(target: Target, requested: str) -> QueryEngineName:
    """DuckDB for the emulator (which does not run SQL), Athena on AWS."""
    if requested == "duckdb" or (
        requested == "auto" and (target.local or "AWS_ENDPOINT_URL" in os.environ)
    ):
        return "duckdb"
    return "athena"
