"""Figures, their spread over runs, the machine they ran on, and the one printed table.

A figure is the median of several runs with the min-max of those runs beside it, because one
run on a shared 2-core machine says little. Ratios against a baseline are computed inside each
run (both sides measured on the same input at the same moment) and then summarised the same
way, never as a ratio of two medians.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

Direction = Literal["at_most", "at_least"]


@dataclass(frozen=True)
class Spread:
    """Median, min and max of the samples of several runs."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        if not samples:
            raise ValueError("a spread needs at least one sample")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


@dataclass(frozen=True)
class Goal:
    """``at_most`` 50 µs/record, ``at_least`` 30,000 records/s: judged on the median."""

    direction: Direction
    threshold: float

    def met_by(self, value: float) -> bool:
        if self.direction == "at_most":
            return value <= self.threshold
        return value >= self.threshold

    def describe(self, unit: str) -> str:
        sign = "≤" if self.direction == "at_most" else "≥"
        return f"{sign} {number(self.threshold)} {unit}".strip()


@dataclass
class Figure:
    """One row of the table; ``spread`` is ``None`` when the figure could not be measured."""

    name: str
    unit: str
    spread: Spread | None
    goal: Goal | None = None
    baseline: str = ""
    """What the naive baseline measured in the same runs, and the ratio."""
    unavailable: str = ""
    """Why there is no value ("n/a (reason)")."""
    details: dict[str, Any] = field(default_factory=dict)
    previous: float | None = None
    """The median of the same figure in the previous ``build/bench.json``, when there was one."""
    key: str = ""
    """A stable name other tools read the figure by (``capacity_plan.measured``), when they do."""

    @property
    def met(self) -> bool | None:
        if self.spread is None or self.goal is None:
            return None
        return self.goal.met_by(self.spread.median)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "spread": asdict(self.spread) if self.spread is not None else None,
            "goal": asdict(self.goal) if self.goal is not None else None,
            "met": self.met,
            "baseline": self.baseline,
            "unavailable": self.unavailable,
            "details": self.details,
            "previous": self.previous,
            "key": self.key,
        }


def unavailable(name: str, unit: str, reason: str, goal: Goal | None = None) -> Figure:
    return Figure(name, unit, None, goal, unavailable=f"n/a ({reason})")


def number(value: float) -> str:
    """Readable precision: 3 significant digits below 100, thousands separators above."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def value_text(figure: Figure) -> str:
    if figure.spread is None:
        return figure.unavailable
    return f"{number(figure.spread.median)} {figure.unit}".strip()


def spread_text(figure: Figure) -> str:
    if figure.spread is None:
        return ""
    spread = figure.spread
    return f"{number(spread.low)}-{number(spread.high)}, n={spread.runs}"


def previous_text(figure: Figure) -> str:
    if figure.previous is None:
        return ""
    return f"{number(figure.previous)} {figure.unit}".strip()


def with_previous(figures: Sequence[Figure], report: Path) -> None:
    """Fill ``previous`` from an earlier report's medians, matched by figure name."""
    try:
        earlier = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    medians = {
        entry.get("name"): (entry.get("spread") or {}).get("median")
        for entry in earlier.get("figures", [])
        if isinstance(entry, dict)
    }
    for figure in figures:
        value = medians.get(figure.name)
        if isinstance(value, int | float):
            figure.previous = float(value)


def met_text(figure: Figure) -> str:
    met = figure.met
    if met is None:
        return "—"
    return "yes" if met else "NO"


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    python: str
    platform: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    def describe(self) -> str:
        before = " ".join(f"{value:.2f}" for value in self.load_before)
        after = " ".join(f"{value:.2f}" for value in self.load_after)
        return (
            f"{self.cpus} CPUs, {self.cpu_model}, Python {self.python}, {self.platform}; "
            f"load average (1/5/15 min) {before} before, {after} after"
        )


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        text = cpuinfo.read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown CPU"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown CPU"


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine(load_before: tuple[float, float, float]) -> Machine:
    return Machine(
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=cpu_model(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()}",
        load_before=load_before,
        load_after=load_average(),
    )


def table(figures: Sequence[Figure], host: Machine) -> Table:
    grid = Table(title="trendstream benchmarks", caption=host.describe(), title_justify="left")
    grid.add_column("figure")
    grid.add_column("value", justify="right")
    grid.add_column("spread (min-max, runs)", justify="right")
    grid.add_column("goal", justify="right")
    grid.add_column("met?", justify="center")
    grid.add_column("previous", justify="right")
    grid.add_column("naive baseline (same runs)")
    for figure in figures:
        goal = figure.goal.describe(figure.unit) if figure.goal is not None else ""
        grid.add_row(
            figure.name,
            value_text(figure),
            spread_text(figure),
            goal,
            met_text(figure),
            previous_text(figure),
            figure.baseline,
        )
    return grid


def markdown(figures: Sequence[Figure], host: Machine) -> str:
    """The same table as Markdown, for docs/performance.md."""
    lines = [
        "| figure | value | spread (min-max, runs) | goal | met? | previous "
        "| naive baseline (same runs) |",
        "|---|---:|---:|---:|:-:|---:|---|",
    ]
    for figure in figures:
        goal = figure.goal.describe(figure.unit) if figure.goal is not None else ""
        cells = (
            figure.name,
            value_text(figure),
            spread_text(figure),
            goal,
            met_text(figure),
            previous_text(figure),
            figure.baseline,
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("")
    lines.append(f"Machine: {host.describe()}.")
    return "\n".join(lines) + "\n"


def print_table(figures: Sequence[Figure], host: Machine) -> None:
    Console(file=sys.stdout, width=200).print(table(figures, host))
