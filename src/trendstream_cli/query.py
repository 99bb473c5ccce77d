"""`trendstream query NAME|SQL`: run an Athena named query, or Athena SQL, locally over the lake.

Athena is not emulated, so the query is transpiled from Athena's dialect (Trino) to DuckDB with
sqlglot and run by DuckDB over the lake objects copied from S3. The lake table is declared from the
Glue table's own schema (not inferred from the data), so an empty or partial lake still answers
with the columns Athena would show, and a named query reads `<glue_database>.<glue_table>` (or
the bare table name) exactly as it does in Athena.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import json
import logging
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import boto3
import duckdb
import sqlglot
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table
from sqlglot.errors import ErrorLevel, SqlglotError

from trendstream_cli.outputs import StackOutputsError, add_stack_arguments, load_stack_outputs

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

LOGGER = logging.getLogger(__name__)

ATHENA_DIALECT = "athena"
"""sqlglot's Athena dialect: Trino for DML, which is what named queries hold."""
ATHENA_CATALOG = "awsdatacatalog"
"""Athena's default catalog, so three-part names (`"AwsDataCatalog"."db"."table"`) resolve too."""
LAKE_PREFIX = "tweets/"
BATCH_GET_NAMED_QUERY_MAX = 50
DOWNLOAD_WORKERS = 8
GZIP_MAGIC = b"\x1f\x8b"

EXIT_OK = 0
EXIT_STACK_ERROR = 1
EXIT_QUERY_ERROR = 2

_HIVE_SCALARS = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_DECIMAL_PARAMETERS = re.compile(r"^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$")


class QueryError(Exception):
    """The query cannot run as asked (unknown name, bad SQL); the message says why."""


class StackError(Exception):
    """The deployed stack does not look as the query needs (missing table, unreachable AWS)."""


@dataclasses.dataclass(frozen=True)
class NamedQuery:
    query_id: str
    name: str
    database: str
    sql: str
    description: str = ""


@dataclasses.dataclass(frozen=True)
class LakeTable:
    """What DuckDB needs to read the lake as Athena does: where it lives, its declared schema."""

    database: str
    name: str
    bucket: str
    prefix: str
    columns: tuple[tuple[str, str], ...]
    """(name, Hive type) of the data columns, in Glue order."""
    partition_keys: tuple[tuple[str, str], ...]
    ignore_malformed_json: bool = False


@dataclasses.dataclass(frozen=True)
class LakeCopy:
    objects: int
    bytes: int
    skipped: int
    """Objects under the prefix that are not in the partition layout (Athena ignores them too)."""
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    """Local copy -> s3:// URI, so errors about a file name the object, not the temp copy."""


@dataclasses.dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    duckdb_sql: str
    named_query: NamedQuery | None
    lake: LakeCopy


# ---------------------------------------------------------------------------------------------
# Hive (Glue) types to DuckDB types


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not nested inside <...> or (...)."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_type(hive_type: str) -> str:
    """The DuckDB type for a Glue/Hive column type (`array<string>` -> `VARCHAR[]`, ...)."""
    text = hive_type.strip()
    lowered = text.lower()
    if lowered.startswith("array<") and lowered.endswith(">"):
        return f"{duckdb_type(text[6:-1])}[]"
    if lowered.startswith("map<") and lowered.endswith(">"):
        key_value = _split_top_level(text[4:-1])
        if len(key_value) != 2:
            raise QueryError(f"unsupported Glue column type {hive_type!r}")
        return f"MAP({duckdb_type(key_value[0])}, {duckdb_type(key_value[1])})"
    if lowered.startswith("struct<") and lowered.endswith(">"):
        fields = []
        for field in _split_top_level(text[7:-1]):
            field_name, separator, field_type = field.partition(":")
            if not separator or not field_name.strip():
                raise QueryError(f"unsupported Glue column type {hive_type!r}")
            fields.append(f"{_quote_identifier(field_name.strip())} {duckdb_type(field_type)}")
        return f"STRUCT({', '.join(fields)})"
    base, _, parameters = lowered.partition("(")
    base = base.strip()
    if base in ("decimal", "numeric"):
        match = _DECIMAL_PARAMETERS.match(parameters.rstrip(")")) if parameters else None
        if parameters and match is None:
            raise QueryError(f"unsupported Glue column type {hive_type!r}")
        precision, scale = (match.group(1), match.group(2) or "0") if match else ("10", "0")
        return f"DECIMAL({precision}, {scale})"
    if base in _HIVE_SCALARS:
        return _HIVE_SCALARS[base]
    raise QueryError(f"unsupported Glue column type {hive_type!r}")


# ---------------------------------------------------------------------------------------------
# AWS side: Glue table, named queries, lake objects


def describe_lake_table(glue: GlueClient, database: str, table: str) -> LakeTable:
    """Read the table's location and schema from Glue, as Athena does before running a query."""
    try:
        description = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except ClientError as error:
        raise StackError(f"Glue table {database}.{table}: {error}") from error
    storage = description.get("StorageDescriptor", {})
    location = storage.get("Location", "")
    bucket, prefix = _split_s3_uri(location) if location else ("", LAKE_PREFIX)
    serde_parameters = storage.get("SerdeInfo", {}).get("Parameters", {})
    return LakeTable(
        database=database,
        name=table,
        bucket=bucket,
        prefix=prefix,
        columns=tuple((column["Name"], column["Type"]) for column in storage.get("Columns", [])),
        partition_keys=tuple(
            (key["Name"], key.get("Type", "string")) for key in description.get("PartitionKeys", [])
        ),
        ignore_malformed_json=serde_parameters.get("ignore.malformed.json", "").lower() == "true",
    )


def _split_s3_uri(uri: str) -> tuple[str, str]:
    match = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if match is None:
        raise StackError(f"Glue table location {uri!r} is not an s3:// URI")
    prefix = match.group(2)
    return match.group(1), prefix if not prefix or prefix.endswith("/") else prefix + "/"


def list_named_queries(athena: AthenaClient, workgroup: str) -> list[NamedQuery]:
    """Every named query saved in the workgroup, in the order Athena lists them."""
    query_ids: list[str] = []
    for page in athena.get_paginator("list_named_queries").paginate(WorkGroup=workgroup):
        query_ids.extend(page.get("NamedQueryIds", []))
    queries: list[NamedQuery] = []
    for start in range(0, len(query_ids), BATCH_GET_NAMED_QUERY_MAX):
        queries.extend(
            _get_named_queries(athena, query_ids[start : start + BATCH_GET_NAMED_QUERY_MAX])
        )
    return queries


def _get_named_queries(athena: AthenaClient, query_ids: list[str]) -> list[NamedQuery]:
    """One BatchGetNamedQuery; one GetNamedQuery per id where the batch call is refused.

    IAM grants the two actions separately (a role may hold only `athena:GetNamedQuery`), and
    moto 5.2.5 does not implement the batch call, so the single call is the fallback.
    """
    try:
        response = athena.batch_get_named_query(NamedQueryIds=query_ids)
    except ClientError as error:
        LOGGER.debug("BatchGetNamedQuery refused (%s); reading queries one by one", error)
        items = [
            athena.get_named_query(NamedQueryId=query_id)["NamedQuery"] for query_id in query_ids
        ]
    else:
        items = response.get("NamedQueries", [])
        for failure in response.get("UnprocessedNamedQueryIds", []):
            LOGGER.warning(
                "named query %s unreadable: %s",
                failure.get("NamedQueryId"),
                failure.get("ErrorMessage"),
            )
    return [
        NamedQuery(
            query_id=item.get("NamedQueryId", ""),
            name=item["Name"],
            database=item["Database"],
            sql=item["QueryString"],
            description=item.get("Description", ""),
        )
        for item in items
    ]


def resolve_query(argument: str, named_queries: Sequence[NamedQuery]) -> NamedQuery | None:
    """The named query `argument` designates (by name, case-insensitive, or id), None for SQL.

    Athena query names may contain spaces, so names are tried first; an argument that matches
    none is SQL if it has more than one word, else a mistyped name.
    """
    wanted = argument.strip()
    for query in named_queries:
        if wanted.casefold() == query.name.casefold() or wanted == query.query_id:
            return query
    if len(wanted.split()) > 1:
        return None
    available = ", ".join(sorted(query.name for query in named_queries)) or "none"
    raise QueryError(f"no named query {wanted!r} in the workgroup; available: {available}")


def _partition_pattern(table: LakeTable) -> re.Pattern[str]:
    keys = "".join(f"{re.escape(name)}=[^/]+/" for name, _ in table.partition_keys)
    return re.compile("^" + re.escape(table.prefix) + keys + "[^/]+$")


def hour_prefixes(table: LakeTable, hours: int, now: dt.datetime) -> list[str]:
    """The partition prefixes of the last `hours` hours (pruning as a partition WHERE would)."""
    newest = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    for back in range(hours):
        hour = newest - dt.timedelta(hours=back)
        prefixes.append(
            f"{table.prefix}year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/"
        )
    return prefixes


def copy_lake(
    s3: S3Client,
    table: LakeTable,
    destination: Path,
    *,
    prefixes: Iterable[str] | None = None,
) -> LakeCopy:
    """Download the table's objects into `destination`, keeping the partition path.

    Objects outside the partition layout are skipped (DuckDB's hive partitioning needs every
    file at the same depth). Gzip objects (Firehose compression) keep a `.gz` suffix so DuckDB
    decompresses them; the rest get `.json`.
    """
    pattern = _partition_pattern(table)
    wanted: list[tuple[str, int]] = []
    skipped = 0
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes if prefixes is not None else [table.prefix]:
        for page in paginator.paginate(Bucket=table.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key, size = item["Key"], item.get("Size", 0)
                if key.endswith("/") or size == 0:
                    continue
                if pattern.match(key):
                    wanted.append((key, size))
                else:
                    skipped += 1

    def download(index_and_key: tuple[int, str]) -> tuple[str, str]:
        index, key = index_and_key
        partition_dir = destination / key[len(table.prefix) :].rsplit("/", 1)[0]
        partition_dir.mkdir(parents=True, exist_ok=True)
        staging = partition_dir / f"part-{index:06d}"
        s3.download_file(table.bucket, key, str(staging))
        with staging.open("rb") as handle:
            compressed = handle.read(2) == GZIP_MAGIC
        local = staging.rename(staging.with_suffix(".json.gz" if compressed else ".json"))
        return str(local), f"s3://{table.bucket}/{key}"

    with ThreadPoolExecutor(max_workers=DOWNLOAD_WORKERS) as pool:
        sources = dict(pool.map(download, enumerate(key for key, _ in wanted)))
    return LakeCopy(
        objects=len(wanted),
        bytes=sum(size for _, size in wanted),
        skipped=skipped,
        sources=sources,
    )


# ---------------------------------------------------------------------------------------------
# DuckDB side


def transpile(athena_sql: str) -> str:
    """Athena (Trino) SQL as DuckDB SQL; one statement, as Athena runs one per query."""
    try:
        statements = [
            statement
            for statement in sqlglot.transpile(
                athena_sql,
                read=ATHENA_DIALECT,
                write="duckdb",
                unsupported_level=ErrorLevel.RAISE,
            )
            if statement.strip()
        ]
    except SqlglotError as error:
        raise QueryError(
            f"cannot translate the SQL to DuckDB: {_sqlglot_message(error)}"
        ) from error
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def _sqlglot_message(error: SqlglotError) -> str:
    details = getattr(error, "errors", None)
    if details:
        return "; ".join(
            f"{detail.get('description')} (line {detail.get('line')}, column {detail.get('col')})"
            for detail in details
        )
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error))


def lake_view_sql(table: LakeTable, root: Path, *, has_files: bool) -> str:
    """The SELECT behind the table's view: Glue columns in Glue order, partition keys last."""
    data_columns = [(name, duckdb_type(hive)) for name, hive in table.columns]
    partition_columns = [(name, duckdb_type(hive)) for name, hive in table.partition_keys]
    names = ", ".join(_quote_identifier(name) for name, _ in data_columns + partition_columns)
    if not has_files:
        typed_nulls = ", ".join(
            f"CAST(NULL AS {kind}) AS {_quote_identifier(name)}"
            for name, kind in data_columns + partition_columns
        )
        return f"SELECT {typed_nulls} WHERE false"
    columns = ", ".join(
        f"{_quote_literal(name)}: {_quote_literal(kind)}" for name, kind in data_columns
    )
    hive_types = ", ".join(
        f"{_quote_literal(name)}: {_quote_literal(kind)}" for name, kind in partition_columns
    )
    options = [
        "format = 'newline_delimited'",
        f"columns = {{{columns}}}",
        f"ignore_errors = {str(table.ignore_malformed_json).lower()}",
    ]
    if partition_columns:
        options += ["hive_partitioning = true", f"hive_types = {{{hive_types}}}"]
    source = _quote_literal(str(root / "**" / "*.json*"))
    # Every identifier and literal above is quoted; nothing here comes from the user's query.
    return f"SELECT {names} FROM read_json({source}, {', '.join(options)})"  # noqa: S608


def open_lake(table: LakeTable, root: Path, *, has_files: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB session in which the lake table has its Athena names, clock in UTC like Athena."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"ATTACH ':memory:' AS {ATHENA_CATALOG}")
    connection.execute(f"USE {ATHENA_CATALOG}")
    schema = _quote_identifier(table.database)
    connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(
        f"CREATE VIEW {schema}.{_quote_identifier(table.name)} AS "
        + lake_view_sql(table, root, has_files=has_files)
    )
    connection.execute(f"USE {ATHENA_CATALOG}.{schema}")
    return connection


def execute(
    connection: duckdb.DuckDBPyConnection, duckdb_sql: str
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Run one statement; time-zone-aware values come back as text (as Athena prints them)."""
    try:
        relation = connection.sql(duckdb_sql)
        if relation is None:
            return (), []
        projection = ", ".join(
            f"CAST({_quote_identifier(name)} AS VARCHAR) AS {_quote_identifier(name)}"
            if "TIME ZONE" in str(kind)
            else _quote_identifier(name)
            for name, kind in zip(relation.columns, relation.types, strict=True)
        )
        rows = relation.project(projection).fetchall()
    except duckdb.Error as error:
        raise QueryError(f"DuckDB could not run the query: {error}\n  SQL: {duckdb_sql}") from error
    return tuple(relation.columns), rows


def run_query(
    outputs: Mapping[str, Any],
    argument: str,
    *,
    session: boto3.session.Session | None = None,
    hours: int | None = None,
    now: dt.datetime | None = None,
) -> QueryResult:
    """Resolve, transpile and run `argument` (a named query or SQL) over the deployed lake."""
    session = session or boto3.session.Session()
    try:
        database, table_name = outputs["glue_database"], outputs["glue_table"]
        workgroup = outputs["athena_workgroup"]
    except KeyError as missing:
        raise StackError(f"stack outputs lack {missing}") from missing
    try:
        named_queries = list_named_queries(session.client("athena"), workgroup)
        named = resolve_query(argument, named_queries)
        duckdb_sql = transpile(named.sql if named else argument)
        if named and named.database.casefold() != database.casefold():
            LOGGER.warning(
                "named query %r targets database %r; only %r is available locally",
                named.name,
                named.database,
                database,
            )
        table = describe_lake_table(session.client("glue"), database, table_name)
        if not table.bucket:
            table = _with_bucket(table, outputs)
        with tempfile.TemporaryDirectory(prefix="trendstream-lake-") as workdir:
            root = Path(workdir)
            prefixes = (
                hour_prefixes(table, hours, now or dt.datetime.now(dt.UTC)) if hours else None
            )
            lake = copy_lake(session.client("s3"), table, root, prefixes=prefixes)
            LOGGER.info(
                "copied %d lake objects (%d bytes) from s3://%s/%s",
                lake.objects,
                lake.bytes,
                table.bucket,
                table.prefix,
            )
            connection = open_lake(table, root, has_files=lake.objects > 0)
            try:
                columns, rows = execute(connection, duckdb_sql)
            except QueryError as error:
                message = str(error)
                for local, uri in lake.sources.items():
                    message = message.replace(local, uri)
                raise QueryError(message) from error
            finally:
                connection.close()
    except (ClientError, BotoCoreError) as error:
        raise StackError(str(error)) from error
    return QueryResult(columns, rows, duckdb_sql, named, lake)


def _with_bucket(table: LakeTable, outputs: Mapping[str, Any]) -> LakeTable:
    """A table without a location reads the contract's lake layout in the stack's bucket."""
    if "lake_bucket" not in outputs:
        raise StackError(f"Glue table {table.database}.{table.name} has no location")
    return dataclasses.replace(table, bucket=str(outputs["lake_bucket"]), prefix=LAKE_PREFIX)


# ---------------------------------------------------------------------------------------------
# Output


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def render(result: QueryResult, output_format: str, stream: TextIO) -> None:
    """Write the rows as a rich table, a JSON array of objects, or CSV with a header."""
    if output_format == "json":
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        json.dump(records, stream, default=_json_value, ensure_ascii=False, indent=2)
        stream.write("\n")
        return
    if output_format == "csv":
        writer = csv.writer(stream)
        writer.writerow(result.columns)
        writer.writerows([_cell(value) for value in row] for row in result.rows)
        return
    title = result.named_query.name if result.named_query else None
    table = Table(title=title, caption=f"{len(result.rows)} rows")
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(value) for value in row))
    Console(file=stream).print(table)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query",
        metavar="NAME|SQL",
        help="a named query of the stack's Athena workgroup (name or id), or Athena SQL",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format"
    )
    parser.add_argument(
        "--hours",
        type=int,
        default=None,
        metavar="N",
        help="copy only the partitions of the last N hours (default: the whole lake)",
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the DuckDB SQL the query became"
    )
    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    if args.hours is not None and args.hours < 1:
        errors.print("[red]--hours must be at least 1[/red]")
        return EXIT_QUERY_ERROR
    try:
        outputs = load_stack_outputs(args)
        result = run_query(outputs, args.query, hours=args.hours)
    except QueryError as error:
        errors.print(f"[red]query failed:[/red] {error}", highlight=False, soft_wrap=True)
        return EXIT_QUERY_ERROR
    except (StackError, StackOutputsError) as error:
        errors.print(f"[red]stack error:[/red] {error}", highlight=False, soft_wrap=True)
        return EXIT_STACK_ERROR
    if args.show_sql:
        errors.print(result.duckdb_sql, markup=False, highlight=False, soft_wrap=True)
    if result.lake.objects == 0:
        errors.print("[yellow]the lake holds no tweets yet: the result is empty[/yellow]")
    render(result, args.format, sys.stdout)
    return EXIT_OK
