"""Which stack to verify: its Terraform outputs, and where boto3 finds its AWS."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trendstream_cli import outputs as stack_outputs
from trendstream_cli import stack


class TargetError(Exception):
    """The stack to verify cannot be found: no outputs, no running emulator, a bad file."""


@dataclass(frozen=True)
class Target:
    """The stack to verify: its Terraform outputs and where its AWS is."""

    outputs: dict[str, Any]
    description: str
    environment: dict[str, str] = field(default_factory=dict)
    """Variables that point boto3 at the emulator (empty for AWS: the default chain decides)."""
    local: bool = False

    @property
    def region(self) -> str | None:
        """The stack's own region when its outputs say it, so a default elsewhere cannot
        send the check to another region; else the default chain decides."""
        region = self.outputs.get("region")
        return region if isinstance(region, str) and region else None


def local_target(state_dir: Path) -> Target:
    """The stack `trendstream up` applied, reached at the emulator endpoint it recorded."""
    from local_aws.moto_server import emulator_environment  # noqa: PLC0415

    try:
        outputs, endpoint = stack_outputs.local_stack(state_dir)
    except stack_outputs.StackOutputsError as error:
        raise TargetError(str(error)) from error
    return Target(
        outputs=outputs,
        description=f"local stack at {endpoint}",
        environment=emulator_environment(endpoint),
        local=True,
    )


def outputs_file_target(path: Path) -> Target:
    """A stack named by a `terraform output -json` file, reached as the environment says."""
    try:
        outputs = stack_outputs.read_outputs_file(path)
    except (OSError, ValueError, TypeError) as error:
        raise TargetError(f"cannot read the outputs file {path}: {error}") from error
    return Target(outputs=outputs, description=f"outputs in {path}")


def terraform_target(terraform_dir: Path = stack.TERRAFORM_DIR) -> Target:
    """The outputs of the state `terraform output` reads in `terraform_dir` (as `make deploy`
    left it: backend, workspace and data directory come from the environment)."""
    command = [str(stack.TERRAFORM_WRAPPER), f"-chdir={terraform_dir}", "output", "-json"]
    try:
        completed = subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
            command, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise TargetError(f"cannot run terraform: {error}") from error
    if completed.returncode != 0:
        raise TargetError(f"`terraform output -json` failed: {completed.stderr.strip()}")
    try:
        raw = json.loads(completed.stdout or "{}")
    except ValueError as error:
        raise TargetError(f"`terraform output -json` printed no JSON: {error}") from error
    if not isinstance(raw, dict) or not raw:
        raise TargetError(f"no Terraform outputs in {terraform_dir}: is the stack deployed?")
    return Target(
        outputs=stack_outputs.flatten_outputs(raw),
        description=f"terraform output of {terraform_dir}",
    )
