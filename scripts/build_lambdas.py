"""Build the three Lambda zips reproducibly.

Each zip holds `app.py` at its root (handler `app.lambda_handler`), the function's own package,
the shared `tweet_record` and `function_support` packages and the function's pinned
dependencies, minus boto3/botocore/s3transfer, which the Lambda runtime provides. Timestamps,
ordering and permissions are fixed so the same sources give byte-identical zips: Terraform's
`source_code_hash` then changes only when code does.

`src/` holds only what ships: the build refuses a file or package there that no zip declares, and
checks every zip it writes: each entry must be `app.py`, the function's package, a shared package,
or a file of one of the function's pinned distributions (by the distribution's RECORD), and every
pinned distribution must be there.

Sources are byte-compiled with unchecked-hash .pyc files: Lambda's file system is read-only, so
without them every cold start compiles every module again. `py_compile` writes bytecode for the
interpreter it runs in, so the build refuses any Python but the Lambda runtime's: another version's
.pyc would be ignored by the runtime (a bad magic number), and every cold start would compile again.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
REQUIREMENTS = REPO / "requirements"

LAMBDA_PYTHON_VERSION = "3.11"
LAMBDA_BYTECODE_TAG = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
LAMBDA_PLATFORM = "x86_64-manylinux2014"
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer"})
SHARED_PACKAGES = ("tweet_record", "function_support")
DEPENDENCY_CACHE_LAYOUT = "site+pyc"  # change it when the cached tree's layout changes
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_NAMES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
# Console scripts (nothing runs them in Lambda) and the installer's lock file (no distribution's).
DEPENDENCY_ENTRIES_LEFT_OUT = frozenset({"bin", ".lock"})
SKIPPED_DIST_INFO_FILES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

logger = logging.getLogger("build_lambdas")


@dataclass(frozen=True)
class Function:
    """A Lambda function: its source package and its requirements file share one name."""

    name: str

    @property
    def package_dir(self) -> Path:
        return SRC / self.name

    @property
    def requirements(self) -> Path:
        return REQUIREMENTS / f"{self.name}.txt"


FUNCTIONS = (Function("producer"), Function("consumer"), Function("firehose_transformer"))
FUNCTIONS += (Function("api"),)  # the read API (src/api)


def declared_packages() -> frozenset[str]:
    """The only entries `src/` may hold: every function's package and the shared packages."""
    return frozenset({*SHARED_PACKAGES, *(function.name for function in FUNCTIONS)})


def undeclared_sources(src: Path) -> list[str]:
    """Entries of `src/` that no zip declares (a stray package, module or file)."""
    return sorted(
        entry.name
        for entry in src.iterdir()
        if entry.name not in declared_packages()
        and entry.name not in SKIPPED_NAMES
        and not entry.name.endswith(".egg-info")  # an editable install's metadata, never zipped
    )


def canonical_name(distribution: str) -> str:
    """A distribution's name as PEP 503 normalises it (`python_dateutil` is `python-dateutil`)."""
    return "-".join(part for part in distribution.lower().replace("_", "-").split("-") if part)


def pinned_distributions(requirements: Path) -> frozenset[str]:
    """`name==version` of every bundled pin, names normalised."""
    pins = set()
    for line in bundled_requirements(requirements):
        name, _, version = line.partition("==")
        pins.add(f"{canonical_name(name.split('[', 1)[0])}=={version.strip()}")
    return frozenset(pins)


def compiled_source(name: str) -> str | None:
    """The source a compiled module stands beside: `pkg/__pycache__/mod.cpython-311.pyc` ->
    `pkg/mod.py`; None for a name that is no compiled module."""
    parent, _, file_name = name.rpartition("/")
    directory, _, cache = parent.rpartition("/")
    module, _, suffix = file_name.partition(".")
    if cache != "__pycache__" or suffix != "cpython-311.pyc":
        return None
    return f"{directory}/{module}.py" if directory else f"{module}.py"


def distribution_files(archive: zipfile.ZipFile, record: str) -> set[str]:
    """The files a distribution installed, as its RECORD lists them (PEP 376)."""
    with archive.open(record) as raw:
        rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8"))
        return {row[0] for row in rows if row}


def zip_problems(archive: zipfile.ZipFile, function: Function) -> list[str]:
    """What a zip holds beyond `app.py`, the function's and the shared packages and its pinned
    distributions; and the pinned distributions it lacks.

    A distribution's files are the ones its RECORD lists; the compiled module the build writes
    beside a listed source is the distribution's too.
    """
    names = [name for name in archive.namelist() if not name.endswith("/")]
    records = [name for name in names if re.fullmatch(r"[^/]+\.dist-info/RECORD", name)]
    found = set()
    shipped_by_distributions: set[str] = set()
    for record in records:
        distribution, _, version = record.split("/", 1)[0].removesuffix(".dist-info").partition("-")
        found.add(f"{canonical_name(distribution)}=={version}")
        shipped_by_distributions |= distribution_files(archive, record)
    pins = pinned_distributions(function.requirements)
    problems = [f"distribution {pin} is not pinned" for pin in sorted(found - pins)]
    problems += [f"pinned distribution {pin} is missing" for pin in sorted(pins - found)]
    own_packages = {function.name, *SHARED_PACKAGES}
    for name in names:
        if name == "app.py" or compiled_source(name) == "app.py":
            continue
        if name.split("/", 1)[0] in own_packages:
            continue
        if name in shipped_by_distributions or compiled_source(name) in shipped_by_distributions:
            continue
        problems.append(f"{name} belongs to no declared package or pinned distribution")
    return problems


def running_python() -> str:
    """The version of the interpreter running the build (what `py_compile` writes bytecode for)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def require_lambda_python() -> None:
    """Stop before building anything when this interpreter is not the Lambda runtime's."""
    running = running_python()
    if running != LAMBDA_PYTHON_VERSION:
        raise SystemExit(
            f"build_lambdas: this is Python {running}, but the functions run on Lambda's "
            f"python{LAMBDA_PYTHON_VERSION} runtime and the zips ship .pyc files compiled by the "
            f"interpreter that builds them: run it with Python {LAMBDA_PYTHON_VERSION} "
            "(`make build` runs .venv's: `PYTHON=python3.11 make venv` where python3 is another)"
        )


def bundled_requirements(requirements: Path) -> list[str]:
    """Pinned requirement lines without the packages the Lambda runtime already has."""
    lines = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split("==", 1)[0].split("[", 1)[0].strip().lower()
        if name not in PROVIDED_BY_RUNTIME:
            lines.append(line)
    return lines


def uv_executable() -> str:
    beside_python = Path(sys.executable).parent / "uv"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("uv")
    if found is None:
        raise SystemExit("uv not found: run `make venv` first")
    return found


def install_dependencies(function: Function, cache_dir: Path) -> Path:
    """Install the function's dependencies once per requirements content; reuse them afterwards."""
    pins = bundled_requirements(function.requirements)
    digest = hashlib.sha256(
        "\n".join([DEPENDENCY_CACHE_LAYOUT, LAMBDA_PYTHON_VERSION, LAMBDA_PLATFORM, *pins]).encode()
    )
    target = cache_dir / f"{function.name}-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir) as staging:
        pinned = Path(staging) / "requirements.txt"
        pinned.write_text("\n".join(pins) + "\n")
        site = Path(staging) / "site"
        subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [
                uv_executable(),
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(site),
                "--python-version",
                LAMBDA_PYTHON_VERSION,
                "--python-platform",
                LAMBDA_PLATFORM,
                "--only-binary",
                ":all:",
                "-r",
                str(pinned),
            ],
            check=True,
        )
        compile_tree(site, site)
        site.rename(target)
    return target


def compile_tree(root: Path, base: Path) -> None:
    """Write unchecked-hash .pyc files beside every module under root (deterministic output)."""
    modules = [root] if root.is_file() else sorted(root.rglob("*.py"))
    for module in modules:
        py_compile.compile(
            str(module),
            cfile=str(module.parent / "__pycache__" / f"{module.stem}.{LAMBDA_BYTECODE_TAG}.pyc"),
            dfile=str(module.relative_to(base)),
            doraise=False,
            quiet=2,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )


def source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIPPED_NAMES.intersection(path.relative_to(root).parts):
            if path.suffix in {".pyc", ".pyo"}:
                continue
            if path.parent.name.endswith(".dist-info") and path.name in SKIPPED_DIST_INFO_FILES:
                continue
            yield path


def stage(function: Function, dependencies: Path, staging: Path) -> None:
    """Lay out the zip's tree: deps, shared packages, the function package, app.py at the root."""
    for entry in sorted(dependencies.iterdir()):
        if entry.name in DEPENDENCY_ENTRIES_LEFT_OUT:
            continue
        if entry.is_dir():
            shutil.copytree(entry, staging / entry.name)
        else:
            shutil.copyfile(entry, staging / entry.name)
    for package in (*SHARED_PACKAGES, function.name):
        for path in source_files(SRC / package):
            destination = staging / package / path.relative_to(SRC / package)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    shutil.copyfile(function.package_dir / "app.py", staging / "app.py")
    for package in (*SHARED_PACKAGES, function.name):
        compile_tree(staging / package, staging)
    compile_tree(staging / "app.py", staging)


def write_zip(staging: Path, destination: Path) -> None:
    """Zip the tree with fixed timestamps, ordering and permissions so builds are byte-identical."""
    temporary = destination.with_suffix(".zip.tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    temporary.replace(destination)


def build(function: Function, out_dir: Path) -> Path:
    dependencies = install_dependencies(function, out_dir / "deps")
    with tempfile.TemporaryDirectory(dir=out_dir) as staging:
        stage(function, dependencies, Path(staging))
        destination = out_dir / f"{function.name}.zip"
        write_zip(Path(staging), destination)
    with zipfile.ZipFile(destination) as archive:
        problems = zip_problems(archive, function)
    if problems:
        destination.unlink()
        raise SystemExit(f"{destination.name} refused:\n  " + "\n  ".join(problems))
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build", help="output directory")
    parser.add_argument(
        "functions", nargs="*", default=[f.name for f in FUNCTIONS], help="functions to build"
    )
    args = parser.parse_args(argv)
    require_lambda_python()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out_dir: Path = args.out.resolve()
    stray = undeclared_sources(SRC)
    if stray:
        raise SystemExit(
            f"{SRC} holds only the functions' and the shared packages; no zip declares: "
            + ", ".join(stray)
        )
    (out_dir / "deps").mkdir(parents=True, exist_ok=True)
    for function in FUNCTIONS:
        if function.name not in args.functions:
            continue
        if not (function.package_dir / "app.py").exists():
            raise SystemExit(f"{function.package_dir / 'app.py'} is missing")
        archive = build(function, out_dir)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        logger.info(
            "%-28s %8.1f KiB  sha256 %s",
            archive.relative_to(out_dir.parent) if out_dir.parent in archive.parents else archive,
            archive.stat().st_size / 1024,
            digest[:16],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
