"""Which stack to verify: its Terraform outputs, and where boto3 finds its AWS."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trendstream_cli import outputs as stack_outputs
from trendstream_cli import stack


class TargetError(Exception):
    """The stack to verify cannot be found: no outputs, no running emulator, a bad file."""


class NoDeploymentError(TargetError):
    """No stack is deployed for the environment: the message says, in one line, what to run."""

    def __init__(self, environment: str) -> None:
        self.environment = environment
        super().__init__(
            f"no stack is deployed for ENV={environment}: after `make up` (and `make run`), "
            f"run `make verify ENV=local`; `make deploy ENV={environment}` deploys to AWS"
        )


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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


def terraform_target(
    terraform_dir: Path = stack.TERRAFORM_DIR, environ: Mapping[str, str] = os.environ
) -> Target:
    """The outputs of the state `terraform output` reads in `terraform_dir` (as `make deploy`
    left it: backend, workspace and data directory come from the environment).

    An environment never deployed from here (`make deploy` creates its data directory,
    ``TF_DATA_DIR``), or whose state has no outputs, is a ``NoDeploymentError``: one line, not
    Terraform's advice to run `terraform init`.
    """
    environment = environ.get("TF_WORKSPACE") or "default"
    data_dir = environ.get("TF_DATA_DIR")
    if data_dir and not Path(data_dir).is_dir():
        raise NoDeploymentError(environment)
    command = [
        str(stack.TERRAFORM_WRAPPER), f"-chdir={terraform_dir}", "output", "-no-color", "-json"
    ]  # fmt: skip
    try:
        completed = subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
            command, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise TargetError(f"cannot run terraform: {error}") from error
    if completed.returncode != 0:
        raise TargetError(f"`terraform output -json` failed: {_first_line(completed.stderr)}")
    try:
        raw = json.loads(completed.stdout or "{}")
    except ValueError as error:
        raise TargetError(f"`terraform output -json` printed no JSON: {error}") from error
    if not isinstance(raw, dict) or not raw:
        raise NoDeploymentError(environment)
    return Target(
        outputs=stack_outputs.flatten_outputs(raw),
        description=f"terraform output of {terraform_dir}",
    )


def _first_line(text: str) -> str:
    """Terraform's first line of error, without colour codes (the rest is advice)."""
    lines = [line.strip() for line in _ANSI_ESCAPE.sub("", text).splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"
