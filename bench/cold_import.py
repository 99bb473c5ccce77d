"""Figure 4: cold import time of each handler from its unzipped zip, and each zip's size.

Each sample is a fresh interpreter started with ``-I -S`` (no site-packages, no environment
paths) whose ``sys.path`` holds only the unzipped package and a directory with the runtime's
boto3 and its dependencies, as Lambda's python3.11 runtime lays out ``/var/task`` and
``/var/runtime``. ``-X importtime`` reports the cumulative (wall) time of ``import app``;
the CPU time of the same import is printed beside it, since a loaded host inflates wall time.
The function environment is the one Terraform sets, with ``LAMBDA_TASK_ROOT`` so tracing is
"on" as in Lambda.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.figures import Figure, Goal, Spread, number, unavailable

IMPORT_GOAL = Goal("at_most", 200.0)
ZIPS = ("producer", "consumer", "firehose_transformer")
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
"""What the Lambda python3.11 runtime provides on its own path."""
IMPORT_LINE = re.compile(r"import time:\s*(\d+) \|\s*(\d+) \| (\S.*)$")
MIB = 1024 * 1024


def runtime_path(into: Path) -> Path:
    """A directory holding only the runtime's boto3 and its dependencies (symlinks)."""
    into.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed in this interpreter")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)
    return into


def function_environment(task_root: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": "trendstream-bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STREAM_NAME": "trendstream-bench-tweets",
        "TABLE_NAME": "trendstream-bench-EventData",
        "LAKE_BUCKET": "trendstream-bench-lake-123456789012",
        "TWEET_SOURCE": "replay",
        "SENTIMENT_ENGINE": "vader",
        "POWERTOOLS_SERVICE_NAME": "trendstream-bench",
        "POWERTOOLS_METRICS_NAMESPACE": "trendstream",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


@dataclass(frozen=True)
class ImportSample:
    wall_ms: float
    """Cumulative ``import app`` time reported by ``-X importtime`` (wall clock)."""
    cpu_ms: float
    """CPU time of the same import (``time.process_time``): what a loaded host cannot inflate."""


CHILD = (
    "import sys, time; sys.path[:0] = [{task_root!r}, {runtime!r}]; "
    "started = time.process_time(); import app; "
    "print(time.process_time() - started)"
)


def fresh_process(
    options: Sequence[str], code: str, environment: dict[str, str], what: str
) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh, isolated interpreter (as a cold Lambda runtime starts); a failure
    raises naming ``what`` failed and the child's last line of error output."""
    completed = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-I", "-S", *options, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{what} failed: {tail[0]}")
    return completed


def import_sample(task_root: Path, runtime: Path) -> ImportSample:
    """``import app`` in a fresh interpreter: importtime's cumulative figure and the CPU time."""
    code = CHILD.format(task_root=str(task_root), runtime=str(runtime))
    completed = fresh_process(
        ["-X", "importtime"], code, function_environment(task_root), "import app"
    )
    cpu_ms = float(completed.stdout.strip()) * 1000
    for line in completed.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match and match.group(3) == "app":
            return ImportSample(wall_ms=int(match.group(2)) / 1000, cpu_ms=cpu_ms)
    raise RuntimeError("no import time line for app")


def unzipped_bytes(archive: Path) -> int:
    with zipfile.ZipFile(archive) as opened:
        return sum(info.file_size for info in opened.infolist())


def cold_import_figures(build_dir: Path, runs: int, zips: Sequence[str] = ZIPS) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="trendstream-bench-import-") as scratch:
        runtime = runtime_path(Path(scratch) / "runtime")
        for name in zips:
            archive = build_dir / f"{name}.zip"
            key = f"{name}_cold_import_ms"
            title = f"cold import of {name} app (-X importtime, fresh process)"
            if not archive.exists():
                figures.append(unavailable(key, title, "ms", f"{archive} missing: make build"))
                continue
            task_root = Path(scratch) / name
            with zipfile.ZipFile(archive) as opened:
                opened.extractall(task_root)
            try:
                samples = [import_sample(task_root, runtime) for _ in range(runs)]
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
                figures.append(unavailable(key, title, "ms", str(error), IMPORT_GOAL))
                continue
            size, unzipped = archive.stat().st_size, unzipped_bytes(archive)
            cpu = Spread.of([sample.cpu_ms for sample in samples])
            figures.append(
                Figure(
                    key,
                    title,
                    "ms",
                    Spread.of([sample.wall_ms for sample in samples]),
                    IMPORT_GOAL,
                    baseline=(
                        f"CPU {number(cpu.median)} ms ({number(cpu.low)}-{number(cpu.high)}); "
                        f"zip {number(size / MIB)} MiB, unzipped {number(unzipped / MIB)} MiB"
                    ),
                    details={
                        "zip_bytes": size,
                        "unzipped_bytes": unzipped,
                        "wall_ms": [sample.wall_ms for sample in samples],
                        "cpu_ms": [sample.cpu_ms for sample in samples],
                    },
                )
            )
    return figures
