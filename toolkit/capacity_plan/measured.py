"""The per-record figures the plan takes from the benchmarks, or their last measured values.

``make bench`` writes ``build/bench.json``; when it exists the plan uses its medians (and says
so), else the defaults below, which are the figures of the last run recorded in
docs/performance.md (and say that instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

BENCH_REPORT: Final = Path("build") / "bench.json"


@dataclass(frozen=True)
class Measured:
    consumer_cpu_us_per_record: float
    """With botocore: every PutItem and UpdateItem is signed and serialised in the function."""
    transformer_cpu_us_per_record: float
    producer_cpu_us_per_tweet: float
    """Labelling with VADER, encoding and batching, per tweet."""
    tweet_item_wru: float
    """Write units of one tweet item's conditional PutItem (1 per started KB)."""
    stats_wru_per_update: float
    """Write units of one partial stats item's update: the most of the shard counts measured."""
    source: str


MEASURED_DEFAULTS: Final = Measured(
    # The higher of the day's two runs (473 and 527 µs): sizing errs towards more shards.
    consumer_cpu_us_per_record=527.0,
    transformer_cpu_us_per_record=24.9,
    producer_cpu_us_per_tweet=45.0,
    tweet_item_wru=1.0,
    stats_wru_per_update=1.0,
    source="defaults = the last make bench (2026-11-29, docs/performance.md)",
)

CONSUMER_CPU_WITH_BOTOCORE: Final = "consumer_cpu_us_per_record_with_botocore"
TRANSFORMER_RECORDS_PER_SECOND: Final = "transformer_records_per_second"
PRODUCER_CPU_PER_TWEET: Final = "producer_cpu_us_per_tweet"
CONSUMER_WRITE_UNITS: Final = "consumer_write_units_per_new_tweet"
"""The keys of the bench figures the plan reads (bench/ writes them; labels are for readers)."""


FIGURE_FIELDS: Final = (
    "consumer_cpu_us_per_record",
    "transformer_cpu_us_per_record",
    "producer_cpu_us_per_tweet",
    "tweet_item_wru",
    "stats_wru_per_update",
)

SCALE_KEYS: Final = (
    "write_units_per_tweet_1_shards",
    "write_units_per_tweet_16_shards",
    "write_units_per_tweet_128_shards",
    "write_units_per_tweet_hot_topic",
)
"""``bench.scale_bench``'s figures, read by key: the cost of an item and of a stats update at
1, 16 and 128 shards and with a hot topic."""


def _median(figures: list[dict[str, Any]], key: str) -> tuple[float, dict[str, Any]] | None:
    for figure in figures:
        spread = figure.get("spread") or {}
        value = spread.get("median")
        if figure.get("key") == key and isinstance(value, int | float) and value > 0:
            return float(value), dict(figure.get("details") or {})
    return None


def load_measured(report: Path = BENCH_REPORT) -> Measured:
    """Figures from ``report`` where it has them, the defaults for the rest."""
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        figures = [entry for entry in document["figures"] if isinstance(entry, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return MEASURED_DEFAULTS
    found: dict[str, float] = {}
    consumer = _median(figures, CONSUMER_CPU_WITH_BOTOCORE)
    if consumer:
        found["consumer_cpu_us_per_record"] = consumer[0]
    transformer = _median(figures, TRANSFORMER_RECORDS_PER_SECOND)
    if transformer:
        found["transformer_cpu_us_per_record"] = 1e6 / transformer[0]
    producer = _median(figures, PRODUCER_CPU_PER_TWEET)
    if producer:
        found["producer_cpu_us_per_tweet"] = producer[0]
    scale = [entry for entry in figures if entry.get("key") in SCALE_KEYS and entry.get("details")]
    item_units = [entry["details"].get("tweet_item_units") for entry in scale]
    stats_units = [entry["details"].get("stats_units_per_update") for entry in scale]
    if item_units and all(isinstance(units, int | float) and units > 0 for units in item_units):
        found["tweet_item_wru"] = float(max(item_units))
    if stats_units and all(isinstance(units, int | float) and units > 0 for units in stats_units):
        found["stats_wru_per_update"] = float(max(stats_units))
    if not found:
        return MEASURED_DEFAULTS
    when = document.get("measured_at", "an unknown date")
    missing = [name for name in FIGURE_FIELDS if name not in found]
    defaults = f"; last measured defaults for {', '.join(missing)}" if missing else ""
    return replace(MEASURED_DEFAULTS, **found, source=f"{report} (measured {when}){defaults}")
