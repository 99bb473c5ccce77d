"""The Lambda zips: contract layout, nothing the runtime provides, nothing undeclared,
byte-identical rebuilds."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import build_lambdas  # noqa: E402
from local_aws.lambda_service import lambda_runtime_site as runtime_site_for_workers  # noqa: E402

FUNCTIONS = ("producer", "consumer", "firehose_transformer", "api")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    assert build_lambdas.main(["--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("function", FUNCTIONS)
def test_zip_has_handler_at_root_and_shared_code(built: Path, function: str) -> None:
    names = set(zipfile.ZipFile(built / f"{function}.zip").namelist())
    assert "app.py" in names
    assert f"{function}/__init__.py" in names
    assert "tweet_record/__init__.py" in names
    assert "aws_lambda_powertools/__init__.py" in names


@pytest.mark.parametrize("function", FUNCTIONS)
def test_zip_leaves_out_what_the_lambda_runtime_provides(built: Path, function: str) -> None:
    top_level = {
        name.split("/", 1)[0] for name in zipfile.ZipFile(built / f"{function}.zip").namelist()
    }
    assert not top_level & {"boto3", "botocore", "s3transfer", "bin"}
    assert not any(name.endswith(".dist-info") and "boto" in name for name in top_level)


def test_producer_bundles_tweepy_and_consumers_bundle_vader(built: Path) -> None:
    producer = set(zipfile.ZipFile(built / "producer.zip").namelist())
    consumer = set(zipfile.ZipFile(built / "consumer.zip").namelist())
    assert "tweepy/__init__.py" in producer
    assert "vaderSentiment/vaderSentiment.py" in consumer
    assert "tweepy/__init__.py" not in consumer


def test_rebuild_is_byte_identical(built: Path, tmp_path: Path) -> None:
    assert build_lambdas.main(["--out", str(tmp_path)]) == 0
    for function in FUNCTIONS:
        first = hashlib.sha256((built / f"{function}.zip").read_bytes()).hexdigest()
        second = hashlib.sha256((tmp_path / f"{function}.zip").read_bytes()).hexdigest()
        assert first == second, function


@pytest.fixture(scope="module")
def lambda_runtime_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site directory the local runtime gives its workers: only what Lambda's runtime ships."""
    return runtime_site_for_workers(tmp_path_factory.mktemp("runtime"))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_imports_from_the_unzipped_zip_alone(
    built: Path, function: str, tmp_path: Path, lambda_runtime_site: Path
) -> None:
    """Only the zip and the runtime's packages on the path: a missing dependency fails here."""
    zipfile.ZipFile(built / f"{function}.zip").extractall(tmp_path)
    probe = "import app; assert callable(app.lambda_handler); print(app.__file__)"
    result = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path[:0] = {[str(tmp_path), str(lambda_runtime_site)]!r}; {probe}",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"POWERTOOLS_SERVICE_NAME": function, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "app.py")


def test_producer_zip_ships_no_demo_data(built: Path) -> None:
    """The replay dataset is demo data: the stack uploads it to S3 for tweet_source=replay only,
    so the zip that goes to AWS carries none of it."""
    names = zipfile.ZipFile(built / "producer.zip").namelist()
    own = [
        name
        for name in names
        if name.split("/", 1)[0] in ("producer", "tweet_record", "function_support", "app.py")
    ]

    assert not [name for name in names if "replay_dataset" in name or name.endswith(".jsonl")]
    assert not [name for name in own if name.endswith(".json")]
    assert (
        sum(
            info.file_size
            for info in zipfile.ZipFile(built / "producer.zip").infolist()
            if info.filename in own and not info.filename.endswith(".pyc")
        )
        < 300_000  # the sources; their compiled copies beside them are about 1.6 times as large
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_zip_holds_only_its_code_and_its_pinned_distributions(
    built: Path, function: str
) -> None:
    """The check the build runs on each zip it writes finds nothing in the zips it wrote."""
    declared = next(f for f in build_lambdas.FUNCTIONS if f.name == function)
    with zipfile.ZipFile(built / f"{function}.zip") as archive:
        assert build_lambdas.zip_problems(archive, declared) == []


def test_build_refuses_a_package_or_file_under_src_that_no_zip_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    for package in build_lambdas.declared_packages():
        (src / package).mkdir(parents=True)
    (src / "local_aws").mkdir()
    (src / "local_aws" / "__init__.py").write_text("")
    (src / "settings.py").write_text("")
    monkeypatch.setattr(build_lambdas, "SRC", src)

    with pytest.raises(SystemExit, match="no zip declares: local_aws, settings.py"):
        build_lambdas.main(["--out", str(tmp_path / "out")])


def test_build_refuses_a_zip_with_a_file_it_should_not_ship(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stray entry in the staged tree (here a module outside every package) fails the build
    and leaves no zip behind for Terraform to deploy."""
    stage = build_lambdas.stage

    def stage_with_a_stray_module(
        function: build_lambdas.Function, dependencies: Path, staging: Path
    ) -> None:
        stage(function, dependencies, staging)
        (staging / "fault_plan.py").write_text("")

    monkeypatch.setattr(build_lambdas, "stage", stage_with_a_stray_module)
    (tmp_path / "deps").symlink_to(built / "deps")

    with pytest.raises(SystemExit, match="fault_plan.py belongs to no declared package"):
        build_lambdas.main(["--out", str(tmp_path), "consumer"])
    assert not (tmp_path / "consumer.zip").exists()


def test_zip_check_names_an_unpinned_and_a_missing_distribution(
    built: Path, tmp_path: Path
) -> None:
    consumer = next(f for f in build_lambdas.FUNCTIONS if f.name == "consumer")
    tampered = tmp_path / "consumer.zip"
    with (
        zipfile.ZipFile(built / "consumer.zip") as original,
        zipfile.ZipFile(tampered, "w") as copy,
    ):
        for item in original.infolist():
            if not item.filename.startswith("orjson-"):
                copy.writestr(item, original.read(item))
        copy.writestr("leftpad/__init__.py", "")
        copy.writestr("leftpad-1.0.dist-info/RECORD", "leftpad/__init__.py,,\n")

    with zipfile.ZipFile(tampered) as archive:
        problems = build_lambdas.zip_problems(archive, consumer)

    assert "distribution leftpad==1.0 is not pinned" in problems
    assert any(p.startswith("pinned distribution orjson==") for p in problems)
    assert "orjson/__init__.py belongs to no declared package or pinned distribution" in problems


def test_build_refuses_an_interpreter_other_than_the_lambda_runtimes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda loads a .pyc only if its magic number is the runtime's own; `py_compile` writes the
    building interpreter's. Before, Python 3.12 built zips of 3.12 bytecode named cpython-311.

    "Building .zip deployment packages with native libraries" / "Working with .zip file archives
    for Python Lambda functions": https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
    (build with the runtime's Python version); the .pyc format: https://peps.python.org/pep-3147/
    """
    monkeypatch.setattr(build_lambdas, "running_python", lambda: "3.12")

    with pytest.raises(SystemExit) as refused:
        build_lambdas.main(["--out", str(tmp_path), "producer"])

    assert "this is Python 3.12" in str(refused.value)
    assert "python3.11 runtime" in str(refused.value)
    assert not list(tmp_path.glob("*.zip"))


def test_build_and_terraform_name_the_same_python() -> None:
    """The zips' bytecode and the functions' runtime are one version."""
    variables = (REPO / "terraform" / "modules" / "function" / "variables.tf").read_text()

    assert f'default     = "python{build_lambdas.LAMBDA_PYTHON_VERSION}"' in variables
    assert build_lambdas.LAMBDA_BYTECODE_TAG == "cpython-311"
