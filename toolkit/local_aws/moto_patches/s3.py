"""S3: a bucket policy's `aws:SecureTransport` condition is evaluated, as true.

moto 5.2.5 evaluates only `StringEquals` conditions and ignores every other operator, so the
standard deny-non-TLS statement (Deny s3:* when `Bool aws:SecureTransport = false`) denies every
object call unconditionally: each GetObject/PutObject answers 403.

The emulator binds 127.0.0.1 only; a request never leaves the host, which is the property TLS
provides in AWS. So every request counts as secure transport: statements conditioned on
`aws:SecureTransport` apply exactly when their expected value is "true". Statements with other
conditions keep moto's behaviour.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket

SECURE_TRANSPORT_KEY = "aws:securetransport"
LOOPBACK_IS_SECURE = "true"
_BOOL_OPERATORS = frozenset({"Bool", "BoolIfExists"})


def resolve_secure_transport(statement: dict[str, Any]) -> dict[str, Any] | None:
    """The statement with its SecureTransport condition settled: None when it does not apply."""
    conditions: dict[str, dict[str, Any]] = statement.get("Condition") or {}
    remaining: dict[str, dict[str, Any]] = {}
    for operator, entries in conditions.items():
        kept = {}
        for key, expected in entries.items():
            if operator in _BOOL_OPERATORS and key.lower() == SECURE_TRANSPORT_KEY:
                values = expected if isinstance(expected, list) else [expected]
                if LOOPBACK_IS_SECURE not in {str(value).lower() for value in values}:
                    return None
            else:
                kept[key] = expected
        if kept:
            remaining[operator] = kept
    resolved = {key: value for key, value in statement.items() if key != "Condition"}
    if remaining:
        resolved["Condition"] = remaining
    return resolved


def get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(self.policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    applicable = [
        resolved
        for resolved in (resolve_secure_transport(statement) for statement in statements)
        if resolved is not None
    ]
    policy = IAMPolicy(json.dumps({**document, "Statement": applicable}))
    result: PermissionResult = policy.is_action_permitted(action, resource)
    return result


def apply() -> None:
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
