"""Static checks of terraform/: formatting, validation, the mocked `terraform test` suites and the
IAM wildcard rule itself."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.terraform.iam_policies import identity_policies, policy_violations

from tweet_record.activity import ACTIVITY_INDEX

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
TERRAFORM = REPO_ROOT / "scripts" / "terraform"


def run_terraform(
    arguments: Sequence[str], data_dir: Path, *, timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run terraform on terraform/ with its own data directory, so parallel runs never share one."""
    return subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
        [str(TERRAFORM), f"-chdir={TERRAFORM_DIR}", *arguments],
        env={**os.environ, "TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1"},
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory where `terraform init -backend=false` installed the provider and modules."""
    data_dir = tmp_path_factory.mktemp("terraform-static") / ".terraform"
    completed = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], data_dir)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return data_dir


def test_terraform_files_are_formatted(tmp_path: Path) -> None:
    completed = run_terraform(["fmt", "-check", "-recursive", "-diff", "-no-color"], tmp_path)

    assert completed.returncode == 0, f"run `make fmt`:\n{completed.stdout}{completed.stderr}"


@pytest.mark.slow
def test_configuration_is_valid(initialised: Path) -> None:
    completed = run_terraform(["validate", "-no-color"], initialised)

    assert completed.returncode == 0, completed.stdout + completed.stderr


TEST_FILES = sorted(path.name for path in (TERRAFORM_DIR / "tests").glob("*.tftest.hcl"))


def test_every_test_file_is_run() -> None:
    assert {"stack.tftest.hcl", "modules.tftest.hcl"} <= set(TEST_FILES)


@pytest.mark.slow
@pytest.mark.parametrize("test_file", TEST_FILES)
def test_terraform_test_suites_pass(initialised: Path, test_file: str) -> None:
    """One file a run, so the files run side by side on the suite's workers."""
    completed = run_terraform(
        ["test", "-no-color", f"-filter=tests/{test_file}"], initialised, timeout=600
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed, 0 failed" in completed.stdout, completed.stdout


def test_every_module_follows_the_module_layout() -> None:
    modules = sorted(path for path in (TERRAFORM_DIR / "modules").iterdir() if path.is_dir())

    assert modules, "terraform/modules is empty"
    for module in modules:
        present = {path.name for path in module.glob("*.tf")}
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= present, module.name


# The wildcard rule itself: each case below must be flagged or accepted exactly as stated.


def test_exact_actions_on_exact_resources_pass() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kinesis:PutRecords"],
                "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            },
            {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        ]
    }

    assert policy_violations(document) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "wildcard action s3:*"),
        ({"Action": ["dynamodb:Get*"], "Resource": "arn:aws:dynamodb:::t"}, "dynamodb:Get*"),
        ({"Action": "s3:PutObject", "Resource": "*"}, "s3:PutObject on Resource '*'"),
        ({"Action": "*", "Resource": "*"}, "wildcard action *"),
        ({"NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    ],
)
def test_broad_grants_are_reported(statement: dict[str, object], expected: str) -> None:
    document = {"Statement": {"Sid": "Broad", "Effect": "Allow", **statement}}

    problems = policy_violations(document)

    assert any(expected in problem for problem in problems), problems


def test_deny_statements_may_be_broad() -> None:
    document = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}

    assert policy_violations(document) == []


def test_policies_are_found_in_nested_modules_of_a_plan() -> None:
    policy = '{"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}'
    shown = {
        "planned_values": {
            "root_module": {
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.f.aws_iam_role_policy.this",
                                "type": "aws_iam_role_policy",
                                "values": {"policy": policy},
                            },
                            {
                                "address": "module.f.aws_iam_role.this",
                                "type": "aws_iam_role",
                                "values": {"assume_role_policy": policy},
                            },
                        ]
                    }
                ]
            }
        }
    }

    documents = identity_policies(shown)

    assert list(documents) == ["module.f.aws_iam_role_policy.this"]
    assert policy_violations(documents["module.f.aws_iam_role_policy.this"])


def test_the_discovery_index_has_the_name_the_functions_query() -> None:
    variables = (TERRAFORM_DIR / "modules" / "event_table" / "variables.tf").read_text("utf-8")
    declared = variables.split('variable "activity_index_name"', 1)[1]
    assert f'default     = "{ACTIVITY_INDEX}"' in declared.split("validation", 1)[0]
