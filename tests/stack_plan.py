"""`terraform plan` of the emulator stack, for the tests that expect a second plan to show no
changes: the toolkit itself never plans without applying, so this lives with the tests."""

from __future__ import annotations

from trendstream_cli import stack

PLAN_NO_CHANGES, PLAN_HAS_CHANGES = 0, 2
"""`terraform plan -detailed-exitcode`'s statuses; any other is an error."""


def plan_has_changes(endpoint: str, paths: stack.StackPaths) -> bool:
    """True when `terraform plan` would change anything, with the variables of the last apply."""
    stack._ensure_initialised(endpoint, paths)
    status = stack._terraform(
        ["plan", "-detailed-exitcode", "-lock=false", *stack._stack_arguments(endpoint, paths)],
        endpoint,
        paths,
        accepted=(PLAN_NO_CHANGES, PLAN_HAS_CHANGES),
    )
    return status == PLAN_HAS_CHANGES
