"""Every figure and count README.md states, read from the README and checked against the code,
the configuration or the data it describes: a change to either side that is not made to the
other fails here.

Durations the README gives (how long `make demo` and `make up` take, the provider's waits) are
measurements, not settings: `make bench` measures them (docs/performance.md), no test times them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from tests.chaos import test_chaos

from function_support.clients import BOTOCORE_MAX_ATTEMPTS
from local_aws.apigateway import DEFAULT_PORT_OFFSET
from local_aws.moto_patches import PINNED_MOTO_VERSION
from local_aws.moto_patches.awslambda import (
    MINIMUM_UNRESERVED_CONCURRENCY,
    NEW_ACCOUNT_CONCURRENCY,
)
from local_aws.moto_server import ACCOUNT_ID, REGION
from producer.kinesis_writer import MAX_RECORDS_PER_CALL

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
TERRAFORM = REPO / "terraform"
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

sys.path.insert(0, str(REPO / "scripts"))
import build_lambdas  # noqa: E402


def stated(pattern: str, text: str = README) -> tuple[str, ...]:
    """The groups of the one place `pattern` matches in the README (it must match exactly once)."""
    found = re.findall(pattern, text)
    assert len(found) == 1, f"README: {pattern!r} matches {len(found)} times"
    groups = found[0]
    return groups if isinstance(groups, tuple) else (groups,)


def number(text: str) -> int:
    return NUMBER_WORDS.get(text) or int(text.replace(",", ""))


def variable_default(name: str) -> str:
    variables = (TERRAFORM / "variables.tf").read_text(encoding="utf-8")
    block = re.search(rf'variable "{name}" \{{.*?\n\}}', variables, re.S)
    assert block is not None, name
    default = re.search(r"^\s*default\s*=\s*(.+)$", block.group(0), re.M)
    assert default is not None, name
    return default.group(1).strip().strip('"')


def tfvars(environment: str, name: str) -> str:
    text = (TERRAFORM / "environments" / f"{environment}.tfvars").read_text(encoding="utf-8")
    value = re.search(rf"^{name}\s*=\s*(.+)$", text, re.M)
    assert value is not None, (environment, name)
    return value.group(1).strip().strip('"')


def test_pytest_workers_are_the_makefiles() -> None:
    (workers,) = stated(r"runs the whole suite with (\w+) pytest workers")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    (flag,) = re.findall(r"\$\(BIN\)/pytest -n (\d+)", makefile)
    assert number(workers) == int(flag)


def test_demo_counts_are_the_replay_datasets() -> None:
    replay = REPO / "datasets" / "replay"
    counts = json.loads((replay / "manifest.json").read_text(encoding="utf-8"))["counts"]
    poison_lines = (replay / "poison.jsonl").read_text(encoding="utf-8").splitlines()
    pairs, poison = stated(r"replays\s+([\d,]+) \(topic, tweet\) pairs and (\d+) poison records")
    assert number(pairs) == counts["pairs"]
    assert number(poison) == counts["poison"] == len([line for line in poison_lines if line])
    expected = {
        "records produced to Kinesis (tweets + poison)": counts["pairs"] + counts["poison"],
        "tweets in DynamoDB (one per topic)": counts["pairs"],
        "tweets counted in the per-minute stats": counts["pairs"],
        "rows in the lake + dropped by filters": counts["pairs"],
        "poison records quarantined": counts["poison"],
    }
    for label, count in expected.items():
        row = stated(rf"│ {re.escape(label)}\s*│\s*(\d+) │\s*(\d+) │ ok │")
        assert (int(row[0]), int(row[1])) == (count, count), label


def test_chaos_run_size_is_the_chaos_tests() -> None:
    records, percent = stated(r"puts ([\d,]+)\s+records \((\d+) % poison\)")
    assert number(records) == test_chaos.PAIRS + test_chaos.POISON
    assert number(percent) == 100 * test_chaos.POISON // number(records)


def test_toolchain_versions_are_the_pinned_ones() -> None:
    python, terraform = stated(r"\(Python ([\d.]+), `make`, `terraform` ≥ ([\d.]+) on the")
    assert python == build_lambdas.LAMBDA_PYTHON_VERSION
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'requires-python = ">={python}"' in pyproject
    versions = (TERRAFORM / "versions.tf").read_text(encoding="utf-8")
    assert f'required_version = ">= {terraform}"' in versions
    mentioned = set(re.findall(r"moto (\d+\.\d+\.\d+)", README))
    toolkit = (REPO / "requirements" / "toolkit.in").read_text(encoding="utf-8")
    assert mentioned == {PINNED_MOTO_VERSION}
    assert f"moto[server,all]=={PINNED_MOTO_VERSION}" in toolkit


def test_emulator_address_account_and_api_port() -> None:
    ports = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", README)}
    emulator_port = 4566
    assert ports == {emulator_port, emulator_port + DEFAULT_PORT_OFFSET}
    (account,) = stated(r"account `(\d{12})`")
    assert account == ACCOUNT_ID
    assert "region\n`us-east-1`" in README or f"region `{REGION}`" in README
    moto_server = (REPO / "toolkit" / "local_aws" / "moto_server.py").read_text(encoding="utf-8")
    assert f'"LOCAL_AWS_PORT", "{emulator_port}"' in moto_server


def test_retry_and_batch_figures_are_the_products() -> None:
    (sends,) = stated(r"`UpdateItem` \((\d+) sends, jittered backoff\)")
    assert int(sends) == BOTOCORE_MAX_ATTEMPTS
    (batch,) = stated(r"PutRecords ≤(\d+)")
    assert int(batch) == MAX_RECORDS_PER_CALL


def test_lambda_concurrency_figures_are_the_emulators() -> None:
    account, minimum, below = stated(
        r"a new account's (\d+) \(`LOCAL_AWS_LAMBDA_CONCURRENCY` to model another\), and the "
        r"minimum unreserved concurrency \((\d+), or all of it below (\d+)\)"
    )
    assert int(account) == NEW_ACCOUNT_CONCURRENCY
    assert int(minimum) == int(below) == MINIMUM_UNRESERVED_CONCURRENCY


def test_demo_clock_speed_is_the_demos_default() -> None:
    (speed,) = stated(r"on a clock the demo runs (\d+)x faster")
    demo = (REPO / "toolkit" / "trendstream_cli" / "demo.py").read_text(encoding="utf-8")
    assert re.search(rf"default={speed}\.0,", demo)


@pytest.mark.parametrize(
    ("pattern", "check"),
    [
        (r"the next scheduled run \(every (\d+) minutes by default\)", "schedule"),
        (r"Firehose's buffering interval\n\((\d+) s in dev, (\d+) s in prod\)", "buffering"),
        (r"`producer_idle_alarm_runs` \((\d+)\) consecutive empty runs", "idle_runs"),
        (r"The stack goes to the `region` variable \(default `([a-z0-9-]+)`\)", "region"),
    ],
)
def test_deployment_defaults_are_terraforms(pattern: str, check: str) -> None:
    values = stated(pattern)
    if check == "schedule":
        assert variable_default("schedule_expression") == f"rate({values[0]} minutes)"
    elif check == "buffering":
        interval = "firehose_buffering_interval_seconds"
        assert (tfvars("dev", interval), tfvars("prod", interval)) == values
    elif check == "idle_runs":
        assert variable_default("producer_idle_alarm_runs") == values[0]
    else:
        assert variable_default("region") == values[0]
