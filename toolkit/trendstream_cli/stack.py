"""Bring the local stack up and down: the emulator plus `terraform apply` / `destroy` against it.

Everything a local stack owns lives in one state directory (default `<repo>/.local`): the
emulator's pid and log, Terraform's state and data directory, its log, and the outputs as JSON.
Terraform always runs through `scripts/terraform` (which selects the offline provider mirror) on
`terraform/` with `environments/local.tfvars`; the emulator endpoint is the only input that
differs from a real deployment. `apply` and `destroy` run with `-json` (Terraform's
machine-readable UI), so their progress can be reported as it happens (`ApplyProgress`); the log
keeps the human-readable messages.

A command stops only what it started: `up` that reuses a running emulator never stops it, and an
interrupted `up` leaves everything as it was (`up` again resumes, `down` removes).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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

logger = logging.getLogger(__name__)

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


MIN_PORT, MAX_PORT = 1, 65535
RUNTIME_STATE_DIRS = ("firehose", "event-source-mappings")
"""The local runtime's checkpoints, under `<state dir>/runtime/`: they die with the stack."""


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries the tail of its output."""


class PortInUseError(RuntimeError):
    """The emulator's port is taken, most often by the emulator of a stack already up."""


@dataclass
class ApplyProgress:
    """What a running `terraform apply`/`destroy` has done, from its `-json` UI messages."""

    total: int | None = None
    done: int = 0
    refreshed: int = 0
    """Existing resources read back while planning (a second `up` refreshes every one)."""
    running: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Resource address -> (action, seconds elapsed) of the operations in flight."""

    _COUNTED = ("create", "update", "delete")

    def update(self, message: Mapping[str, Any]) -> bool:
        """Take one UI message into account; True when the progress changed."""
        kind = message.get("type")
        hook = message.get("hook") or {}
        address = str((hook.get("resource") or {}).get("addr", ""))
        action = str(hook.get("action", ""))
        if kind == "change_summary" and self.total is None:
            changes = message.get("changes") or {}
            self.total = sum(int(changes.get(key, 0)) for key in ("add", "change", "remove"))
        elif kind == "apply_start" and address:
            self.running[address] = (action, 0)
        elif kind == "apply_progress" and address:
            self.running[address] = (action, int(hook.get("elapsed_seconds", 0)))
        elif kind == "refresh_complete":
            self.refreshed += 1
        elif kind in ("apply_complete", "apply_errored") and address:
            self.running.pop(address, None)
            self.done += action in self._COUNTED
        else:
            return False
        return True

    def longest_wait(self) -> tuple[str, str, int] | None:
        """The operation in flight for the longest time: (address, action, seconds)."""
        if not self.running:
            return None
        address, (action, elapsed) = max(self.running.items(), key=lambda item: item[1][1])
        return address, action, elapsed


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
    def runtime_dir(self) -> Path:
        """The local runtime's state: its lock, checkpoints, unpacked functions and their logs."""
        return self.state_dir / "runtime"

    @property
    def apply_vars_file(self) -> Path:
        """The extra variables of the last apply, so plan and destroy see the same inputs."""
        return self.state_dir / "apply-vars.json"


def default_state_dir() -> Path:
    return REPO_ROOT / ".local"


def apply_stack(
    endpoint: str,
    paths: StackPaths,
    *,
    extra_vars: Mapping[str, str] | None = None,
    on_progress: Callable[[ApplyProgress], None] | None = None,
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
            "-json",
            f"-parallelism={PARALLELISM}",
            *_stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
        on_progress=on_progress,
    )
    logger.info("terraform apply finished in %.1fs", time.monotonic() - started)
    outputs = _collect_outputs(endpoint, paths)
    paths.outputs_file.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
    return outputs


def destroy_stack(
    endpoint: str, paths: StackPaths, *, on_progress: Callable[[ApplyProgress], None] | None = None
) -> None:
    """`terraform destroy` everything the state in `paths` records."""
    if not paths.tfstate.exists():
        logger.info("no terraform state in %s: nothing to destroy", paths.state_dir)
        return
    _ensure_initialised(endpoint, paths)
    started = time.monotonic()
    # No refresh: only Terraform changes the emulator, and a refresh is one provider read per
    # resource.
    _terraform(
        [
            "destroy",
            "-auto-approve",
            "-json",
            "-refresh=false",
            f"-parallelism={PARALLELISM}",
            *_stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
        on_progress=on_progress,
    )
    logger.info("terraform destroy finished in %.1fs", time.monotonic() - started)


def refresh_stack(endpoint: str, paths: StackPaths) -> None:
    """`terraform apply -refresh-only`: the state read back from the emulator, nothing changed."""
    _ensure_initialised(endpoint, paths)
    _terraform(
        [
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-json",
            f"-parallelism={PARALLELISM}",
            *_stack_arguments(endpoint, paths),
        ],
        endpoint,
        paths,
    )


def show_state(endpoint: str, paths: StackPaths) -> str:
    """`terraform show -json` of the stack's state, as Terraform prints it."""
    _ensure_initialised(endpoint, paths)
    completed = _run_terraform(["show", "-json", "-no-color", str(paths.tfstate)], endpoint, paths)
    if completed.returncode != 0:
        raise TerraformError(f"terraform show failed:\n{completed.stderr}")
    return completed.stdout


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
    paths: StackPaths,
    port: int,
    *,
    extra_vars: Mapping[str, str] | None = None,
    on_progress: Callable[[ApplyProgress], None] | None = None,
) -> dict[str, Any]:
    """Start the emulator on `port` (or reuse the one running for `paths`) and apply the stack.

    A failed apply stops the emulator only if this call started it (and then clears the state,
    so nothing is left half-up); a stack that was already up is left as it is. An interrupt
    (Ctrl-C) is not a failure: everything is left for `up` to resume or `down` to remove.
    """
    if not 0 <= port <= MAX_PORT:  # 0: any free port (tests and benchmarks)
        raise ValueError(f"port {port} is outside {MIN_PORT}-{MAX_PORT}")
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    handle = _running_emulator(paths)
    started = handle is None
    if handle is None:
        if port:
            _ensure_port_free(port, paths)
        # Emulator state lives in memory: state recorded against a stopped emulator is stale.
        _remove_stack_state(paths, keep_data_dir=True)
        logger.info("starting the emulator on %s:%d", HOST, port)
        handle = start_emulator(port, pid_file=paths.pid_file, log_file=paths.emulator_log)
    else:
        logger.info("reusing the emulator already running at %s", handle.endpoint)
    try:
        return apply_stack(handle.endpoint, paths, extra_vars=extra_vars, on_progress=on_progress)
    except KeyboardInterrupt:
        logger.warning(
            "interrupted: the emulator (pid %d) and whatever was applied are left as they are;"
            " `make up` resumes, `make down` removes them",
            handle.pid,
        )
        raise
    except Exception:
        if not started:
            logger.warning(
                "apply failed; the stack that was already up is left running (log: %s)",
                paths.terraform_log,
            )
            raise
        logger.warning(
            "apply failed; stopping the emulator it started (log: %s)", paths.terraform_log
        )
        stop_emulator(handle, pid_file=paths.pid_file)
        _remove_stack_state(paths)
        raise


def _ensure_port_free(port: int, paths: StackPaths) -> None:
    """Refuse a taken port with what to do, naming the local stack that holds it if one does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server binds: connections of a stopped emulator in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
        else:
            return
    holder = next(
        (
            candidate
            for candidate in _known_state_dirs(paths)
            if (found := find_emulator(candidate.pid_file)) is not None and found.port == port
        ),
        None,
    )
    if holder is not None:
        raise PortInUseError(
            f"port {port} is in use: a local stack is already up (state dir {holder.state_dir})."
            f" Stop it with `make down` first, or choose another port: LOCAL_AWS_PORT=<port>"
        )
    raise PortInUseError(
        f"port {port} on {HOST} is in use by another program: choose another port with"
        " LOCAL_AWS_PORT=<port> (or --port)"
    )


def _known_state_dirs(paths: StackPaths) -> list[StackPaths]:
    """State directories holding an emulator pid file: the default one, its subdirectories (the
    demo's), and the siblings of `paths`."""
    roots = {default_state_dir(), paths.state_dir.parent}
    candidates = roots | {
        child for root in roots if root.is_dir() for child in root.iterdir() if child.is_dir()
    }
    return [
        StackPaths(state_dir=candidate)
        for candidate in sorted(candidates)
        if StackPaths(state_dir=candidate).pid_file.is_file()
    ]


def down(paths: StackPaths, *, on_progress: Callable[[ApplyProgress], None] | None = None) -> None:
    """Destroy the stack, stop the emulator and remove all state; logs stay for reading."""
    handle = _running_emulator(paths)
    failure: TerraformError | None = None
    if handle is not None:
        try:
            destroy_stack(handle.endpoint, paths, on_progress=on_progress)
        except TerraformError as error:
            # The emulator's state dies with it anyway; still report the failed destroy.
            failure = error
        stop_emulator(handle, pid_file=paths.pid_file)
    else:
        logger.info("no emulator running for %s", paths.state_dir)
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
    """Forget the stack: Terraform state, outputs, pid file, the runtime's checkpoints (and the
    provider data dir). Logs and the unpacked function code (keyed by its hash) stay."""
    for state_file in (paths.tfstate, paths.outputs_file, paths.pid_file, paths.apply_vars_file):
        state_file.unlink(missing_ok=True)
    for backup in paths.state_dir.glob("terraform.tfstate*"):
        backup.unlink(missing_ok=True)
    for runtime_state in RUNTIME_STATE_DIRS:
        shutil.rmtree(paths.runtime_dir / runtime_state, ignore_errors=True)
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
    on_progress: Callable[[ApplyProgress], None] | None = None,
) -> int:
    """Run terraform, streaming its output into the terraform log with a timestamp per line.

    The timestamps show where an apply spends its time; an unaccepted exit status raises with the
    tail of the output. `-json` output is logged as its human-readable messages and followed in
    an `ApplyProgress`, reported to `on_progress` at each change.
    """
    progress = ApplyProgress()
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
            for raw_line in process.stdout:
                line = _ui_message(raw_line, progress, on_progress)
                log.write(f"{_now()} {line}\n")
                log.flush()
                tail.append(line)
                logger.debug("terraform: %s", line)
    if process.returncode not in accepted:
        output = "\n".join(tail)
        raise TerraformError(
            f"terraform {arguments[0]} exited with {process.returncode}"
            f" (full log: {paths.terraform_log}):\n{output}"
        )
    return process.returncode


def _ui_message(
    line: str, progress: ApplyProgress, on_progress: Callable[[ApplyProgress], None] | None
) -> str:
    """A `-json` UI line as its human-readable message (diagnostics with their detail); any
    other line as it is."""
    text = line.rstrip("\n")
    try:
        message = json.loads(text)
    except ValueError:
        return text
    if not isinstance(message, dict) or "@message" not in message:
        return text
    if progress.update(message) and on_progress is not None:
        on_progress(progress)
    readable = str(message["@message"])
    detail = (message.get("diagnostic") or {}).get("detail")
    return f"{readable}\n{detail}" if detail else readable


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
