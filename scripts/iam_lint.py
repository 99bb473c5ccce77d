"""Lint every IAM policy the stack renders with parliament; exit 1 on any finding not excused.

The policies are rendered offline: `terraform test` applies the stack against the mocked AWS
provider (terraform/tests/iam_policies.tftest.hcl, ARNs of the right shape from
terraform/tests/mocks) and prints the resulting state with `-json -verbose`. Identity policies
(role policies), the KMS key policy and the bucket, queue and topic policies are checked; the
linter's findings (unknown actions or prefixes, resources that match none of an action's
resource types, malformed statements...) fail the lint unless scripts/iam_lint_exceptions.toml
excuses them, each with its reason.

Runs with the parliament venv's interpreter (`make lint`): standard library and parliament only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parliament import analyze_policy_string

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = ROOT / "scripts" / "terraform"
RENDER_TEST = "tests/iam_policies.tftest.hcl"
EXCEPTIONS = ROOT / "scripts" / "iam_lint_exceptions.toml"

# Resource type -> the attribute holding a policy document, and whether it must hold one.
POLICY_ATTRIBUTES: Mapping[str, tuple[str, bool]] = {
    "aws_iam_role_policy": ("policy", True),
    "aws_iam_policy": ("policy", True),
    "aws_iam_user_policy": ("policy", True),
    "aws_iam_group_policy": ("policy", True),
    "aws_kms_key": ("policy", True),
    "aws_s3_bucket_policy": ("policy", True),
    "aws_sqs_queue_policy": ("policy", True),
    "aws_sns_topic_policy": ("policy", True),
    # Inline policies of these are optional (and computed, so mocked, when not configured).
    "aws_sqs_queue": ("policy", False),
    "aws_sns_topic": ("policy", False),
}


@dataclass(frozen=True)
class Finding:
    policy: str
    issue: str
    detail: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.issue}: {self.detail}"


@dataclass(frozen=True)
class Exception_:
    issue: str
    policy: str
    detail: str
    reason: str

    def excuses(self, finding: Finding) -> bool:
        return (
            finding.issue == self.issue
            and fnmatch.fnmatchcase(finding.policy, self.policy)
            and self.detail in finding.detail
        )


def render_state() -> Mapping[str, Any]:
    """The stack's state as `terraform test` leaves it against the mocked provider."""
    completed = subprocess.run(  # noqa: S603 - our terraform wrapper, fixed arguments
        [
            str(TERRAFORM),
            f"-chdir={ROOT / 'terraform'}",
            "test",
            f"-filter={RENDER_TEST}",
            "-json",
            "-verbose",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in completed.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "test_state":
            state: Mapping[str, Any] = message["test_state"]
            return state
    sys.exit(f"iam-lint: terraform test printed no state:\n{completed.stdout}{completed.stderr}")


def _modules(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield module
    for child in module.get("child_modules", []):
        yield from _modules(child)


def rendered_policies(state: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(resource address, policy JSON) for every policy document in the state."""
    for module in _modules(state["root_module"]):
        for resource in module.get("resources", []):
            attribute = POLICY_ATTRIBUTES.get(resource["type"])
            if attribute is None or resource.get("mode") != "managed":
                continue
            name, required = attribute
            document = resource.get("values", {}).get(name) or ""
            try:
                parsed = json.loads(document)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and "Statement" in parsed:
                yield resource["address"], document
            elif required:
                sys.exit(f"iam-lint: {resource['address']}.{name} is not a policy: {document!r}")


def lint(address: str, document: str) -> list[Finding]:
    policy = analyze_policy_string(document, filepath=address)
    return [
        Finding(address, finding.issue, json.dumps(finding.detail, default=str, sort_keys=True))
        for finding in policy.findings
    ]


def load_exceptions(path: Path) -> list[Exception_]:
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("exception", [])
    exceptions = []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            sys.exit(f"iam-lint: an exception in {path} has no reason: {entry}")
        exceptions.append(
            Exception_(entry["issue"], entry["policy"], entry.get("detail", ""), entry["reason"])
        )
    return exceptions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    parser.add_argument("--state", type=Path, help="a saved state JSON instead of rendering one")
    args = parser.parse_args(argv)
    state = json.loads(args.state.read_text()) if args.state else render_state()
    exceptions = load_exceptions(args.exceptions)
    policies = list(rendered_policies(state))
    findings = [finding for address, document in policies for finding in lint(address, document)]
    used = {exception for exception in exceptions for f in findings if exception.excuses(f)}
    failing = [f for f in findings if not any(e.excuses(f) for e in exceptions)]
    for finding in failing:
        print(f"iam-lint: {finding}")
    for exception in exceptions:
        if exception not in used:
            print(f"iam-lint: stale exception (matches nothing): {exception}")
    print(
        f"iam-lint: {len(policies)} policies, {len(findings)} findings, "
        f"{len(findings) - len(failing)} excused, {len(failing)} failing"
    )
    return 1 if failing or len(used) < len(exceptions) else 0


if __name__ == "__main__":
    sys.exit(main())
