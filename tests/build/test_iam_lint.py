"""`make lint`'s IAM linter: parliament over every policy the stack renders, exceptions listed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARLIAMENT_PYTHON = ROOT / ".venv" / "parliament" / "bin" / "python"
SCRIPT = ROOT / "scripts" / "iam_lint.py"


def run_lint(*arguments: str) -> subprocess.CompletedProcess[str]:
    if not PARLIAMENT_PYTHON.is_file():
        pytest.fail("the parliament venv is missing: `make test` and `make lint` install it")
    return subprocess.run(  # noqa: S603 - our script under the pinned linter's interpreter
        [str(PARLIAMENT_PYTHON), str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def state_with_role_policy(*statements: dict[str, object]) -> dict[str, object]:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    return {
        "root_module": {
            "resources": [
                {
                    "address": "module.consumer.aws_iam_role_policy.this",
                    "mode": "managed",
                    "type": "aws_iam_role_policy",
                    "values": {"policy": json.dumps(policy)},
                }
            ]
        }
    }


def test_unknown_actions_and_mismatched_resources_fail_the_lint(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            state_with_role_policy(
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:TransactWriteItems"],
                    "Resource": ["arn:aws:dynamodb:us-east-1:123456789012:table/t"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject"],
                    "Resource": ["arn:aws:s3:::bucket"],
                },
            )
        )
    )
    no_exceptions = tmp_path / "exceptions.toml"
    no_exceptions.write_text("")

    result = run_lint("--state", str(state), "--exceptions", str(no_exceptions))

    assert result.returncode == 1
    assert "UNKNOWN_ACTION" in result.stdout
    assert "dynamodb:TransactWriteItems" in result.stdout
    assert "RESOURCE_MISMATCH" in result.stdout


def test_an_exception_without_a_reason_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_with_role_policy()))
    exceptions = tmp_path / "exceptions.toml"
    exceptions.write_text('[[exception]]\nissue = "RESOURCE_STAR"\npolicy = "*"\n')

    result = run_lint("--state", str(state), "--exceptions", str(exceptions))

    assert result.returncode != 0
    assert "has no reason" in result.stderr


@pytest.mark.slow
def test_every_policy_the_stack_renders_passes_with_the_listed_exceptions() -> None:
    init = subprocess.run(  # noqa: S603 - our terraform wrapper, fixed arguments
        [str(ROOT / "scripts" / "terraform"), "-chdir=terraform", "init", "-backend=false"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert init.returncode == 0, init.stdout + init.stderr

    result = run_lint()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failing" in result.stdout
