"""`trendstream query` under inputs that used to flood, hang or hide data.

Each test drives the command as a user would: a huge `--hours`, a result bigger than memory,
`| head`, a syntax error, a broken outputs file, a `SELECT *` on an 80-column terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_stack import LakeStack, lake_row

from trendstream_cli.lake_sql import LakeTable, QueryError, execute, open_lake
from trendstream_cli.main import main
from trendstream_cli.query import MAX_HOURS, hour_prefixes, run_query

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TWEET_ID = "1578516068309794817"
TEXT = "Trains across #Europe are late again this morning, say commuters in three capitals"
CROSS_JOIN = (
    "SELECT a.n * 100000 + b.n AS n, lpad('', 40, 'x') AS pad "
    "FROM UNNEST(sequence(1, 100000)) AS a(n) CROSS JOIN UNNEST(sequence(1, 100000)) AS b(n)"
)
"""Ten billion rows: more than any memory, unless only the rows shown are read."""


@pytest.fixture
def stack(lake_stack: LakeStack) -> LakeStack:
    row = lake_row(TWEET_ID, NOW, topic="#Europe", author="commuter_news", hashtags=("Europe",))
    row["text"] = TEXT
    lake_stack.put_tweets([row])
    return lake_stack


@pytest.fixture
def outputs_file(stack: LakeStack, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({key: {"value": value} for key, value in stack.outputs.items()}))
    return path


# --- --hours ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["1000000", str(MAX_HOURS + 1), "0", "-1", "1.5", "lots"])
def test_hours_out_of_range_is_an_argument_error(
    hours: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["query", "--hours", hours, "SELECT 1 AS x"])

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "--hours" in err
    assert "Traceback" not in err


def _hour_key(hour: dt.datetime) -> str:
    return f"tweets/year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/object"


@pytest.mark.parametrize("hours", [1, 5, 24, 30, 800, 1500, MAX_HOURS])
@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2028, 3, 1, 5, 30, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
    ],
)
def test_hour_prefixes_cover_exactly_the_window_in_few_listings(
    hours: int, now: dt.datetime
) -> None:
    table = LakeTable("db", "tweets", "bucket", "tweets/", (), ())

    prefixes = hour_prefixes(table, hours, now)

    newest = now.replace(minute=0)
    for back in range(-48, hours + 48):
        hour = newest - dt.timedelta(hours=back)
        key = _hour_key(hour)
        matches = [prefix for prefix in prefixes if key.startswith(prefix)]
        assert len(matches) == (1 if 0 <= back < hours else 0), (hour, matches)
    # Whole years, months and days are one listing each: at most 23 + 30 + 11 + 1 + 11 + 30 + 23.
    assert len(prefixes) <= 129
    assert len(prefixes) <= hours


def test_hours_beyond_the_maximum_is_a_query_error_for_callers_too() -> None:
    table = LakeTable("db", "tweets", "bucket", "tweets/", (), ())

    with pytest.raises(QueryError, match=f"between 1 and {MAX_HOURS}"):
        hour_prefixes(table, 1_000_000, NOW)


def test_a_years_hours_runs(stack: LakeStack) -> None:
    result = run_query(
        stack.outputs, "SELECT tweet_id FROM tweets", session=stack.session, hours=MAX_HOURS
    )

    assert result.rows == [(TWEET_ID,)]


# --- results bigger than memory ----------------------------------------------------------------


def test_a_huge_result_is_capped_and_says_so(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["query", "--outputs", str(outputs_file), "--format", "json", "--max-rows", "5", CROSS_JOIN]
    )

    out, err = capsys.readouterr()
    assert code == 0
    assert len(json.loads(out)) == 5
    assert "showing the first 5 rows of more" in err


def test_a_huge_result_holds_the_default_cap(stack: LakeStack) -> None:
    result = run_query(stack.outputs, CROSS_JOIN, session=stack.session)

    assert len(result.rows) == 10_000
    assert result.truncated


def test_the_table_caption_says_rows_were_left_out(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--outputs", str(outputs_file), "--max-rows", "2", CROSS_JOIN]) == 0

    assert "showing the first 2 rows of more" in capsys.readouterr().out


def test_a_query_beyond_the_memory_and_spill_limits_fails_clearly(tmp_path: Path) -> None:
    table = LakeTable("db", "tweets", "bucket", "tweets/", (("tweet_id", "string"),), ())
    connection = open_lake(table, tmp_path, has_files=False, memory_limit="32MB", max_spill="8MB")
    heavy = (
        "SELECT range % 20000000 AS k, max(lpad(CAST(range AS VARCHAR), 40, 'x')) AS v "
        "FROM range(20000000) GROUP BY 1 ORDER BY 2"
    )

    with pytest.raises(QueryError) as raised:
        execute(connection, heavy, max_rows=1)

    message = str(raised.value)
    assert "of memory and" in message
    assert "narrow it" in message
    assert "the 30.5 MiB of memory and 7.6 MiB of spill space" in message
    connection.close()


# --- | head --------------------------------------------------------------------------------------

_CHILD = """
import json, os, sys, tempfile
import boto3
from moto import mock_aws
from moto.athena.responses import AthenaResponse
from cli_stack import REGION, batch_get_named_query, build_lake_stack
from trendstream_cli.main import main

if not hasattr(AthenaResponse, "batch_get_named_query"):
    AthenaResponse.batch_get_named_query = batch_get_named_query
with mock_aws():
    stack = build_lake_stack(boto3.session.Session(region_name=REGION))
    path = os.path.join(tempfile.mkdtemp(), "outputs.json")
    with open(path, "w") as handle:
        json.dump(stack.outputs, handle)
    code = main(["query", "--outputs", path, *sys.argv[1:]])
sys.exit(code)
"""


@pytest.mark.parametrize("output_format", ["json", "table"])
def test_output_into_a_closed_pipe_ends_quietly(output_format: str, tmp_path: Path) -> None:
    """`| head` closes the pipe early; here it is closed before the first write, so the test
    does not depend on how much the pipe buffers (more than a megabyte on some kernels)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_ENDPOINT_URL", "AWS_PROFILE")
    }
    environment.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=os.pathsep.join(
            [str(REPO / "src"), str(REPO / "toolkit"), str(REPO / "tests" / "cli"), str(REPO)]
        ),
        HOME=str(tmp_path),
    )
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        child = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-c",
                _CHILD,
                "--format",
                output_format,
                "--max-rows",
                "50",
                CROSS_JOIN,
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)

    assert b"Traceback" not in child.stderr, child.stderr.decode()
    assert b"BrokenPipeError" not in child.stderr
    assert b"Exception ignored" not in child.stderr
    assert child.returncode == 1


# --- errors in the user's words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT * FROM tweets WHERE like_count = 2 *", "nothing follows '*' at line 1, column 43"),
        ("SELECT tweet_id FROM tweets WHERE topic =", "nothing follows '=' at line 1, column 41"),
        ("SELECT FROM WHERE tweets", "expected a table name, found 'WHERE'"),
        ("SELECT 'unterminated FROM tweets", "is a quote or comment left open?"),
    ],
)
def test_syntax_errors_name_what_is_wrong_without_parser_internals(
    sql: str, words: str, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--outputs", str(outputs_file), sql]) == 2

    err = capsys.readouterr().err
    assert words in err
    assert "<class" not in err
    assert "sqlglot" not in err
    assert "Token" not in err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "the outputs file is empty"),
        (b"   \n", "the outputs file is empty"),
        (b'{"stream_name": {"value": "s"', "not valid JSON"),
        (b"[]", "not a JSON list"),
        (b"\xff\xfe{}", "not UTF-8 text"),
    ],
)
@pytest.mark.parametrize("command", ["query", "tail"])
def test_a_broken_outputs_file_is_named_in_one_line(
    content: bytes,
    words: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "outputs.json"
    path.write_bytes(content)
    argv = [command, "--outputs", str(path)] + (["top-hashtags"] if command == "query" else [])

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert f"{path}: " in err
    assert words in err


def test_an_outputs_directory_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--outputs", str(tmp_path), "top-hashtags"]) == 1

    err = capsys.readouterr().err
    assert f"{tmp_path}: cannot read the outputs file: Is a directory" in err


# --- what a table shows --------------------------------------------------------------------------


def test_select_star_at_80_columns_shows_every_value(
    outputs_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    assert main(["query", "--outputs", str(outputs_file), "SELECT * FROM tweets"]) == 0

    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    flat = " ".join(out.split())
    assert TWEET_ID in out
    assert TEXT in flat
    for column in ("tweet_id", "text", "author_username", "commuter_news", "hashtags", "hour"):
        assert column in out
    assert "1 rows" in out


def test_a_narrow_result_stays_a_table(
    outputs_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    assert (
        main(["query", "--outputs", str(outputs_file), "SELECT tweet_id, topic FROM tweets"]) == 0
    )

    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if "tweet_id" in line)
    assert "topic" in header
    assert any(TWEET_ID in line and "#Europe" in line for line in lines)


@pytest.mark.parametrize("sql_text", ["[/]", "[bold]loud[/bold]", "[link=http://x]y[/link]"])
def test_values_and_names_are_shown_as_written_not_as_markup(
    sql_text: str, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = f"SELECT '{sql_text}' AS \"{sql_text}\", tweet_id FROM tweets"  # noqa: S608

    assert main(["query", "--outputs", str(outputs_file), sql]) == 0

    out = capsys.readouterr().out
    assert out.count(sql_text) == 2


def test_a_markup_error_message_is_shown_as_written(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--outputs", str(outputs_file), 'SELECT "[/x]" FROM tweets']) == 2

    err = capsys.readouterr().err
    assert "[/x]" in err
    assert "Traceback" not in err


# --- other inputs found on the way --------------------------------------------------------------


def test_deeply_nested_sql_is_refused_without_a_traceback(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT " + "(" * 3000 + "1" + ")" * 3000 + " AS x"

    assert main(["query", "--outputs", str(outputs_file), sql]) == 2

    assert "query failed: the SQL nests too deeply to parse" in capsys.readouterr().err


def test_columns_sharing_a_name_keep_their_own_values(stack: LakeStack) -> None:
    result = run_query(
        stack.outputs,
        "SELECT 1 AS a, 2 AS a, from_unixtime(0) AS t, from_unixtime(60) AS t",
        session=stack.session,
    )

    assert result.columns == ("a", "a", "t", "t")
    assert result.rows == [(1, 2, "1970-01-01 00:00:00+00", "1970-01-01 00:01:00+00")]


@pytest.mark.parametrize("rows", ["0", "1000001", "99999999999999999999", "many"])
def test_max_rows_out_of_range_is_an_argument_error(
    rows: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["query", "--max-rows", rows, "SELECT 1 AS x"])

    assert exited.value.code == 2
    assert "--max-rows" in capsys.readouterr().err


def test_json_output_is_strict_json_for_any_value(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = (
        "SELECT CAST('nan' AS DOUBLE) AS nan, 1e308 * 10 AS inf, -1e308 * 10 AS ninf, "
        "MAP(ARRAY[DATE '2026-11-22'], ARRAY[CAST('nan' AS DOUBLE)]) AS by_day"
    )

    code = main(["query", "--outputs", str(outputs_file), "--format", "json", sql])

    out, err = capsys.readouterr()
    assert code == 0, err

    def strict(constant: str) -> None:
        raise ValueError(constant)

    assert json.loads(out, parse_constant=strict) == [
        {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity", "by_day": {"2026-11-22": "NaN"}}
    ]
