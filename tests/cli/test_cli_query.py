"""`trendstream query`: named queries and SQL, transpiled to DuckDB, over a synthetic lake."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_stack import (
    DATABASE,
    PARTITION_KEYS,
    STACK_QUERIES,
    STYLE_QUERIES,
    LakeStack,
    build_lake_stack,
    lake_row,
)
from moto.athena.responses import AthenaResponse
from tests.tweet_record.tweet_samples import LAKE_COLUMNS

from trendstream_cli.main import main
from trendstream_cli.query import (
    NamedQuery,
    QueryError,
    StackError,
    describe_lake_table,
    duckdb_type,
    lake_view_sql,
    render,
    resolve_query,
    run_query,
    transpile,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


ROWS = [
    lake_row("a1", ago(minutes=5), topic="#Europe", author="alice", hashtags=("Europe", "EU"),
             sentiment="POSITIVE", likes=10, retweets=1),
    lake_row("a2", ago(minutes=20), topic="#Europe", author="bob", hashtags=("europe", "rust"),
             sentiment="NEGATIVE", likes=3, replies=2, quotes=1),
    lake_row("a3", ago(minutes=40), topic="#Europe", author="alice", hashtags=("ai",)),
    lake_row("b1", ago(minutes=10), topic="#AI", author="carol", hashtags=("AI", "europe"),
             sentiment="POSITIVE", likes=50, retweets=10, replies=5, quotes=5),
    lake_row("b2", ago(minutes=90), topic="#AI", author="dave", hashtags=("ai",),
             sentiment="POSITIVE", likes=1),
    lake_row("c1", ago(hours=3), topic="#Rust", author="erin", hashtags=("rust", "Europe"),
             sentiment="NEGATIVE", likes=7, retweets=3),
    lake_row("d1", ago(hours=30), topic="#Old", author="frank", hashtags=("europe",),
             sentiment="POSITIVE", likes=1000),
    lake_row("e1", ago(days=10), topic="#Ancient", author="gina", likes=5000),
]  # fmt: skip

EXPECTED_STACK = {
    "top-topics-last-hour": [("#Europe", "trend", 3), ("#AI", "trend", 1)],
    "sentiment-by-topic": [
        ("#Europe", 3, 1, 1, 1, 0),
        ("#AI", 2, 2, 0, 0, 0),
        ("#Rust", 1, 0, 1, 0, 0),
    ],
    "top-hashtags": [("europe", 4), ("ai", 3), ("rust", 2), ("eu", 1)],
    "most-engaged-tweets": [
        ("b1", "carol", "#AI", "tweet b1 #AI #europe", 70),
        ("a1", "alice", "#Europe", "tweet a1 #Europe #EU", 11),
        ("c1", "erin", "#Rust", "tweet c1 #rust #Europe", 10),
        ("a2", "bob", "#Europe", "tweet a2 #europe #rust", 6),
        ("b2", "dave", "#AI", "tweet b2 #ai", 1),
        ("a3", "alice", "#Europe", "tweet a3 #ai", 0),
    ],
}

EXPECTED_STYLE = {
    "distinct-authors-last-hour": [("#Europe", 3, 2), ("#AI", 1, 1)],
    "net-sentiment": [
        ("#Europe", 3, 1, 1, 0.0),
        ("#AI", 2, 2, 0, 1.0),
        ("#Rust", 1, 0, 1, -1.0),
    ],
    "hashtag-reach": [("europe", 4, 3), ("ai", 3, 2), ("rust", 2, 2), ("eu", 1, 1)],
    "weighted-engagement-last-week": [
        ("d1", "#Old", "frank", 1000),
        ("b1", "#AI", "carol", 80),
        ("c1", "#Rust", "erin", 13),
    ],
}


@pytest.fixture
def filled(lake_stack: LakeStack) -> LakeStack:
    for row in ROWS:
        lake_stack.put_tweets([row])
    return lake_stack


def normalised(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Numbers compared as numbers: DuckDB's AVG over decimals may come back as Decimal."""
    return [
        tuple(float(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, int)
              else value for value in row)
        for row in rows
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(STACK_QUERIES))
def test_the_stacks_named_queries_return_exact_rows(filled: LakeStack, name: str) -> None:
    result = run_query(filled.outputs, name, session=filled.session)

    assert result.named_query is not None
    assert result.named_query.name == name
    assert result.rows == EXPECTED_STACK[name]
    assert result.lake.objects == len(ROWS)


@pytest.mark.parametrize("name", sorted(STACK_QUERIES))
def test_the_stacks_named_queries_read_a_parquet_lake(
    aws: boto3.session.Session, name: str
) -> None:
    """The stack's table reads Parquet (Firehose's record format conversion): the same rows,
    the same answers, the objects read with DuckDB's Parquet reader."""
    stack = build_lake_stack(aws, parquet=True)
    for row in ROWS:
        stack.put_tweets([row])

    result = run_query(stack.outputs, name, session=stack.session)

    assert result.rows == EXPECTED_STACK[name]
    assert "read_parquet" in lake_view_sql_of(stack)


def test_a_parquet_object_without_a_glue_column_reads_it_as_nulls(
    aws: boto3.session.Session,
) -> None:
    """Athena reads Parquet by column name: a column the objects lack is null, a column the
    table lacks is not shown."""
    stack = build_lake_stack(aws, parquet=True)
    hour = ago(minutes=1)
    table = pa.table({"tweet_id": ["p1"], "topic": ["#Partial"], "surprise": [42]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    key = f"tweets/year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/partial"
    stack.session.client("s3").put_object(
        Bucket=stack.outputs["lake_bucket"], Key=key, Body=sink.getvalue()
    )

    result = run_query(
        stack.outputs, "SELECT tweet_id, topic, hashtags, like_count FROM tweets", session=aws
    )

    assert result.rows == [("p1", "#Partial", None, None)]


def lake_view_sql_of(stack: LakeStack) -> str:
    table = describe_lake_table(
        stack.session.client("glue"), stack.outputs["glue_database"], stack.outputs["glue_table"]
    )
    assert table.storage_format == "parquet"
    return lake_view_sql(table, Path("/lake"), has_files=True)


@pytest.mark.parametrize("name", sorted(STYLE_QUERIES))
def test_other_athena_idioms_return_exact_rows(filled: LakeStack, name: str) -> None:
    result = run_query(filled.outputs, STYLE_QUERIES[name], session=filled.session)

    assert result.named_query is None
    assert normalised(result.rows) == EXPECTED_STYLE[name]


def test_named_query_matches_name_case_insensitively_and_by_id(filled: LakeStack) -> None:
    by_name = run_query(filled.outputs, "TOP-Hashtags", session=filled.session)
    query_id = filled.named_query_ids["top-hashtags"]
    by_id = run_query(filled.outputs, query_id, session=filled.session)

    assert by_name.rows == by_id.rows == EXPECTED_STACK["top-hashtags"]
    assert by_id.named_query is not None
    assert by_id.named_query.query_id == query_id


@pytest.mark.parametrize(
    "table",
    ["tweets", f"{DATABASE}.tweets", f'"AwsDataCatalog"."{DATABASE}"."tweets"'],
)
def test_sql_reads_the_table_under_its_athena_names(filled: LakeStack, table: str) -> None:
    result = run_query(
        filled.outputs,
        f"SELECT topic, count(*) AS n FROM {table} GROUP BY topic ORDER BY n DESC, topic",  # noqa: S608
        session=filled.session,
    )

    assert result.named_query is None
    assert result.columns == ("topic", "n")
    assert result.rows == [
        ("#Europe", 3), ("#AI", 2), ("#Ancient", 1), ("#Old", 1), ("#Rust", 1)
    ]  # fmt: skip


def test_partition_columns_come_from_the_object_key(filled: LakeStack) -> None:
    result = run_query(
        filled.outputs,
        "SELECT year, month, day, hour FROM tweets WHERE tweet_id = 'c1'",
        session=filled.session,
    )

    created = ago(hours=3)
    assert result.rows == [(f"{created:%Y}", f"{created:%m}", f"{created:%d}", f"{created:%H}")]


def test_empty_lake_still_has_the_glue_schema(lake_stack: LakeStack) -> None:
    result = run_query(lake_stack.outputs, "SELECT * FROM tweets", session=lake_stack.session)

    assert result.columns == (*LAKE_COLUMNS, *PARTITION_KEYS)
    assert result.rows == []
    assert result.lake.objects == 0
    hashtags = run_query(lake_stack.outputs, "top-hashtags", session=lake_stack.session)
    assert hashtags.columns == ("hashtag", "tweets")
    assert hashtags.rows == []


def test_missing_fields_and_unknown_fields_read_as_athena_would(lake_stack: LakeStack) -> None:
    """Columns absent from a line are NULL; keys that are not columns are ignored."""
    hour = ago(minutes=1)
    line = {"tweet_id": "p1", "created_at": f"{hour:%Y-%m-%dT%H:%M:%S}.000Z", "topic": "#Partial"}
    partial = json.dumps({**line, "surprise": 42}) + "\n"
    key = f"tweets/year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/partial"
    lake_stack.session.client("s3").put_object(
        Bucket=lake_stack.outputs["lake_bucket"], Key=key, Body=partial.encode()
    )

    result = run_query(
        lake_stack.outputs,
        "SELECT tweet_id, topic, hashtags, like_count, sentiment FROM tweets",
        session=lake_stack.session,
    )

    assert result.rows == [("p1", "#Partial", None, None, None)]


def test_gzip_objects_are_read_and_stray_keys_skipped(lake_stack: LakeStack) -> None:
    lake_stack.put_tweets([ROWS[0], ROWS[1]], compress=True)
    lake_stack.put_tweets([ROWS[3]])
    s3 = lake_stack.session.client("s3")
    s3.put_object(Bucket=lake_stack.outputs["lake_bucket"], Key="tweets/_SUCCESS", Body=b"x")

    result = run_query(
        lake_stack.outputs, "SELECT tweet_id FROM tweets ORDER BY 1", session=lake_stack.session
    )

    assert result.rows == [("a1",), ("a2",), ("b1",)]
    assert (result.lake.objects, result.lake.skipped) == (2, 1)


def test_hours_copies_only_the_latest_partitions(lake_stack: LakeStack) -> None:
    this_hour = NOW.replace(minute=0, second=0)
    for index, back in enumerate((0, 1, 5)):
        created = this_hour - dt.timedelta(hours=back)
        lake_stack.put_tweets([lake_row(f"h{index}", created, topic="#T", author="x")])

    result = run_query(
        lake_stack.outputs,
        "SELECT tweet_id FROM tweets ORDER BY 1",
        session=lake_stack.session,
        hours=2,
        now=NOW,
    )

    assert result.rows == [("h0",), ("h1",)]
    assert result.lake.objects == 2


def test_time_zone_values_come_back_as_utc_text(filled: LakeStack) -> None:
    result = run_query(
        filled.outputs,
        "SELECT from_iso8601_timestamp(created_at) AS at FROM tweets WHERE tweet_id = 'c1'",
        session=filled.session,
    )

    assert result.rows == [(f"{ago(hours=3):%Y-%m-%d %H:%M:%S}+00",)]


def test_unknown_name_lists_the_workgroups_queries(lake_stack: LakeStack) -> None:
    with pytest.raises(QueryError) as raised:
        run_query(lake_stack.outputs, "top-hashtag", session=lake_stack.session)

    message = str(raised.value)
    assert "'top-hashtag'" in message
    assert message.endswith(
        "available: most-engaged-tweets, sentiment-by-topic, top-hashtags, top-topics-last-hour"
    )
    assert "elsewhere" not in message


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("SELECT FROM WHERE tweets", "does not parse: expected a table name, found .WHERE."),
        ("SELECT 1; SELECT 2", "expected exactly one SQL statement, got 2"),
        ("SELECT no_such_column FROM tweets", "DuckDB could not run the query"),
    ],
)
def test_bad_sql_is_a_query_error(lake_stack: LakeStack, sql: str, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        run_query(lake_stack.outputs, sql, session=lake_stack.session)


def test_missing_glue_table_is_a_stack_error(lake_stack: LakeStack) -> None:
    outputs = {**lake_stack.outputs, "glue_table": "nope"}

    with pytest.raises(StackError, match="nope"):
        run_query(outputs, "SELECT 1 AS one", session=lake_stack.session)


# --- transpilation, without AWS ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "fragments"),
    [
        (STACK_QUERIES["top-topics-last-hour"],
         ["STRFTIME(CURRENT_TIMESTAMP - INTERVAL '1' HOUR, '%Y%m%d%H')",
          "CAST(created_at AS TIMESTAMPTZ)"]),
        (STACK_QUERIES["top-hashtags"], ["CROSS JOIN UNNEST(hashtags) AS t(hashtag)"]),
        (STYLE_QUERIES["distinct-authors-last-hour"],
         ["STRPTIME(year || month || day || hour, '%Y%m%d%H')", "DATE_TRUNC('HOUR'"]),
        (STYLE_QUERIES["net-sentiment"],
         ["COUNT_IF(sentiment = 'POSITIVE')", "STRPTIME(created_at, '%Y-%m-%dT%H:%M:%S.%fZ')"]),
        (STYLE_QUERIES["weighted-engagement-last-week"], ["CURRENT_DATE - INTERVAL '7' DAY"]),
    ],
)  # fmt: skip
def test_each_query_style_transpiles(sql: str, fragments: list[str]) -> None:
    duckdb_sql = transpile(sql)

    for fragment in fragments:
        assert fragment in duckdb_sql


def test_athena_functions_become_duckdb_functions() -> None:
    duckdb_sql = transpile(
        "SELECT approx_distinct(author_id), cardinality(hashtags), element_at(hashtags, 1) FROM t"
    )

    assert duckdb_sql == (
        "SELECT APPROX_COUNT_DISTINCT(author_id), ARRAY_LENGTH(hashtags), hashtags[1] FROM t"
    )


@pytest.mark.parametrize(
    ("hive", "duck"),
    [
        ("string", "VARCHAR"),
        ("varchar(64)", "VARCHAR"),
        ("bigint", "BIGINT"),
        ("int", "INTEGER"),
        ("double", "DOUBLE"),
        ("boolean", "BOOLEAN"),
        ("timestamp", "TIMESTAMP"),
        ("decimal(10,2)", "DECIMAL(10, 2)"),
        ("array<string>", "VARCHAR[]"),
        ("map<string,bigint>", "MAP(VARCHAR, BIGINT)"),
        ("struct<label:string,score:double>", 'STRUCT("label" VARCHAR, "score" DOUBLE)'),
        ("array<struct<tag:string,n:array<int>>>", 'STRUCT("tag" VARCHAR, "n" INTEGER[])[]'),
    ],
)
def test_hive_types_map_to_duckdb_types(hive: str, duck: str) -> None:
    assert duckdb_type(hive) == duck


@pytest.mark.parametrize("hive", ["uniontype<int,string>", "map<string>", "decimal(x)"])
def test_unsupported_hive_types_are_refused(hive: str) -> None:
    with pytest.raises(QueryError, match="unsupported Glue column type"):
        duckdb_type(hive)


def test_an_unknown_name_lists_at_most_twenty_names() -> None:
    queries = [
        NamedQuery(f"id-{index}", f"q{index:03d}", DATABASE, "SELECT 1") for index in range(45)
    ]

    with pytest.raises(QueryError) as raised:
        resolve_query("nope", queries)

    assert str(raised.value).endswith("q018, q019 and 25 more")


def test_single_word_that_is_no_name_is_not_taken_for_sql() -> None:
    assert resolve_query("SELECT 1", []) is None
    with pytest.raises(QueryError, match="available: none"):
        resolve_query("tweets", [])


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def outputs_file(filled: LakeStack, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({key: {"value": value} for key, value in filled.outputs.items()}))
    return path


def test_command_prints_json(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "--outputs", str(outputs_file), "--format", "json", "top-hashtags"])

    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"hashtag": tag, "tweets": tweets} for tag, tweets in EXPECTED_STACK["top-hashtags"]
    ]


def test_command_prints_csv(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["query", "--outputs", str(outputs_file), "--format", "csv",
         "SELECT tweet_id, hashtags FROM tweets WHERE tweet_id IN ('a1', 'e1') ORDER BY 1"]
    )  # fmt: skip

    assert code == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [
        ["tweet_id", "hashtags"],
        ["a1", '["Europe", "EU"]'],
        ["e1", "[]"],
    ]


def test_command_prints_a_table(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "--outputs", str(outputs_file), "most-engaged-tweets"])

    out = capsys.readouterr().out
    assert code == 0
    assert "most-engaged-tweets" in out
    assert "6 rows" in out
    for tweet_id, author, topic, _, engagement in EXPECTED_STACK["most-engaged-tweets"]:
        assert tweet_id in out
        assert topic in out
        assert author in out
        assert str(engagement) in out


def test_command_exit_codes(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--outputs", str(outputs_file), "nope"]) == 2
    assert "available: most-engaged-tweets" in capsys.readouterr().err
    assert main(["query", "--outputs", str(outputs_file), "SELECT x FROM nowhere"]) == 2
    assert "DuckDB could not run the query" in capsys.readouterr().err
    missing = outputs_file.with_name("missing.json")
    assert main(["query", "--outputs", str(missing), "top-hashtags"]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_render_table_shows_nulls_as_blank_and_lists_as_json(filled: LakeStack) -> None:
    result = run_query(
        filled.outputs,
        "SELECT tweet_id, hashtags, CAST(NULL AS VARCHAR) AS nothing FROM tweets "
        "WHERE tweet_id = 'b1'",
        session=filled.session,
    )
    stream = io.StringIO()

    render(result, "table", stream)

    assert '["AI", "europe"]' in stream.getvalue()
    assert "None" not in stream.getvalue()


def test_named_queries_are_read_one_by_one_where_the_batch_call_is_denied(
    filled: LakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: AthenaResponse) -> tuple[str, dict[str, int]]:
        body = {"__type": "AccessDeniedException", "Message": "not authorized"}
        return json.dumps(body), {"status": 400}

    monkeypatch.setattr(AthenaResponse, "batch_get_named_query", denied, raising=False)

    result = run_query(filled.outputs, "top-hashtags", session=filled.session)

    assert result.rows == EXPECTED_STACK["top-hashtags"]


def test_malformed_object_fails_the_query_naming_the_s3_object(lake_stack: LakeStack) -> None:
    """As Athena's JSON SerDe does unless told to ignore malformed JSON."""
    key = lake_stack.put_tweets([ROWS[0]])
    hour = ago(minutes=5)
    bad_key = f"tweets/year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/broken"
    bucket = lake_stack.outputs["lake_bucket"]
    lake_stack.session.client("s3").put_object(Bucket=bucket, Key=bad_key, Body=b"{not json\n")

    with pytest.raises(QueryError) as raised:
        run_query(lake_stack.outputs, "SELECT count(*) FROM tweets", session=lake_stack.session)

    assert f"s3://{bucket}/{bad_key}" in str(raised.value)
    assert key not in str(raised.value)
