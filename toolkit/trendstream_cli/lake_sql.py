"""SQL over the local lake copy: one read-only Athena query, run in a sandboxed DuckDB session.

The SQL comes from the operator or from the deployed Athena workgroup's named queries, so whoever
can edit those can choose what runs on the operator's machine. Two independent guards hold it to
what Athena itself allows a query to do: read the table.

- The SQL must parse (sqlglot, Athena dialect) as exactly one query (SELECT, WITH ... SELECT, set
  operations, VALUES) with no statement nested in it and no table function but UNNEST (Athena
  has no other; DuckDB's `query()`, `query_table()` or `read_text()` would run or read what the
  first guard never saw); DuckDB's own parser must then see one SELECT in the translation, whose
  syntax tree (`json_serialize_sql`) calls no table function but `unnest` and the series
  generators (`range`, `generate_series`) either.
- The DuckDB session reads only the directory holding the lake copy: external access is off
  outside it (no `read_text('/etc/...')`, `COPY ... TO`, `ATTACH`, `INSTALL`/`LOAD`), memory and
  spill space are bounded, and the configuration is locked so the query cannot undo any of it.

Running it is bounded too: DuckDB is interrupted after a time limit, and the result is read a
batch at a time into Python up to a number of rows and of bytes, so a result larger than DuckDB's
own memory limit is never held whole outside it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any, Literal

import duckdb
import sqlglot
from sqlglot import expressions as exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.tokenizer_core import TokenType

logger = logging.getLogger(__name__)

ATHENA_DIALECT = "athena"
"""sqlglot's Athena dialect: Trino for DML, which is what named queries hold."""
ATHENA_CATALOG = "awsdatacatalog"
"""Athena's default catalog, so three-part names (`"AwsDataCatalog"."db"."table"`) resolve too."""
DEFAULT_MAX_ROWS = 10_000
"""Rows a query hands back at most: a cross join must not fill the operator's memory."""
DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024
"""What the rows handed back may weigh at most (their text), whatever their number."""
DEFAULT_TIMEOUT_SECONDS = 120.0
"""How long DuckDB may run one query before it is interrupted."""
FETCH_BATCH_ROWS = 256
"""Rows read from DuckDB at a time: the result beyond them stays in the engine."""
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})
"""Table functions the DuckDB translation may call: UNNEST (Athena's only one) and the series
generators, which read nothing and run no SQL of their own."""
MEMORY_LIMIT = "1GB"
"""DuckDB's working memory for one query; beyond it, it spills to the lake copy's directory."""
MAX_SPILL = "4GB"
"""Disk DuckDB may spill to; beyond it, the query fails instead of filling the disk."""
SPILL_DIRECTORY = ".duckdb-spill"

_STATEMENTS_NOT_QUERIES: tuple[type[exp.Expr], ...] = (
    exp.DDL,
    exp.DML,
    exp.Command,
    exp.Set,
    exp.Pragma,
    exp.Use,
    exp.Drop,
    exp.Alter,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.LoadData,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Describe,
    exp.Show,
    exp.Kill,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.TruncateTable,
    exp.Grant,
    exp.Revoke,
    exp.Export,
    exp.Into,
)
"""Nodes that make a statement more than a read of the table (SELECT ... INTO creates one)."""

_QUERY_STARTS = frozenset(
    {TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.L_PAREN, TokenType.SEMICOLON}
)

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
    """The query cannot run as asked (unknown name, bad or unsafe SQL); the message says why."""


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
    storage_format: str = "json"
    """`parquet` (Firehose's record format conversion) or `json` (JSON lines), from the SerDe."""


@dataclasses.dataclass(frozen=True)
class Rows:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool
    """True when the query had more rows than the caps allow: `rows` holds the first ones."""
    bound: Literal["rows", "bytes"] | None = None
    """Which cap ended the result, when `truncated`."""


# ---------------------------------------------------------------------------------------------
# The SQL guard


def read_only_sql(athena_sql: str) -> str:
    """The DuckDB translation of `athena_sql` if it is exactly one read-only query, else refuse."""
    _refuse_unless_query_keyword(athena_sql)
    try:
        statements = [
            statement
            for statement in sqlglot.parse(
                athena_sql, read=ATHENA_DIALECT, error_level=ErrorLevel.RAISE
            )
            if statement is not None
        ]
    except SqlglotError as error:
        raise QueryError(f"the SQL does not parse: {sqlglot_message(error)}") from error
    except RecursionError as error:
        raise QueryError("the SQL nests too deeply to parse") from error
    if len(statements) != 1:
        raise QueryError(
            f"expected exactly one SQL statement, got {len(statements)}: "
            "a query runs one SELECT, as in Athena"
        )
    [statement] = statements
    _refuse_unless_read_only(statement)
    try:
        duckdb_sql = statement.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except RecursionError as error:
        raise QueryError("the SQL nests too deeply to translate") from error
    except SqlglotError as error:
        raise QueryError(f"cannot translate the SQL to DuckDB: {sqlglot_message(error)}") from error
    _refuse_unless_duckdb_select(duckdb_sql)
    return duckdb_sql


def _refuse_unless_query_keyword(athena_sql: str) -> None:
    """A statement that does not start as a query is refused as such, even if it does not parse."""
    try:
        tokens = Dialect.get_or_raise(ATHENA_DIALECT).tokenize(athena_sql)
    except SqlglotError as error:
        raise QueryError(f"the SQL does not parse: {sqlglot_message(error)}") from error
    first = next((token for token in tokens if token.text), None)
    if first is not None and first.token_type not in _QUERY_STARTS:
        raise QueryError(
            "only a read-only query (SELECT or WITH ... SELECT) may run; "
            f"refused: {first.text.upper()}"
        )


def _refuse_unless_read_only(statement: exp.Expr) -> None:
    if not isinstance(statement, exp.Query | exp.Values):
        raise QueryError(
            "only a read-only query (SELECT or WITH ... SELECT) may run; "
            f"refused: {_keyword(statement)}"
        )
    for node in statement.walk():
        if isinstance(node, _STATEMENTS_NOT_QUERIES):
            raise QueryError(
                "only a read-only query (SELECT or WITH ... SELECT) may run; refused the "
                f"{_keyword(node)} inside it"
            )
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            raise QueryError(
                f"a query reads tables (and UNNEST), not table functions; refused "
                f"{node.this.sql(dialect=ATHENA_DIALECT)[:80]}"
            )


def _keyword(node: exp.Expr) -> str:
    """The statement's SQL keyword (`INSERT`, `DROP`, `INTO`), as the user would name it."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _refuse_unless_duckdb_select(
    duckdb_sql: str, connection: duckdb.DuckDBPyConnection | None = None
) -> None:
    """DuckDB's parser must agree: one SELECT statement, whatever sqlglot made of the text."""
    try:
        if connection is None:
            with duckdb.connect(":memory:") as parser:
                statements = parser.extract_statements(duckdb_sql)
        else:
            statements = connection.extract_statements(duckdb_sql)
    except duckdb.Error as error:
        raise QueryError(f"DuckDB cannot parse the translated SQL: {error}") from error
    kinds = [statement.type for statement in statements]
    if kinds != [duckdb.StatementType.SELECT]:
        raise QueryError(
            "only a read-only query (SELECT or WITH ... SELECT) may run; DuckDB reads the "
            f"translation as {', '.join(kind.name for kind in kinds) or 'nothing'}"
        )
    refused = sorted(set(_table_functions(duckdb_sql)) - ALLOWED_TABLE_FUNCTIONS)
    if refused:
        raise QueryError(
            "a query reads tables (and UNNEST), not table functions; DuckDB reads the "
            f"translation as calling {', '.join(refused)}"
        )


def _table_functions(duckdb_sql: str) -> list[str]:
    """The table functions DuckDB's own syntax tree of `duckdb_sql` calls (lower case)."""
    with duckdb.connect(":memory:") as parser:
        row = parser.execute("SELECT json_serialize_sql(?)", [duckdb_sql]).fetchone()
    tree = json.loads(row[0]) if row else {}
    if tree.get("error"):
        raise QueryError(f"DuckDB cannot parse the translated SQL: {tree.get('error_message')}")
    names: list[str] = []
    pending: list[Any] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("type") == "TABLE_FUNCTION":
                function = node.get("function") or {}
                names.append(str(function.get("function_name", "?")).lower())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return names


_CLASS = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_TOKEN = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+.*?>")
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '(?:[\w]+\.)*(\w+)'>")


def sqlglot_message(error: SqlglotError) -> str:
    """sqlglot's error in the words of the SQL the user wrote, without its Python internals."""
    details = error.errors if isinstance(error, ParseError) else []
    if not details:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
        if isinstance(error, TokenError):
            return f"cannot read the SQL text ({text}); is a quote or comment left open?"
        return _plain(text)
    messages = []
    for detail in details:
        description = str(detail.get("description", ""))
        highlight = str(detail.get("highlight") or "").strip()
        missing = _MISSING.match(description)
        if missing and missing.group(1) == "expression":
            description = f"nothing follows {highlight!r}" if highlight else "incomplete expression"
        elif missing:
            description = f"incomplete {missing.group(2).lower()} expression"
        else:
            description = _plain(description).replace("Invalid expression / Unexpected token", "")
            description = description or f"unexpected {highlight!r}"
        near = " ".join((str(detail.get("start_context") or "") + highlight).split())[-40:]
        messages.append(
            f"{description} at line {detail.get('line')}, column {detail.get('col')}"
            + (f" (near {near!r})" if near else "")
        )
    return "; ".join(messages)


def _plain(text: str) -> str:
    text = _TOKEN.sub(lambda match: repr(match.group(1)), text)
    text = _CLASS.sub(lambda match: match.group(1).lower(), text)
    return text.replace("Expected table name but got", "expected a table name, found")


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


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
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
            fields.append(f"{quote_identifier(field_name.strip())} {duckdb_type(field_type)}")
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
# The sandboxed session


def parquet_source(root: Path) -> str:
    """DuckDB's reader of every Parquet object of the lake copy, files matched by column name."""
    return f"read_parquet({quote_literal(str(root / '**' / '*.parquet'))}, union_by_name = true"


def lake_view_sql(
    table: LakeTable,
    root: Path,
    *,
    has_files: bool,
    parquet_columns: frozenset[str] = frozenset(),
) -> str:
    """The SELECT behind the table's view: Glue columns in Glue order, partition keys last.

    Parquet is read by column name, as Athena reads it: a Glue column that no object holds
    (`parquet_columns`, lowercase, says which they hold) reads as nulls of its type.
    """
    data_columns = [(name, duckdb_type(hive)) for name, hive in table.columns]
    partition_columns = [(name, duckdb_type(hive)) for name, hive in table.partition_keys]
    names = ", ".join(quote_identifier(name) for name, _ in data_columns + partition_columns)
    if not has_files:
        typed_nulls = ", ".join(
            f"CAST(NULL AS {kind}) AS {quote_identifier(name)}"
            for name, kind in data_columns + partition_columns
        )
        return f"SELECT {typed_nulls} WHERE false"
    hive_types = ", ".join(
        f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in partition_columns
    )
    partitioning = (
        f", hive_partitioning = true, hive_types = {{{hive_types}}}" if partition_columns else ""
    )
    if table.storage_format == "parquet":
        typed = ", ".join(
            f"CAST({quote_identifier(name) if name.lower() in parquet_columns else 'NULL'} "
            f"AS {kind}) AS {quote_identifier(name)}"
            for name, kind in data_columns
        )
        partitions = "".join(f", {quote_identifier(name)}" for name, _ in partition_columns)
        # Every identifier and literal is quoted; nothing here comes from the user's query.
        return f"SELECT {typed}{partitions} FROM {parquet_source(root)}{partitioning})"  # noqa: S608
    columns = ", ".join(
        f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in data_columns
    )
    options = [
        "format = 'newline_delimited'",
        f"columns = {{{columns}}}",
        f"ignore_errors = {str(table.ignore_malformed_json).lower()}",
    ]
    if partition_columns:
        options += ["hive_partitioning = true", f"hive_types = {{{hive_types}}}"]
    source = quote_literal(str(root / "**" / "*.json*"))
    # Every identifier and literal above is quoted; nothing here comes from the user's query.
    return f"SELECT {names} FROM read_json({source}, {', '.join(options)})"  # noqa: S608


def open_lake(
    table: LakeTable,
    root: Path,
    *,
    has_files: bool,
    memory_limit: str = MEMORY_LIMIT,
    max_spill: str = MAX_SPILL,
) -> duckdb.DuckDBPyConnection:
    """A locked DuckDB session that can read `root` (the lake copy) and nothing else on disk.

    The table gets its Athena names and the clock is UTC, as in Athena. Once the view exists,
    file access is limited to `root`, extensions can neither be installed nor loaded, memory and
    spill are bounded, and the configuration is locked, so no statement can widen any of it.
    """
    connection = duckdb.connect(":memory:")
    try:
        spill = root / SPILL_DIRECTORY
        for setting in (
            "SET TimeZone = 'UTC'",
            f"SET allowed_directories = [{quote_literal(str(root) + '/')}]",
            f"SET temp_directory = {quote_literal(str(spill))}",
            f"SET memory_limit = {quote_literal(memory_limit)}",
            f"SET max_temp_directory_size = {quote_literal(max_spill)}",
            "SET autoinstall_known_extensions = false",
            "SET autoload_known_extensions = false",
            "SET allow_community_extensions = false",
        ):
            connection.execute(setting)
        parquet_columns: frozenset[str] = frozenset()
        if has_files and table.storage_format == "parquet":
            # The path is quoted by parquet_source; nothing here comes from the user's query.
            described = connection.execute(f"DESCRIBE SELECT * FROM {parquet_source(root)})")  # noqa: S608
            parquet_columns = frozenset(str(row[0]).lower() for row in described.fetchall())
        connection.execute(f"ATTACH ':memory:' AS {ATHENA_CATALOG}")
        connection.execute(f"USE {ATHENA_CATALOG}")
        schema = quote_identifier(table.database)
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(
            f"CREATE VIEW {schema}.{quote_identifier(table.name)} AS "
            + lake_view_sql(table, root, has_files=has_files, parquet_columns=parquet_columns)
        )
        connection.execute(f"USE {ATHENA_CATALOG}.{schema}")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def execute(
    connection: duckdb.DuckDBPyConnection,
    duckdb_sql: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Rows:
    """Run one read-only query for at most `timeout_seconds`, holding at most `max_rows` rows
    and `max_bytes` of them: rows are read from DuckDB a batch at a time, and reading stops at
    the first cap reached.

    Time-zone-aware values come back as text, as Athena prints them.
    """
    _refuse_unless_duckdb_select(duckdb_sql, connection)
    deadline = threading.Timer(timeout_seconds, connection.interrupt)
    deadline.daemon = True
    deadline.start()
    try:
        relation = connection.sql(duckdb_sql)
        if relation is None:
            raise QueryError("the SQL returned no result set: only a query may run")
        # Positional references: two result columns may share a name (`SELECT 1 AS a, 2 AS a`).
        projection = ", ".join(
            f"CAST(#{position} AS VARCHAR)" if "TIME ZONE" in str(kind) else f"#{position}"
            for position, kind in enumerate(relation.types, start=1)
        )
        rows: list[tuple[Any, ...]] = []
        held = 0
        bound: Literal["rows", "bytes"] | None = None
        limited = relation.project(projection).limit(max_rows + 1)
        for row in limited.iter_rows(batch_size=FETCH_BATCH_ROWS):
            if len(rows) == max_rows:
                bound = "rows"
                break
            held += _row_bytes(row)
            if held > max_bytes:
                bound = "bytes"
                break
            rows.append(row)
    except duckdb.InterruptException as error:
        raise QueryError(
            f"the query ran longer than the {timeout_seconds:g} s a local query may run; "
            "narrow it (a WHERE, a LIMIT, --hours) or allow more with --timeout"
        ) from error
    except duckdb.OutOfMemoryException as error:
        memory, spill = connection.sql(
            "SELECT current_setting('memory_limit'), current_setting('max_temp_directory_size')"
        ).fetchall()[0]
        raise QueryError(
            f"the query needs more than the {memory} of memory and {spill} of spill space a "
            "local query may use; narrow it (a WHERE, a LIMIT, --hours): "
            f"{str(error).splitlines()[0]}"
        ) from error
    except duckdb.Error as error:
        raise QueryError(f"DuckDB could not run the query: {error}\n  SQL: {duckdb_sql}") from error
    finally:
        deadline.cancel()
    return Rows(tuple(relation.columns), rows, truncated=bound is not None, bound=bound)


def _row_bytes(row: tuple[Any, ...]) -> int:
    return sum(_value_bytes(value) for value in row)


def _value_bytes(value: Any) -> int:
    """What a value weighs as text, about: the measure of a result's size in Python."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(_value_bytes(item) for item in value) + len(value)
    if isinstance(value, dict):
        return sum(_value_bytes(key) + _value_bytes(item) for key, item in value.items())
    return 8
