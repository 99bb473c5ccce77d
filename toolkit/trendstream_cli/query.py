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
import math
import posixpath
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from trendstream_cli import arguments
from trendstream_cli.lake_objects import GZIP_MAGIC, PARQUET_MAGIC
from trendstream_cli.lake_sql import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_ROWS,
    DEFAULT_TIMEOUT_SECONDS,
    LakeTable,
    QueryError,
    duckdb_type,
    execute,
    lake_view_sql,
    open_lake,
    read_only_sql,
)
from trendstream_cli.outputs import StackOutputsError, add_stack_arguments, load_stack_outputs
from trendstream_cli.terminal_text import json_visible, visible
from tweet_record.lake import TWEETS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

__all__ = [
    "DEFAULT_MAX_COPY_BYTES",
    "DEFAULT_MAX_ROWS",
    "MAX_HOURS",
    "MAX_ROWS",
    "LakeTable",
    "NamedQuery",
    "QueryBounds",
    "QueryError",
    "QueryResult",
    "StackError",
    "duckdb_type",
    "lake_view_sql",
    "render",
    "resolve_query",
    "run_named_query",
    "run_query",
    "transpile",
]

logger = logging.getLogger(__name__)

BATCH_GET_NAMED_QUERY_MAX = 50
DOWNLOAD_WORKERS = 8
MAX_HOURS = 24 * 366
"""`--hours` at most a year: beyond that, copy the whole lake (no `--hours`)."""
MAX_NAMES_LISTED = 20
"""Named queries an unknown name's error lists; a workgroup may hold hundreds."""
MAX_ROWS = 1_000_000
"""`--max-rows` at most: every row shown is held in memory first."""
MB = 1024 * 1024
DEFAULT_MAX_COPY_BYTES = 2048 * MB
"""The lake copied for one local query at most: a bigger lake is narrowed (--hours) first."""
MAX_TIMEOUT_SECONDS = 3600.0
MIN_COLUMN_WIDTH = 20
"""A table column narrower than its content up to this many characters switches to records."""

EXIT_OK = 0
EXIT_STACK_ERROR = 1
EXIT_QUERY_ERROR = 2


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
    truncated: bool = False
    """The query had more rows than the caps hold: `rows` are the first ones."""
    bound: str | None = None
    """Which cap ended the rows (`rows` or `bytes`), when `truncated`."""


@dataclasses.dataclass(frozen=True)
class QueryBounds:
    """What one local query may take: DuckDB's time, the result's bytes, the lake copy's bytes."""

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_copy_bytes: int = DEFAULT_MAX_COPY_BYTES


def transpile(athena_sql: str) -> str:
    """Athena (Trino) SQL as DuckDB SQL, if it is one read-only query (else `QueryError`)."""
    return read_only_sql(athena_sql)


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
    bucket, prefix = _split_s3_uri(location) if location else ("", TWEETS_PREFIX)
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
        storage_format=_storage_format(storage),
    )


def _storage_format(storage: Mapping[str, Any]) -> str:
    """`parquet` when the table's SerDe or input format is Parquet's, else `json`."""
    serde = str(storage.get("SerdeInfo", {}).get("SerializationLibrary", ""))
    return (
        "parquet" if "parquet" in (serde + str(storage.get("InputFormat", ""))).lower() else "json"
    )


def _split_s3_uri(uri: str) -> tuple[str, str]:
    """Bucket and key prefix of the table's location, the prefix normalised (`a/../b` is `b`)
    and required to stay in the lake's folder: a location such as `tweets/..` would otherwise
    copy the whole bucket (quarantine and errors too) and name files outside the copy."""
    match = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if match is None:
        raise StackError(f"Glue table location {uri!r} is not an s3:// URI")
    prefix = posixpath.normpath("/" + match.group(2)).lstrip("/") + "/"
    if not prefix.startswith(TWEETS_PREFIX):
        raise StackError(
            f"Glue table location {uri!r} is outside the lake's {TWEETS_PREFIX} folder "
            f"(it reads as {prefix!r}); a local query copies only {TWEETS_PREFIX}"
        )
    return match.group(1), prefix


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
        logger.debug("BatchGetNamedQuery refused (%s); reading queries one by one", error)
        items = [
            athena.get_named_query(NamedQueryId=query_id)["NamedQuery"] for query_id in query_ids
        ]
    else:
        items = response.get("NamedQueries", [])
        for failure in response.get("UnprocessedNamedQueryIds", []):
            logger.warning(
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


def resolve_query(
    argument: str, named_queries: Sequence[NamedQuery], *, named_only: bool = False
) -> NamedQuery | None:
    """The named query `argument` designates (by name, case-insensitive, or id), None for SQL.

    Athena query names may contain spaces, so names are tried first; an argument that matches
    none is SQL if it has more than one word, else a mistyped name.
    """
    wanted = argument.strip()
    for query in named_queries:
        if wanted.casefold() == query.name.casefold() or wanted == query.query_id:
            return query
    if len(wanted.split()) > 1 and not named_only:
        return None
    names = sorted(query.name for query in named_queries)
    available = ", ".join(names[:MAX_NAMES_LISTED]) or "none"
    if len(names) > MAX_NAMES_LISTED:
        available += f" and {len(names) - MAX_NAMES_LISTED} more"
    raise QueryError(f"no named query {wanted!r} in the workgroup; available: {available}")


def _partition_pattern(table: LakeTable) -> re.Pattern[str]:
    keys = "".join(f"{re.escape(name)}=[^/]+/" for name, _ in table.partition_keys)
    return re.compile("^" + re.escape(table.prefix) + keys + "[^/]+$")


def hour_prefixes(table: LakeTable, hours: int, now: dt.datetime) -> list[str]:
    """The fewest prefixes covering the partitions of the last `hours` hours, and no others.

    Whole years, months and days in the window are one prefix each (one S3 listing), so even a
    year-long window lists a few dozen prefixes rather than one per hour.
    """
    if not 1 <= hours <= MAX_HOURS:
        raise QueryError(f"hours must be between 1 and {MAX_HOURS}, not {hours}")
    end = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    hour = end - dt.timedelta(hours=hours)
    base = table.prefix
    prefixes = []
    while hour < end:
        next_day = hour + dt.timedelta(days=1)
        next_month = (hour.replace(day=28, hour=0) + dt.timedelta(days=4)).replace(day=1)
        next_year = dt.datetime(hour.year + 1, 1, 1, tzinfo=dt.UTC)
        if (hour.month, hour.day, hour.hour) == (1, 1, 0) and next_year <= end:
            prefixes.append(f"{base}year={hour:%Y}/")
            hour = next_year
        elif (hour.day, hour.hour) == (1, 0) and next_month <= end:
            prefixes.append(f"{base}year={hour:%Y}/month={hour:%m}/")
            hour = next_month
        elif hour.hour == 0 and next_day <= end:
            prefixes.append(f"{base}year={hour:%Y}/month={hour:%m}/day={hour:%d}/")
            hour = next_day
        else:
            prefixes.append(f"{base}year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/")
            hour += dt.timedelta(hours=1)
    return prefixes


def copy_lake(
    s3: S3Client,
    table: LakeTable,
    destination: Path,
    *,
    prefixes: Iterable[str] | None = None,
    max_bytes: int = DEFAULT_MAX_COPY_BYTES,
) -> LakeCopy:
    """Download the table's objects into `destination`, keeping the partition path.

    Objects outside the partition layout are skipped (DuckDB's hive partitioning needs every
    file at the same depth), and so is any key whose path would not stay inside `destination`
    (a `..` or empty path segment). Parquet objects (Firehose's record format conversion) get
    `.parquet`; gzip objects (Firehose compression) keep a `.gz` suffix so DuckDB decompresses
    them; the rest get `.json`. More than `max_bytes` to copy is a `QueryError`, raised before
    anything is downloaded.
    """
    pattern = _partition_pattern(table)
    wanted: list[tuple[str, Path, int]] = []
    total = 0
    skipped = 0
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes if prefixes is not None else [table.prefix]:
        for page in paginator.paginate(Bucket=table.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key, size = item["Key"], item.get("Size", 0)
                if key.endswith("/") or size == 0:
                    continue
                directory = _local_directory(destination, table.prefix, key)
                if directory is None or not pattern.match(key):
                    skipped += 1
                    continue
                wanted.append((key, directory, size))
                total += size
                if total > max_bytes:
                    raise QueryError(
                        f"the lake under s3://{table.bucket}/{prefix} holds more than the "
                        f"{max_bytes // MB} MB a local query copies; narrow it with --hours, "
                        "or allow more with --max-copy-mb"
                    )

    def download(index_and_key: tuple[int, tuple[str, Path]]) -> tuple[str, str]:
        index, (key, partition_dir) = index_and_key
        partition_dir.mkdir(parents=True, exist_ok=True)
        staging = partition_dir / f"part-{index:06d}"
        s3.download_file(table.bucket, key, str(staging))
        with staging.open("rb") as handle:
            magic = handle.read(len(PARQUET_MAGIC))
        if magic == PARQUET_MAGIC:
            suffix = ".parquet"
        else:
            suffix = ".json.gz" if magic.startswith(GZIP_MAGIC) else ".json"
        local = staging.rename(staging.with_suffix(suffix))
        return str(local), f"s3://{table.bucket}/{key}"

    with ThreadPoolExecutor(max_workers=DOWNLOAD_WORKERS) as pool:
        sources = dict(
            pool.map(download, enumerate((key, directory) for key, directory, _ in wanted))
        )
    return LakeCopy(
        objects=len(wanted),
        bytes=total,
        skipped=skipped,
        sources=sources,
    )


def _local_directory(destination: Path, prefix: str, key: str) -> Path | None:
    """Where the copy of `key` goes: its partition path under `destination`, or None when the
    key's path has a `.`, `..` or empty segment (S3 keys are any text; a path is not)."""
    if not key.startswith(prefix):
        return None
    segments = key[len(prefix) :].split("/")[:-1]
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    directory = destination.joinpath(*segments)
    return directory if directory.resolve().is_relative_to(destination.resolve()) else None


def run_query(
    outputs: Mapping[str, Any],
    argument: str,
    *,
    session: boto3.session.Session | None = None,
    hours: int | None = None,
    now: dt.datetime | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    bounds: QueryBounds | None = None,
) -> QueryResult:
    """Resolve, transpile and run `argument` (a named query or SQL) over the deployed lake.

    Only one read-only query runs, in a DuckDB session that can read nothing but the lake copy,
    within `bounds` (time, result bytes, lake copy); at most `max_rows` rows are held
    (`truncated` says whether there were more).
    """
    return _run(
        outputs, argument, session=session, hours=hours, now=now, max_rows=max_rows, bounds=bounds
    )


def run_named_query(
    outputs: Mapping[str, Any],
    name: str,
    *,
    session: boto3.session.Session | None = None,
    hours: int | None = None,
    now: dt.datetime | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    bounds: QueryBounds | None = None,
) -> QueryResult:
    """Run the workgroup's named query `name` (or id) locally; SQL text is refused."""
    return _run(
        outputs,
        name,
        session=session,
        hours=hours,
        now=now,
        max_rows=max_rows,
        bounds=bounds,
        named_only=True,
    )


def _run(
    outputs: Mapping[str, Any],
    argument: str,
    *,
    session: boto3.session.Session | None,
    hours: int | None,
    now: dt.datetime | None,
    max_rows: int,
    bounds: QueryBounds | None,
    named_only: bool = False,
) -> QueryResult:
    session = session or boto3.session.Session()
    bounds = bounds or QueryBounds()
    if not 1 <= max_rows <= MAX_ROWS:
        raise QueryError(f"max_rows must be between 1 and {MAX_ROWS}, not {max_rows}")
    try:
        database, table_name = outputs["glue_database"], outputs["glue_table"]
        workgroup = outputs["athena_workgroup"]
    except KeyError as missing:
        raise StackError(f"stack outputs lack {missing}") from missing
    try:
        named_queries = list_named_queries(session.client("athena"), workgroup)
        named = resolve_query(argument, named_queries, named_only=named_only)
        duckdb_sql = transpile(named.sql if named else argument)
        if named and named.database.casefold() != database.casefold():
            logger.warning(
                "named query %r targets database %r; only %r is available locally",
                named.name,
                named.database,
                database,
            )
        table = describe_lake_table(session.client("glue"), database, table_name)
        if not table.bucket:
            table = _with_bucket(table, outputs)
        prefixes = hour_prefixes(table, hours, now or dt.datetime.now(dt.UTC)) if hours else None
        with tempfile.TemporaryDirectory(prefix="trendstream-lake-") as workdir:
            # Resolved: DuckDB compares the paths it opens with the allowed directory as text.
            root = Path(workdir).resolve()
            lake = copy_lake(
                session.client("s3"),
                table,
                root,
                prefixes=prefixes,
                max_bytes=bounds.max_copy_bytes,
            )
            logger.info(
                "copied %d lake objects (%d bytes) from s3://%s/%s",
                lake.objects,
                lake.bytes,
                table.bucket,
                table.prefix,
            )
            connection = open_lake(table, root, has_files=lake.objects > 0)
            try:
                result = execute(
                    connection,
                    duckdb_sql,
                    max_rows=max_rows,
                    max_bytes=bounds.max_result_bytes,
                    timeout_seconds=bounds.timeout_seconds,
                )
            except QueryError as error:
                message = str(error)
                for local, uri in lake.sources.items():
                    message = message.replace(local, uri)
                for directory in (str(root), workdir):
                    message = message.replace(directory, "<lake copy>")
                raise QueryError(message) from error
            finally:
                connection.close()
    except (ClientError, BotoCoreError) as error:
        raise StackError(str(error)) from error
    return QueryResult(
        result.columns,
        result.rows,
        duckdb_sql,
        named,
        lake,
        truncated=result.truncated,
        bound=result.bound,
    )


def _with_bucket(table: LakeTable, outputs: Mapping[str, Any]) -> LakeTable:
    """A table without a location reads the contract's lake layout in the stack's bucket."""
    if "lake_bucket" not in outputs:
        raise StackError(f"Glue table {table.database}.{table.name} has no location")
    return dataclasses.replace(table, bucket=str(outputs["lake_bucket"]), prefix=TWEETS_PREFIX)


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


def _json_ready(value: Any) -> Any:
    """A value strict JSON can hold: map keys as text, NaN and infinities as Athena prints them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else _cell(key): _json_ready(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def _json_dumps(value: Any, **options: Any) -> str:
    return json.dumps(
        _json_ready(value), default=_json_value, ensure_ascii=False, allow_nan=False, **options
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return _json_dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render(result: QueryResult, output_format: str, stream: TextIO) -> None:
    """Write the rows as a rich table, a JSON array of objects, or CSV with a header.

    A table too wide for the terminal (every column needs its content, up to MIN_COLUMN_WIDTH
    characters) is printed as one record per row instead, so no column is squeezed to nothing.
    Values are plain text: a tweet's `[/]` or `[link=...]` is shown, never read as markup, and
    its control characters and escape sequences are shown as escapes (`\\x1b`), never sent to the
    terminal (JSON as `\\u` escapes, the same data; CSV keeps the data exact unless it goes to a
    terminal).
    """
    if output_format == "json":
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        stream.write(json_visible(_json_dumps(records, indent=2)) + "\n")
        return
    if output_format == "csv":
        shown = visible if _is_terminal(stream) else str
        writer = csv.writer(stream)
        writer.writerow([shown(column) for column in result.columns])
        writer.writerows([shown(_cell(value)) for value in row] for row in result.rows)
        return
    console = Console(file=stream)
    cells = [[visible(_cell(value)) for value in row] for row in result.rows]
    columns = [visible(column) for column in result.columns]
    widths = [
        min(MIN_COLUMN_WIDTH, max([len(column), *(_longest_line(row[index]) for row in cells)]))
        for index, column in enumerate(columns)
    ]
    title = visible(result.named_query.name) if result.named_query else None
    caption = _row_count(result)
    # Each column costs its width plus a padding space either side and a border.
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        table = Table(title=Text(title) if title else None)
        for column, width in zip(columns, widths, strict=True):
            table.add_column(Text(column), overflow="fold", min_width=width)
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        console.print(caption, markup=False, highlight=False)
        return
    if title:
        console.print(title, style="bold", markup=False, highlight=False)
    name_width = min(max((len(column) for column in columns), default=0), console.width // 3)
    for number, row in enumerate(cells, start=1):
        record = Table(
            title=f"row {number}", title_justify="left", box=box.SIMPLE, show_header=False
        )
        record.add_column("column", style="bold", overflow="fold", width=name_width)
        record.add_column("value", overflow="fold")
        for column, value in zip(columns, row, strict=True):
            record.add_row(Text(column), Text(value))
        console.print(record)
    console.print(caption, markup=False, highlight=False)


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _row_count(result: QueryResult) -> str:
    if result.truncated:
        return truncation_note(result)
    return f"{len(result.rows)} rows"


def truncation_note(result: QueryResult) -> str:
    """What a truncated result shows and why (the row or the byte cap)."""
    if result.bound == "bytes":
        return (
            f"showing the first {len(result.rows)} rows of more: the rows held reached the size "
            f"a local result may weigh ({DEFAULT_MAX_RESULT_BYTES // MB} MB by default; add a "
            "LIMIT, or select fewer columns)"
        )
    return (
        f"showing the first {len(result.rows)} rows of more (add a LIMIT, or --max-rows for more)"
    )


def _hours(text: str) -> int:
    """`--hours`: a whole number of hours within MAX_HOURS (argparse reports anything else)."""
    try:
        hours = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of hours: {text!r}") from None
    if not 1 <= hours <= MAX_HOURS:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_HOURS} (a year); for more, omit --hours to read "
            "the whole lake"
        )
    return hours


def _max_rows(text: str) -> int:
    try:
        rows = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of rows: {text!r}") from None
    if not 1 <= rows <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_ROWS}")
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query",
        metavar="NAME|SQL",
        help="a named query of the stack's Athena workgroup (name or id), or one Athena SELECT",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format"
    )
    parser.add_argument(
        "--hours",
        type=_hours,
        default=None,
        metavar="N",
        help=f"copy only the partitions of the last N hours, 1 to {MAX_HOURS} "
        "(default: the whole lake)",
    )
    parser.add_argument(
        "--max-rows",
        type=_max_rows,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"print at most N rows, 1 to {MAX_ROWS}; the rest are not read (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=arguments.bounded_float(1.0, MAX_TIMEOUT_SECONDS),
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="S",
        help=f"interrupt the query after S seconds, 1 to {MAX_TIMEOUT_SECONDS:g} "
        "(default %(default)g)",
    )
    parser.add_argument(
        "--max-copy-mb",
        type=arguments.bounded_float(1.0, 1024 * 1024),
        default=DEFAULT_MAX_COPY_BYTES / MB,
        metavar="MB",
        help="refuse to copy more of the lake than this (default %(default)g MB)",
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the DuckDB SQL the query became"
    )
    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    try:
        outputs = load_stack_outputs(args)
        bounds = QueryBounds(
            timeout_seconds=args.timeout, max_copy_bytes=int(args.max_copy_mb * MB)
        )
        result = run_query(
            outputs, args.query, hours=args.hours, max_rows=args.max_rows, bounds=bounds
        )
    except QueryError as error:
        errors.print(
            f"[red]query failed:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        return EXIT_QUERY_ERROR
    except (StackError, StackOutputsError) as error:
        errors.print(
            f"[red]stack error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        return EXIT_STACK_ERROR
    if args.show_sql:
        errors.print(result.duckdb_sql, markup=False, highlight=False, soft_wrap=True)
    if result.lake.objects == 0:
        errors.print("[yellow]the lake holds no tweets yet: the result is empty[/yellow]")
    if result.truncated and args.format != "table":
        errors.print(truncation_note(result), style="yellow", markup=False, highlight=False)
    render(result, args.format, sys.stdout)
    return EXIT_OK
