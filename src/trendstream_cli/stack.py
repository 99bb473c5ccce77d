"""Bring the local stack up and down: the emulator plus `terraform apply` / `destroy` against it.

Everything a local stack owns lives in one state directory (default `<repo>/.local`): the
emulator's pid and log, Terraform's state and data directory, its log, and the outputs as JSON.
Terraform always runs through `scripts/terraform` (which selects the offline provider mirror) on
`terraform/` with `environments/local.tfvars`; the emulator endpoint is the only input that
differs from a real deployment.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_aws.moto_server import (
    EmulatorHandle,
    emulator_environment,
    find_emulator,
    start_emulator,
    stop_emulator,
)

LOGGER = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
TERRAFORM_WRAPPER = REPO_ROOT / "scripts" / "terraform"
LOCAL_VAR_FILE = "environments/local.tfvars"
HOST = "127.0.0.1"

_LOG_TAIL_LINES = 60
PARALLELISM = 32
"""Terraform's default of 10 concurrent operations leaves resources queued behind the provider's
fixed waits (S3 lifecycle, SQS, Kinesis, KMS); the emulator serves far more than 10 at once."""
_PLAN_NO_CHANGES, _PLAN_HAS_CHANGES = 0, 2


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries the tail of its output."""


@dataclass(frozen=True)
class StackPaths:
    """Where one local stack keeps everything it owns."""

    state_dir: Path

    @property
    def tfstate(self) -> Path:
        return self.state_dir / "terraform.tfstate"

    @property
    def tf_data_dir(self) -> Path:
        return self.state_dir / ".terraform"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "emulator.pid"

    @property
    def emulator_log(self) -> Path:
        return self.state_dir / "emulator.log"

    @property
    def terraform_log(self) -> Path:
        return self.state_dir / "terraform.log"

    @property
    def outputs_file(self) -> Path:
        return self.state_dir / "outputs.json"

    @property
    def apply_vars_file(self) -> Path:
        """The extra variables of the last apply, so plan and destroy see the same inputs."""
        return self.state_dir / "apply-vars.json"


def default_state_dir() -> Path:
    return REPO_ROOT / ".local"


def apply_stack(
    endpoint: str, paths: StackPaths, *, extra_vars: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`terraform apply` the stack to the emulator at `endpoint`; returns and saves the outputs.

    `extra_vars` are remembered in the state directory for later plans and the destroy.
    """
    _ensure_initialised(endpoint, paths)
    paths.apply_vars_file.write_text(json.dumps(dict(extra_vars or {}), sort_keys=True) + "\n")
    started = time.monotonic()
    _terraform(
        [
            "apply",
            "-auto-approve",
            f"-parallelism={PARALLELISM}",
            *_stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
    )
    LOGGER.info("terraform apply finished in %.1fs", time.monotonic() - started)
    outputs = _collect_outputs(endpoint, paths)
    paths.outputs_file.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
    return outputs


def destroy_stack(endpoint: str, paths: StackPaths) -> None:
    """`terraform destroy` everything the state in `paths` records."""
    if not paths.tfstate.exists():
        LOGGER.info("no terraform state in %s: nothing to destroy", paths.state_dir)
        return
    _ensure_initialised(endpoint, paths)
    started = time.monotonic()
    # No refresh: only Terraform changes the emulator, and a refresh costs ~20s of provider reads.
    _terraform(
        [
            "destroy",
            "-auto-approve",
            "-refresh=false",
            f"-parallelism={PARALLELISM}",
            *_stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
    )
    LOGGER.info("terraform destroy finished in %.1fs", time.monotonic() - started)


def plan_has_changes(endpoint: str, paths: StackPaths) -> bool:
    """True when `terraform plan` would change anything (`-detailed-exitcode` 2)."""
    _ensure_initialised(endpoint, paths)
    status = _terraform(
        ["plan", "-detailed-exitcode", "-lock=false", *_stack_arguments(endpoint, paths)],
        endpoint,
        paths,
        accepted=(_PLAN_NO_CHANGES, _PLAN_HAS_CHANGES),
    )
    return status == _PLAN_HAS_CHANGES


def read_outputs(paths: StackPaths) -> dict[str, Any]:
    """The outputs the last apply saved, as name -> value."""
    try:
        text = paths.outputs_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{paths.outputs_file} does not exist: is the stack up (`make up`)?"
        ) from None
    outputs: dict[str, Any] = json.loads(text)
    return outputs


def up(
    paths: StackPaths, port: int, *, extra_vars: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Start the emulator on `port` (or reuse the one running for `paths`) and apply the stack.

    A failed apply stops the emulator and clears the state again, so nothing is left half-up.
    """
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    handle = _running_emulator(paths)
    if handle is None:
        # Emulator state lives in memory: state recorded against a stopped emulator is stale.
        _remove_stack_state(paths, keep_data_dir=True)
        LOGGER.info("starting the emulator on %s:%d", HOST, port)
        handle = start_emulator(port, pid_file=paths.pid_file, log_file=paths.emulator_log)
    else:
        LOGGER.info("reusing the emulator already running at %s", handle.endpoint)
    try:
        return apply_stack(handle.endpoint, paths, extra_vars=extra_vars)
    except BaseException:
        LOGGER.warning("apply failed; stopping the emulator (log: %s)", paths.terraform_log)
        stop_emulator(handle, pid_file=paths.pid_file)
        _remove_stack_state(paths)
        raise


def down(paths: StackPaths) -> None:
    """Destroy the stack, stop the emulator and remove all state; logs stay for reading."""
    handle = _running_emulator(paths)
    failure: TerraformError | None = None
    if handle is not None:
        try:
            destroy_stack(handle.endpoint, paths)
        except TerraformError as error:
            # The emulator's state dies with it anyway; still report the failed destroy.
            failure = error
        stop_emulator(handle, pid_file=paths.pid_file)
    else:
        LOGGER.info("no emulator running for %s", paths.state_dir)
        stop_emulator(pid_file=paths.pid_file)
    _remove_stack_state(paths)
    if failure is not None:
        raise failure


def running_endpoint(paths: StackPaths) -> str | None:
    """The endpoint of the emulator `up` started for `paths`, or None when none is running."""
    handle = _running_emulator(paths)
    return handle.endpoint if handle is not None else None


def _running_emulator(paths: StackPaths) -> EmulatorHandle | None:
    return find_emulator(paths.pid_file)


def _remove_stack_state(paths: StackPaths, *, keep_data_dir: bool = False) -> None:
    """Forget the stack: Terraform state, outputs and pid file (and the provider data dir)."""
    for state_file in (paths.tfstate, paths.outputs_file, paths.pid_file, paths.apply_vars_file):
        state_file.unlink(missing_ok=True)
    for backup in paths.state_dir.glob("terraform.tfstate*"):
        backup.unlink(missing_ok=True)
    if not keep_data_dir:
        shutil.rmtree(paths.tf_data_dir, ignore_errors=True)


def _stack_arguments(endpoint: str, paths: StackPaths) -> list[str]:
    try:
        extra_vars: dict[str, str] = json.loads(paths.apply_vars_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        extra_vars = {}
    arguments = [
        "-input=false",
        "-no-color",
        f"-state={paths.tfstate}",
        f"-var-file={LOCAL_VAR_FILE}",
        "-var",
        f"local_endpoint={endpoint}",
    ]
    for name, value in extra_vars.items():
        arguments += ["-var", f"{name}={value}"]
    return arguments


def _ensure_initialised(endpoint: str, paths: StackPaths) -> None:
    """`terraform init` unless this data directory is initialised and no .tf file changed since."""
    marker = paths.tf_data_dir / ".trendstream-initialised"
    if marker.exists():
        initialised_at = marker.stat().st_mtime
        sources = [*TERRAFORM_DIR.rglob("*.tf"), *TERRAFORM_DIR.glob(".terraform.lock.hcl")]
        if all(source.stat().st_mtime <= initialised_at for source in sources):
            return
    _terraform(["init", "-input=false", "-no-color"], endpoint, paths)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def _collect_outputs(endpoint: str, paths: StackPaths) -> dict[str, Any]:
    completed = _run_terraform(["output", "-json", f"-state={paths.tfstate}"], endpoint, paths)
    if completed.returncode != 0:
        raise TerraformError(f"terraform output failed:\n{completed.stderr}")
    raw: dict[str, dict[str, Any]] = json.loads(completed.stdout or "{}")
    return {name: entry["value"] for name, entry in raw.items()}


def _terraform(
    arguments: Sequence[str],
    endpoint: str,
    paths: StackPaths,
    *,
    accepted: Sequence[int] = (0,),
) -> int:
    """Run terraform, streaming its output into the terraform log with a timestamp per line.

    The timestamps show where an apply spends its time; an unaccepted exit status raises with the
    tail of the output.
    """
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    tail: deque[str] = deque(maxlen=_LOG_TAIL_LINES)
    with paths.terraform_log.open("a", encoding="utf-8") as log:
        log.write(f"\n{_now()} $ terraform {' '.join(arguments)}\n")
        process = subprocess.Popen(  # noqa: S603 - fixed wrapper script, arguments built here
            _command(arguments),
            env=_environment(endpoint, paths),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None  # noqa: S101 - guaranteed by stdout=PIPE
        with process:
            for line in process.stdout:
                log.write(f"{_now()} {line}")
                log.flush()
                tail.append(line.rstrip("\n"))
                LOGGER.debug("terraform: %s", line.rstrip())
    if process.returncode not in accepted:
        output = "\n".join(tail)
        raise TerraformError(
            f"terraform {arguments[0]} exited with {process.returncode}"
            f" (full log: {paths.terraform_log}):\n{output}"
        )
    return process.returncode


def _run_terraform(
    arguments: Sequence[str], endpoint: str, paths: StackPaths
) -> subprocess.CompletedProcess[str]:
    """Run terraform for its standard output (`output -json`)."""
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
        _command(arguments),
        env=_environment(endpoint, paths),
        capture_output=True,
        text=True,
        check=False,
    )


def _command(arguments: Sequence[str]) -> list[str]:
    return [str(TERRAFORM_WRAPPER), f"-chdir={TERRAFORM_DIR}", *arguments]


def _environment(endpoint: str, paths: StackPaths) -> dict[str, str]:
    return {
        **os.environ,
        **emulator_environment(endpoint),
        "TF_DATA_DIR": str(paths.tf_data_dir),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
