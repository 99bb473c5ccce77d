"""`trendstream query` runs one read-only query and can touch no file but the lake copy.

Named queries come from the deployed workgroup, so whoever can edit them chooses the SQL an
operator's `trendstream query NAME` runs: each statement below must be refused, leaving the
operator's files as they were. DuckDB's own limits (external access, locked configuration) are
tested on their own too, as the second guard behind the SQL check. DuckDB's documentation,
"Securing DuckDB", lists these settings.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from cli_stack import LakeStack, lake_row

from trendstream_cli.lake_sql import LakeTable, QueryError, open_lake, read_only_sql
from trendstream_cli.main import main
from trendstream_cli.query import run_named_query, run_query

PRECIOUS = "the operator's own file\n"
SECRET = "s3cr3t-value"

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    target = tmp_path / "operator" / "notes.txt"
    target.parent.mkdir()
    target.write_text(PRECIOUS)
    secret = tmp_path / "operator" / "secret.csv"
    secret.write_text(SECRET + "\n")
    return {"target": target, "secret": secret, "new": tmp_path / "operator" / "new.db"}


@pytest.fixture
def stack(lake_stack: LakeStack) -> LakeStack:
    lake_stack.put_tweets([lake_row("t1", NOW, topic="#Safe", author="ann")])
    return lake_stack


@pytest.fixture
def outputs_file(stack: LakeStack, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({key: {"value": value} for key, value in stack.outputs.items()}))
    return path


REFUSED = [
    "COPY (SELECT 1 AS x) TO '{target}'",
    "COPY tweets TO '{target}' (FORMAT csv)",
    "COPY (SELECT * FROM tweets) TO '{target}'",
    "SELECT * FROM read_text('{secret}')",
    "SELECT content FROM read_text('{secret}')",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM '{secret}'",
    "SELECT * FROM read_text('{lake}/../operator/secret.csv')",
    "ATTACH '{target}' AS evil",
    "ATTACH '{new}' AS evil",
    "INSTALL httpfs",
    "LOAD httpfs",
    "LOAD '{target}'",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "SET memory_limit = '100GB'",
    "PRAGMA enable_profiling",
    "DROP VIEW tweets",
    "CREATE TABLE evil AS SELECT 1 AS x",
    "INSERT INTO tweets (tweet_id) VALUES ('x')",
    "SELECT 1 AS x; COPY (SELECT 1 AS x) TO '{target}'",
    "WITH t AS (SELECT 1 AS x) SELECT * FROM t; DROP VIEW tweets",
    "WITH t AS (SELECT 1 AS x) INSERT INTO tweets (tweet_id) SELECT 'x' FROM t",
    "SELECT * INTO evil FROM tweets",
    "EXPORT DATABASE '{new}'",
    "CALL pragma_version()",
    "DESCRIBE tweets",
]


def _sql(template: str, files: dict[str, Path], lake: str = "") -> str:
    return template.format(
        target=files["target"], secret=files["secret"], new=files["new"], lake=lake
    )


def _untouched(files: dict[str, Path]) -> None:
    assert files["target"].read_text() == PRECIOUS
    assert not files["new"].exists()
    assert sorted(path.name for path in files["target"].parent.iterdir()) == [
        "notes.txt",
        "secret.csv",
    ]


NOT_A_READ = [
    template for template in REFUSED if not template.startswith(("SELECT *", "SELECT content"))
]
"""What the SQL check itself refuses (the rest are SELECTs the DuckDB session refuses)."""


@pytest.mark.parametrize("template", NOT_A_READ)
def test_the_sql_check_refuses_every_statement_that_is_not_a_single_read(
    template: str, files: dict[str, Path]
) -> None:
    with pytest.raises(QueryError) as raised:
        read_only_sql(_sql(template, files))

    assert "only a read-only query" in str(raised.value) or "exactly one SQL statement" in str(
        raised.value
    )


@pytest.mark.parametrize(
    "template",
    [
        template
        for template in REFUSED
        if template.split(maxsplit=1)[0] in ("COPY", "ATTACH", "INSTALL", "LOAD", "SET", "DROP")
        or "read_" in template
        or "FROM '" in template
        or ";" in template
        or " INTO " in template
    ],
)
def test_statement_is_refused_and_no_file_is_touched(
    template: str,
    files: dict[str, Path],
    outputs_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["query", "--outputs", str(outputs_file), _sql(template, files)])

    out, err = capsys.readouterr()
    assert code == 2
    assert "query failed:" in err
    assert "Traceback" not in err
    assert "Success" not in out
    assert SECRET not in out + err
    _untouched(files)


@pytest.mark.parametrize(
    "template",
    ["DROP VIEW tweets", "SET lock_configuration = false", "INSTALL httpfs", "ATTACH '{new}'"],
)
def test_statement_is_refused_in_the_users_words(template: str, files: dict[str, Path]) -> None:
    with pytest.raises(QueryError) as raised:
        read_only_sql(_sql(template, files))

    keyword = template.split(maxsplit=1)[0]
    assert str(raised.value) == (
        f"only a read-only query (SELECT or WITH ... SELECT) may run; refused: {keyword}"
    )


def test_the_table_still_answers_after_a_refused_drop(
    stack: LakeStack, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--outputs", str(outputs_file), "DROP VIEW tweets"]) == 2
    capsys.readouterr()

    code = main(
        ["query", "--outputs", str(outputs_file), "--format", "json", "SELECT tweet_id FROM tweets"]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"tweet_id": "t1"}]


def test_a_named_query_edited_to_write_a_file_is_refused(
    stack: LakeStack, files: dict[str, Path], outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.session.client("athena").create_named_query(
        Name="innocent-looking",
        Database=stack.outputs["glue_database"],
        QueryString=f"COPY (SELECT * FROM tweets) TO '{files['target']}'",  # noqa: S608
        WorkGroup=stack.outputs["athena_workgroup"],
    )

    code = main(["query", "--outputs", str(outputs_file), "innocent-looking"])

    assert code == 2
    assert "refused: COPY" in capsys.readouterr().err
    _untouched(files)
    with pytest.raises(QueryError, match="refused: COPY"):
        run_named_query(stack.outputs, "innocent-looking", session=stack.session)
    _untouched(files)


def test_run_named_query_refuses_sql_text(stack: LakeStack) -> None:
    with pytest.raises(QueryError, match="no named query 'SELECT 1 AS x'"):
        run_named_query(stack.outputs, "SELECT 1 AS x", session=stack.session)


def test_ordinary_queries_still_run(stack: LakeStack) -> None:
    result = run_query(
        stack.outputs,
        "WITH t AS (SELECT topic FROM tweets) SELECT topic FROM t UNION ALL SELECT 'x'",
        session=stack.session,
    )

    assert sorted(result.rows) == [("#Safe",), ("x",)]


# --- the DuckDB session on its own: the second guard, behind the SQL check ------------------


@pytest.fixture
def lake_session(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "lake"
    partition = root / "year=2026" / "month=11" / "day=22" / "hour=10"
    partition.mkdir(parents=True)
    (partition / "part-000000.json").write_text('{"tweet_id": "l1"}\n')
    table = LakeTable(
        database="db",
        name="tweets",
        bucket="b",
        prefix="tweets/",
        columns=(("tweet_id", "string"),),
        partition_keys=(
            ("year", "string"),
            ("month", "string"),
            ("day", "string"),
            ("hour", "string"),
        ),
    )
    connection = open_lake(table, root, has_files=True)
    yield connection
    connection.close()


SESSION_REFUSED = [
    template
    for template in REFUSED
    if template.split()[0] in ("COPY", "ATTACH", "INSTALL", "LOAD", "SET", "PRAGMA", "EXPORT")
    or "read_" in template
    or "FROM '" in template
]


def test_the_session_list_covers_files_extensions_and_settings() -> None:
    assert len(SESSION_REFUSED) == 18


@pytest.mark.parametrize("template", SESSION_REFUSED)
def test_the_session_refuses_files_extensions_and_settings_on_its_own(
    template: str, files: dict[str, Path], lake_session: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Run straight in the session, past the SQL check: DuckDB itself says no."""
    sql = _sql(template, files, lake=str(tmp_path / "lake"))

    with pytest.raises(duckdb.Error) as raised:
        relation = lake_session.sql(sql)
        if relation is not None:
            relation.fetchall()

    assert isinstance(raised.value, duckdb.PermissionException | duckdb.InvalidInputException)
    assert SECRET not in str(raised.value)
    _untouched(files)
    assert lake_session.sql("SELECT tweet_id FROM db.tweets").fetchall() == [("l1",)]


def test_the_session_reads_its_lake_copy_and_is_locked(
    lake_session: duckdb.DuckDBPyConnection,
) -> None:
    settings = lake_session.sql(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
    ).fetchall()

    assert settings == [(False, True)]
    assert lake_session.sql("SELECT tweet_id, hour FROM db.tweets").fetchall() == [("l1", "10")]
