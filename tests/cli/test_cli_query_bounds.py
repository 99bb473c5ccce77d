"""`trendstream query` within bounds: time, result rows and bytes, table functions, the lake
copy's folder and size, and text that would act on the terminal."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import boto3
import duckdb
import pytest
from cli_stack import BUCKET, DATABASE, GLUE_COLUMNS, LakeStack, lake_row

from trendstream_cli.lake_sql import LakeTable, QueryError, execute, open_lake, read_only_sql
from trendstream_cli.main import main
from trendstream_cli.query import (
    QueryBounds,
    QueryResult,
    StackError,
    _local_directory,
    copy_lake,
    describe_lake_table,
    render,
    run_query,
)
from trendstream_cli.terminal_text import visible

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HOSTILE = "ok\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\rgone\x9b31m\u202eevil"
"""A tweet that would clear the screen, hide a link, return the carriage and reverse text."""
MB = 1024 * 1024


@pytest.fixture
def session_on_empty_lake(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    table = LakeTable("db", "tweets", "bucket", "tweets/", (("tweet_id", "string"),), ())
    connection = open_lake(
        table, tmp_path.resolve(), has_files=False, memory_limit="64MB", max_spill="1GB"
    )
    yield connection
    connection.close()


# --- the result: read a batch at a time, bounded in rows and bytes ---------------------------


def test_a_result_larger_than_duckdbs_memory_is_never_held_whole_in_python(
    session_on_empty_lake: duckdb.DuckDBPyConnection,
) -> None:
    """200 MB of rows from a session limited to 64 MB: the rows are read a batch at a time and
    reading stops at the byte bound, so Python holds the bound, not the result."""
    big = "SELECT repeat('x', 1000) || CAST(range AS VARCHAR) AS pad FROM range(200000)"

    tracemalloc.start()
    try:
        rows = execute(session_on_empty_lake, big, max_rows=1_000_000, max_bytes=8 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (rows.truncated, rows.bound) == (True, "bytes")
    assert 0 < len(rows.rows) < 200_000
    assert sum(len(row[0]) for row in rows.rows) <= 8 * MB
    assert peak < 32 * MB, f"Python held {peak / MB:.0f} MB for an 8 MB bound"


def test_the_row_bound_still_ends_a_result_first_when_it_is_reached_first(
    session_on_empty_lake: duckdb.DuckDBPyConnection,
) -> None:
    rows = execute(session_on_empty_lake, "SELECT range FROM range(1000)", max_rows=10)

    assert (len(rows.rows), rows.truncated, rows.bound) == (10, True, "rows")


def test_the_byte_bound_is_said_under_the_table(lake_stack: LakeStack) -> None:
    result = run_query(
        lake_stack.outputs,
        "SELECT lpad('', 1000, 'x') AS pad FROM UNNEST(sequence(1, 5000)) AS t(n)",
        session=lake_stack.session,
        bounds=QueryBounds(max_result_bytes=10_000),
    )

    out = io.StringIO()
    render(result, "table", out)
    assert result.bound == "bytes"
    assert len(result.rows) == 10  # 1,000 characters each: the eleventh would pass 10,000
    assert "rows held reached the size a local result may weigh" in " ".join(out.getvalue().split())


# --- time ----------------------------------------------------------------------------------


def test_a_query_past_its_time_limit_is_interrupted(
    session_on_empty_lake: duckdb.DuckDBPyConnection,
) -> None:
    endless = "SELECT count(*) AS n FROM range(100000000) AS a, range(100000000) AS b"

    with pytest.raises(QueryError, match=r"ran longer than the 1 s a local query may run"):
        execute(session_on_empty_lake, endless, timeout_seconds=1)

    # The session is usable again after the interrupt.
    assert execute(session_on_empty_lake, "SELECT 42 AS answer").rows == [(42,)]


def test_the_command_takes_its_time_limit(
    lake_stack: LakeStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(lake_stack.outputs))
    endless = (
        "SELECT count(*) AS n FROM UNNEST(sequence(1, 100000)) AS a(x) "
        "CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 1000)) c(z)"
    )

    code = main(["query", "--outputs", str(outputs), "--timeout", "1", endless])

    assert code == 2
    assert "ran longer than the 1 s" in capsys.readouterr().err


# --- table functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM query_table('tweets')",
        "SELECT * FROM \"query\"('SELECT 1')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM tweets CROSS JOIN query('SELECT 1') AS q",
        "WITH t AS (SELECT * FROM query('SELECT 1')) SELECT * FROM t",
    ],
)
def test_table_functions_are_refused_by_the_sql_check(sql: str) -> None:
    with pytest.raises(QueryError, match="not table functions"):
        read_only_sql(sql)


def test_table_functions_are_refused_by_duckdbs_own_tree_too(
    session_on_empty_lake: duckdb.DuckDBPyConnection,
) -> None:
    """Behind the SQL check: DuckDB SQL that reached the session some other way."""
    for sql in ("SELECT * FROM query('SELECT 42')", "SELECT * FROM query_table('tweets')"):
        with pytest.raises(QueryError, match="calling query"):
            execute(session_on_empty_lake, sql)


def test_unnest_is_still_a_query(lake_stack: LakeStack) -> None:
    result = run_query(
        lake_stack.outputs,
        "SELECT n FROM UNNEST(sequence(1, 3)) AS t(n) ORDER BY n",
        session=lake_stack.session,
    )

    assert result.rows == [(1,), (2,), (3,)]


# --- the lake copy: its folder and its size ------------------------------------------------


def _table_at(aws: boto3.session.Session, name: str, location: str) -> None:
    aws.client("glue").create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {"Columns": GLUE_COLUMNS, "Location": location},
        },
    )


@pytest.mark.parametrize(
    "location",
    [f"s3://{BUCKET}/tweets/..", f"s3://{BUCKET}/tweets/../quarantine/", f"s3://{BUCKET}/"],
)
def test_a_location_outside_the_lake_folder_is_refused(
    lake_stack: LakeStack, location: str
) -> None:
    """An unpartitioned Glue table at `tweets/..` would copy the whole bucket (quarantine and
    errors too): the location is normalised and must stay under tweets/."""
    _table_at(lake_stack.session, "escaped", location)

    with pytest.raises(StackError, match="outside the lake's tweets/ folder"):
        describe_lake_table(lake_stack.session.client("glue"), DATABASE, "escaped")
    with pytest.raises(StackError, match="outside the lake's tweets/ folder"):
        run_query(
            {**lake_stack.outputs, "glue_table": "escaped"},
            "SELECT count(*) AS n FROM escaped",
            session=lake_stack.session,
        )


def test_a_location_that_climbs_back_into_the_lake_reads_as_the_lake(
    lake_stack: LakeStack,
) -> None:
    _table_at(lake_stack.session, "roundabout", f"s3://{BUCKET}/quarantine/../tweets/sub/.")

    table = describe_lake_table(lake_stack.session.client("glue"), DATABASE, "roundabout")

    assert table.prefix == "tweets/sub/"


@pytest.mark.parametrize(
    "key",
    ["tweets/..", "tweets/../secret", "tweets/year=2026/../../x", "tweets/./x", "tweets//x"],
)
def test_a_key_whose_path_leaves_the_copy_is_not_copied(tmp_path: Path, key: str) -> None:
    assert _local_directory(tmp_path, "tweets/", key) in (None, tmp_path)
    if key.count("/") > 1:
        assert _local_directory(tmp_path, "tweets/", key) is None


def test_an_unpartitioned_table_is_copied_into_the_copys_own_folder(
    lake_stack: LakeStack, tmp_path: Path
) -> None:
    s3 = lake_stack.session.client("s3")
    s3.put_object(Bucket=BUCKET, Key="tweets/flat-object", Body=b'{"tweet_id": "1"}\n')
    table = LakeTable(DATABASE, "flat", BUCKET, "tweets/", (("tweet_id", "string"),), ())
    destination = tmp_path / "copy"

    copied = copy_lake(s3, table, destination)

    assert copied.objects == 1
    assert [path.parent for path in destination.rglob("part-*")] == [destination]


def test_the_lake_copy_is_refused_past_its_size_before_anything_is_downloaded(
    lake_stack: LakeStack, tmp_path: Path
) -> None:
    row = lake_row("1", NOW, topic="#Big", author="a")
    row["text"] = "x" * 4000
    lake_stack.put_tweets([row] * 10)
    destination = tmp_path / "copy"

    with pytest.raises(QueryError, match=r"more than the .* a local query copies.*--hours"):
        run_query(
            lake_stack.outputs,
            "SELECT count(*) AS n FROM tweets",
            session=lake_stack.session,
            bounds=QueryBounds(max_copy_bytes=10_000),
        )
    table = describe_lake_table(lake_stack.session.client("glue"), DATABASE, "tweets")
    with pytest.raises(QueryError):
        copy_lake(lake_stack.session.client("s3"), table, destination, max_bytes=10_000)
    assert not destination.exists()


def test_the_command_takes_the_copy_bound_in_mb(
    lake_stack: LakeStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = lake_row("1", NOW, topic="#Big", author="a")
    row["text"] = "x" * 100_000
    lake_stack.put_tweets([row] * 15)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(lake_stack.outputs))

    refused = main(["query", "--outputs", str(outputs), "--max-copy-mb", "1", "SELECT 1 AS x"])
    allowed = main(["query", "--outputs", str(outputs), "--max-copy-mb", "2", "SELECT 1 AS x"])

    assert (refused, allowed) == (2, 0)
    assert "more than the 1 MB a local query copies" in capsys.readouterr().err


# --- text that would act on the terminal ---------------------------------------------------


def test_visible_shows_every_control_character_and_keeps_lines() -> None:
    assert visible(HOSTILE) == (
        "ok\\x1b[2J\\x1b]8;;http://evil.example\\x07click\\x1b]8;;\\x07\\x0dgone\\x9b31m\\u202eevil"
    )
    assert visible("two\nlines\tand a tab") == "two\nlines\tand a tab"


@pytest.fixture
def hostile_result(lake_stack: LakeStack) -> QueryResult:
    row = lake_row("1578516068309794817", NOW, topic="#Hostile", author="x")
    row["text"] = HOSTILE
    lake_stack.put_tweets([row])
    return run_query(lake_stack.outputs, "SELECT text FROM tweets", session=lake_stack.session)


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_query_output_never_carries_a_raw_control_character(
    hostile_result: QueryResult, output_format: str
) -> None:
    out = io.StringIO()

    render(hostile_result, output_format, out)

    text = out.getvalue()
    assert not any(char in text for char in "\x1b\x07\r\x9b\u202e")
    if output_format == "json":
        assert json.loads(text) == [{"text": HOSTILE}]
    else:
        assert "ok\\x1b[2J" in text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_keeps_the_data_exact_in_a_file_and_shows_escapes_on_a_terminal(
    hostile_result: QueryResult,
) -> None:
    to_file, to_terminal = io.StringIO(), Terminal()

    render(hostile_result, "csv", to_file)
    render(hostile_result, "csv", to_terminal)

    assert list(csv.reader(io.StringIO(to_file.getvalue(), newline=""))) == [["text"], [HOSTILE]]
    assert "\x1b" not in to_terminal.getvalue()
    assert "\\x1b[2J" in to_terminal.getvalue()
