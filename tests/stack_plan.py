"""`terraform plan`, refresh and show of the emulator stack, for the tests that expect a second
plan to show no changes or read the state: the toolkit itself never does either, so this lives
with the tests."""

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


def refresh_stack(endpoint: str, paths: stack.StackPaths) -> None:
    """`terraform apply -refresh-only`: the state read back from the emulator, nothing changed."""
    stack._ensure_initialised(endpoint, paths)
    stack._terraform(
        [
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-json",
            f"-parallelism={stack.PARALLELISM}",
            *stack._stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
    )


def show_state(endpoint: str, paths: stack.StackPaths) -> str:
    """`terraform show -json` of the stack's state, as Terraform prints it."""
    stack._ensure_initialised(endpoint, paths)
    completed = stack._run_terraform(
        ["show", "-json", "-no-color", str(paths.tfstate)], endpoint, paths
    )
    if completed.returncode != 0:
        raise stack.TerraformError(f"terraform show failed:\n{completed.stderr}")
    return completed.stdout
