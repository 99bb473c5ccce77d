"""``python -m bench`` (``make bench``): run every benchmark, print one table, write JSON.

    python -m bench                  # everything, ~5-10 minutes on a 2-core machine
    python -m bench --skip-stack     # without `make up` and end to end (no emulator, ~1 minute)
    python -m bench --markdown       # also print the table as Markdown (docs/performance.md)

The figures are written to ``build/bench.json`` with the machine and its load average, because
a figure without the load it was measured under cannot be compared with another.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.api_bench import api_figures
from bench.cold_import import cold_import_figures
from bench.consumer_bench import consumer_figures, prepare_environment
from bench.dataset import replay_records
from bench.figures import Figure, load_average, machine, markdown, print_table, with_previous
from bench.lake_bench import lake_figures
from bench.producer_bench import producer_figures
from bench.scale_bench import scale_figures
from bench.transformer_bench import transformer_figures

logger = logging.getLogger("bench")
REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=10_000, help="batch / end-to-end tweets")
    parser.add_argument("--runs", type=int, default=5, help="runs per in-process figure")
    parser.add_argument(
        "--up-runs", type=int, default=2, help="`make up` runs, ~2 min each; the last runs e2e"
    )
    parser.add_argument("--skip-stack", action="store_true", help="skip `make up` and e2e")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "build" / "bench.json")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logger.setLevel(logging.INFO)
    prepare_environment()
    load_before = load_average()
    started = time.monotonic()

    logger.info("generating %d replayed tweets", args.tweets)
    records = replay_records(args.tweets)
    steps: list[tuple[str, Callable[[], list[Figure]]]] = [
        ("consumer", lambda: consumer_figures(records, args.runs)),
        ("write units at scale", lambda: scale_figures(records)),
        ("producer", lambda: producer_figures(records, args.runs)),
        ("transformer", lambda: transformer_figures(records, args.runs)),
        ("cold imports", lambda: cold_import_figures(args.build_dir, args.runs)),
        ("read API", lambda: api_figures(args.build_dir, args.runs)),
        ("lake formats", lambda: lake_figures(records)),
    ]
    if not args.skip_stack:
        from bench.stack_bench import stack_figures

        steps.append(
            ("make up + end to end", lambda: stack_figures(args.build_dir, records, args.up_runs))
        )
    figures: list[Figure] = []
    for name, step in steps:
        logger.info("running %s", name)
        step_started = time.monotonic()
        figures.extend(step())
        logger.info("%s done in %.1f s", name, time.monotonic() - step_started)

    host = machine(load_before)
    with_previous(figures, args.json)
    print_table(figures, host)
    if args.markdown:
        print(markdown(figures, host))
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "arguments": {"tweets": args.tweets, "runs": args.runs, "up_runs": args.up_runs},
        "machine": host.__dict__,
        "figures": [figure.as_json() for figure in figures],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("wrote %s in %.0f s", args.json, report["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
