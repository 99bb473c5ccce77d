"""Find over-broad grants in the IAM policies of a Terraform state or plan (`terraform show -json`).

Identity policies of the stack must name exact actions on exact resources. The only exceptions are
actions AWS accepts with nothing but `"Resource": "*"` (X-Ray segments and telemetry, Comprehend
sentiment detection), so those are the allow-list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

STAR_RESOURCE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "comprehend:BatchDetectSentiment",
        "comprehend:DetectSentiment",
    }
)
"""Actions without resource-level permissions: AWS only accepts them on Resource "*"."""

IDENTITY_POLICY_TYPES = frozenset({"aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy"})


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def policy_violations(document: Mapping[str, Any]) -> list[str]:
    """Every way an IAM policy document grants more than exact actions on exact resources."""
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    problems: list[str] = []
    for index, statement in enumerate(statements):
        label = statement.get("Sid") or f"statement {index}"
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{label}: Allow with NotAction/NotResource grants everything else")
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        problems.extend(f"{label}: wildcard action {action}" for action in actions if "*" in action)
        if "*" in resources:
            problems.extend(
                f"{label}: {action} on Resource '*'"
                for action in actions
                if action not in STAR_RESOURCE_ACTIONS
            )
    return problems


def _modules(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield module
    for child in module.get("child_modules", []):
        yield from _modules(child)


def identity_policies(shown: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Policy documents by resource address, from `terraform show -json` of a state or a plan."""
    values = shown.get("planned_values") or shown.get("values") or {}
    documents: dict[str, dict[str, Any]] = {}
    for module in _modules(values.get("root_module", {})):
        for resource in module.get("resources", []):
            if resource.get("type") in IDENTITY_POLICY_TYPES:
                documents[resource["address"]] = json.loads(resource["values"]["policy"])
    return documents
