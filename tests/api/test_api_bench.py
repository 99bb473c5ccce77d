"""The read API's benchmark runs on the built zip and returns well-formed figures (no timing)."""

from __future__ import annotations

from pathlib import Path

from bench.api_bench import api_figures

from trendstream_cli.stack import REPO_ROOT


def test_api_bench_measures_cold_start_warm_calls_and_read_units() -> None:
    cold, warm, ranking, hour_units, day_units, trending_units = api_figures(
        REPO_ROOT / "build", runs=1
    )
    for figure in (cold, warm, ranking, hour_units, day_units, trending_units):
        assert figure.unavailable == "", figure.unavailable
        assert figure.spread is not None
        assert figure.spread.runs == 1
        assert figure.spread.median > 0
    assert {"import_ms", "client_ms", "answer_ms", "cpu_ms"} <= set(cold.details["samples"][0])
    assert hour_units.spread is not None and day_units.spread is not None
    assert day_units.spread.median > 20 * hour_units.spread.median  # a day holds 24 hours


def test_api_bench_reports_a_missing_zip(tmp_path: Path) -> None:
    cold, *_ = api_figures(tmp_path, runs=1)
    assert "api.zip missing" in cold.unavailable
