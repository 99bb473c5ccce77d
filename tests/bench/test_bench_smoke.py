"""Each benchmark runs on tiny inputs and returns well-formed figures (never judged on time)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bench.__main__ import main
from bench.cold_import import cold_import_figures
from bench.consumer_bench import consumer_figures, kinesis_event, run_consumer
from bench.dataset import StreamRecordBytes, replay_records
from bench.figures import (
    Figure,
    Goal,
    Spread,
    machine,
    markdown,
    met_text,
    spread_text,
    unavailable,
)
from bench.lake_bench import (
    lake_figures,
    parquet_bytes_read,
    stack_named_queries,
    stack_table_columns,
    touched_columns,
)
from bench.producer_bench import producer_figures
from bench.scale_bench import HOT_TOPIC, key_parts_for, kinesis_shard, run_stream, steady_stream
from bench.transformer_bench import firehose_events, transformer_figures
from tests.tweet_record.tweet_samples import LAKE_COLUMNS

from bench import stack_bench
from capacity_plan.measured import (
    CONSUMER_CPU_WITH_BOTOCORE,
    CONSUMER_WRITE_UNITS,
    PRODUCER_CPU_PER_TWEET,
    TRANSFORMER_RECORDS_PER_SECOND,
)
from capacity_plan.table import DYNAMODB_PARTITION_WCU_PER_S
from trendstream_cli.stack import StackPaths, TerraformError
from tweet_record import parse_stream_record


def assert_measured(figure: Figure, runs: int) -> None:
    assert figure.unavailable == "", figure.unavailable
    assert figure.spread is not None
    assert figure.spread.runs == runs
    assert figure.spread.low <= figure.spread.median <= figure.spread.high
    assert math.isfinite(figure.spread.high)
    assert figure.spread.low > 0


def test_replayed_records_are_distinct_valid_stream_records() -> None:
    records = replay_records(60)
    assert len(records) == 60
    assert len({(r.topic, r.tweet_id) for r in records}) == 60
    for record in records:
        tweet = parse_stream_record(record.data)
        assert (tweet.topic, tweet.tweet_id) == (record.topic, record.tweet_id)
        assert record.partition_key == record.tweet_id


def test_consumer_run_stores_every_tweet_through_the_in_memory_client(
    records: list[StreamRecordBytes],
) -> None:
    """1 write unit per started KB of a standard write
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)."""
    batch = records[:100]
    run = run_consumer(kinesis_event(batch), "off")
    assert run.failures == 0
    assert run.tweet_items == 100
    assert run.calls["PutItem"] == 100  # one conditional put per (topic, tweet)
    assert 1 <= run.calls["UpdateItem"] <= 100  # one per (topic, minute) of the batch
    assert set(run.calls) == {"PutItem", "UpdateItem"}
    # 1 KB items; each update of this single batch creates its minute item, whose entry in the
    # keys-only discovery index costs one more unit.
    assert run.index_units == run.calls["UpdateItem"]
    assert run.write_units == run.tweet_item_units + 2 * run.calls["UpdateItem"]
    assert run.tweet_item_units == 100  # 1 per tweet item of ≤ 1 KB
    assert run.cpu_seconds > 0


def test_consumer_figures_report_cpu_write_units_and_calls(
    records: list[StreamRecordBytes],
) -> None:
    figures = consumer_figures(records[:200], runs=2)
    names = [figure.name for figure in figures]
    assert len(figures) == 7, names
    cpu, botocore_cpu, units, esm_units, dealt_units, index_units, calls = figures
    for figure in (cpu, botocore_cpu, units, calls):
        assert_measured(figure, runs=2)
    assert cpu.goal == Goal("at_most", 50.0)
    assert units.goal == Goal("at_most", 2.0)
    assert units.details["tweet_item_units"] == 1.0
    assert units.spread is not None
    assert 1.0 < units.spread.median <= 2.0  # stats updates come on top of the tweet items
    assert esm_units.spread is not None
    assert esm_units.spread.median >= units.spread.median  # smaller batches share less
    assert dealt_units.spread is not None
    # 1 KB tweet item + its own stats update + that new item's index entry
    assert dealt_units.spread.median == 3.0
    assert index_units.goal == Goal("at_most", 0.05)
    assert index_units.spread is not None
    assert 0 < index_units.spread.median <= 1.0  # at most one entry per tweet
    assert calls.spread is not None
    assert calls.spread.median > 1000.0  # a put per tweet plus the stats updates
    assert "naive PutItem per record (no stats): 1,000 calls" in calls.baseline
    assert "transactional design: 10.6 calls" in calls.baseline


def test_a_hot_topic_over_its_key_parts_keeps_every_key_under_one_partition(
    records: list[StreamRecordBytes],
) -> None:
    """One partition serves 1,000 write units a second ("Best practices for designing and using
    partition keys effectively",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
    Half a second of an 8,000 tweets/s stream over 16 shards, a fifth of it on one topic: on one
    key that topic takes about 1,600 a second; over the plan's key parts no key passes 1,000."""
    stream = steady_stream(records, rate=8000, seconds=0.5, hot_share=0.2)
    crowded = run_stream(stream, shards=16, seconds=0.5)
    assert crowded.busiest_key_units_per_s > DYNAMODB_PARTITION_WCU_PER_S

    parts = key_parts_for(stream, 0.5)
    assert parts[HOT_TOPIC] >= 2
    spread = run_stream(stream, shards=16, seconds=0.5, key_parts=parts)
    assert spread.busiest_key_units_per_s <= DYNAMODB_PARTITION_WCU_PER_S
    assert spread.stats_units_per_update == 1.0  # one watermark per partial item
    assert spread.write_units_per_tweet == pytest.approx(crowded.write_units_per_tweet)


def test_kinesis_shards_split_the_hash_key_range_evenly() -> None:
    chosen = Counter(kinesis_shard(str(10**18 + n), 16) for n in range(16_000))
    assert set(chosen) == set(range(16))
    assert min(chosen.values()) > 800


def test_producer_figures_count_put_records_cpu_and_sentiment_calls(
    records: list[StreamRecordBytes],
) -> None:
    calls, cpu, sentiment = producer_figures(records, runs=2)
    assert calls.spread == Spread(2.0, 2.0, 2.0, 2)
    assert calls.met is True
    assert "PutRecord per tweet: 1,000 calls; 500x fewer" in calls.baseline
    assert_measured(cpu, runs=2)
    assert sentiment.spread is not None
    assert sentiment.goal == Goal("at_most", 40.0)
    languages = sentiment.details["calls"] - sentiment.details["documents"] // 25
    assert 0 <= languages <= 12  # one partial call per language at most


def test_transformer_events_respect_the_processor_buffer(
    records: list[StreamRecordBytes],
) -> None:
    events = firehose_events(records)
    assert sum(len(event["records"]) for event in events) == len(records)
    assert len(events) >= 1
    (figure,) = transformer_figures(records[:100], runs=2)
    assert_measured(figure, runs=2)
    assert figure.goal == Goal("at_least", 30_000.0)


def _zip_with_app(path: Path, source: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
        archive.writestr("helper.py", "VALUE = 1\n")
    path.write_bytes(buffer.getvalue())


def test_lake_bench_reads_the_stacks_queries_and_counts_only_touched_columns() -> None:
    columns = [name for name, _ in stack_table_columns()]
    queries = stack_named_queries()

    assert tuple(columns) == LAKE_COLUMNS
    assert set(queries) == {
        "top-topics-last-hour",
        "sentiment-by-topic",
        "top-hashtags",
        "most-engaged-tweets",
    }
    assert touched_columns(queries["top-hashtags"], columns) == {"hashtags", "tweet_id"}
    figures = {figure.name: figure for figure in lake_figures(replay_records(200))}
    hashtags = figures["bytes read by top-hashtags, GZIP Parquet vs JSON lines"]
    engaged = figures["bytes read by most-engaged-tweets, GZIP Parquet vs JSON lines"]
    assert hashtags.goal is not None
    assert hashtags.spread is not None
    assert engaged.spread is not None
    assert 0 < hashtags.spread.median < engaged.spread.median


def test_parquet_bytes_read_is_footer_plus_the_touched_chunks() -> None:
    table = pa.table({"a": ["x" * 1000] * 50, "b": list(range(50))})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="none", use_dictionary=False)
    body = sink.getvalue()

    only_b = parquet_bytes_read(body, {"b"})
    both = parquet_bytes_read(body, {"a", "b"})

    assert only_b < 10_000
    assert 50_000 < both <= len(body)


def test_cold_import_measures_each_zip_and_reports_missing_or_broken_ones(
    tmp_path: Path,
) -> None:
    _zip_with_app(tmp_path / "good.zip", "import json\nimport helper\nimport boto3\n")
    _zip_with_app(tmp_path / "broken.zip", "import module_that_is_not_in_the_zip\n")
    good, broken, missing = cold_import_figures(tmp_path, runs=2, zips=("good", "broken", "gone"))
    assert_measured(good, runs=2)
    assert good.details["zip_bytes"] == (tmp_path / "good.zip").stat().st_size
    assert len(good.details["cpu_ms"]) == 2
    assert broken.spread is None
    assert "ModuleNotFoundError" in broken.unavailable
    assert missing.spread is None
    assert "missing" in missing.unavailable


def test_a_stack_that_does_not_come_up_gives_na_rows_and_is_torn_down(
    records: list[StreamRecordBytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    torn_down: list[Path] = []

    def failing_up(paths: StackPaths, port: int) -> dict[str, str]:
        raise TerraformError("terraform apply exited with 1\nError: boom")

    monkeypatch.setattr(stack_bench, "up", failing_up)
    monkeypatch.setattr(stack_bench, "down", lambda paths: torn_down.append(paths.state_dir))
    up_row, e2e_row = stack_bench.stack_figures(Path("build"), records[:10], up_runs=2)
    assert up_row.spread is None
    assert up_row.unavailable == "n/a (TerraformError: terraform apply exited with 1)"
    assert e2e_row.spread is None
    assert e2e_row.unavailable.startswith("n/a (")
    assert met_text(e2e_row) == "—"
    assert len(torn_down) == 1
    assert not torn_down[0].exists()


def test_figures_render_goal_spread_and_unavailable_rows() -> None:
    measured = Figure("x_ms", "x", "ms", Spread.of([3.0, 1.0, 2.0]), Goal("at_most", 2.5))
    missed = Figure("y_rate", "y", "records/s", Spread.of([10.0]), Goal("at_least", 30_000.0))
    skipped = unavailable("z_s", "z", "s", "no emulator")
    assert measured.spread == Spread(2.0, 1.0, 3.0, 3)
    assert (measured.met, missed.met, skipped.met) == (True, False, None)
    assert spread_text(measured) == "1.00-3.00, n=3"
    text = markdown([measured, missed, skipped], machine((1.0, 2.0, 3.0)))
    assert "| x | 2.00 ms | 1.00-3.00, n=3 | ≤ 2.50 ms | yes |  |" in text
    assert "| y | 10.0 records/s | 10.0-10.0, n=1 | ≥ 30,000 records/s | NO |" in text
    assert "| z | n/a (no emulator) |" in text
    assert "load average (1/5/15 min) 1.00 2.00 3.00 before" in text


def test_main_without_the_stack_prints_one_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "bench.json"
    arguments = ["--tweets", "60", "--runs", "1", "--skip-stack"]
    arguments += ["--build-dir", str(tmp_path), "--json", str(report_path)]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert printed.count("trendstream benchmarks") == 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["arguments"] == {"tweets": 60, "runs": 1, "up_runs": 2}
    assert report["machine"]["cpus"] >= 1
    assert len(report["machine"]["load_before"]) == 3
    keys = [figure["key"] for figure in report["figures"]]
    assert len(set(keys)) == len(keys)  # a key names one figure
    assert "make_up_seconds" not in keys
    assert sum(key.endswith("_cold_import_ms") for key in keys) == 3  # zips missing: n/a rows
    measured = [figure for figure in report["figures"] if figure["spread"] is not None]
    assert len(measured) == len(keys) - 4  # and the API cold start, which needs api.zip
    read_by_the_plan = {
        CONSUMER_CPU_WITH_BOTOCORE,
        TRANSFORMER_RECORDS_PER_SECOND,
        PRODUCER_CPU_PER_TWEET,
        CONSUMER_WRITE_UNITS,
    }
    assert read_by_the_plan <= {figure["key"] for figure in measured}


def test_cpu_meter_charges_each_process_what_it_spent() -> None:
    import os
    import subprocess
    import sys

    worker_code = (
        "import sys, time; sys.stdin.readline(); sum(range(20_000_000)); "
        "print(time.process_time(), flush=True); sys.stdin.readline()"
    )
    busy = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-c", worker_code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert busy.stdin is not None
    assert busy.stdout is not None
    try:
        meter = stack_bench.CpuMeter(emulator_pid=None, worker_pids=lambda: [busy.pid])
        meter.start()
        busy.stdin.write(b"go\n")
        busy.stdin.flush()
        worker_total = float(busy.stdout.readline())  # the worker's own CPU, once it is done
        split = meter.stop()
    finally:
        busy.communicate(b"")
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert split.emulator == 0.0
    assert split.functions > 0.1
    assert split.functions <= worker_total + 2 * tick
    assert split.runtime >= 0.0
    assert stack_bench.process_cpu_seconds(busy.pid) == 0.0  # gone: nothing to charge
    assert "emulator 0.00 ms" in split.per_tweet_ms(1_000)


def test_previous_values_come_from_the_last_report(tmp_path: Path) -> None:
    from bench.figures import previous_text, with_previous

    report = tmp_path / "bench.json"
    report.write_text(
        json.dumps(
            {
                "figures": [
                    {"key": "x", "name": "x, other run size", "spread": {"median": 75.0}},
                    {"key": "y", "name": "y"},
                ]
            }
        )
    )
    figures = [
        Figure("x", "x, this run size", "µs", Spread.of([37.0])),
        Figure("y", "y", "µs", Spread.of([1.0])),
    ]
    with_previous(figures, report)
    assert [previous_text(f) for f in figures] == ["75.0 µs", ""]
    with_previous(figures, tmp_path / "missing.json")  # no report yet: nothing to compare
