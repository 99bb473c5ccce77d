"""The local AWS emulator: moto in server mode, patched, listening on loopback only.

`python -m local_aws.moto_server --port N` runs it in the foreground; `start_emulator` spawns that
command in its own process group and returns once the server answers, `stop_emulator` ends it.
Everything else (Terraform, the Lambdas, the local runtime, a stock AWS CLI) reaches it through
the standard `AWS_ENDPOINT_URL` and the environment `emulator_environment` describes.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from local_aws.call_log import CALL_LOG_VARIABLE, CallLogMiddleware

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
MODULE = "local_aws.moto_server"

SERVER_CONFIGURATION = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ACCOUNT_ID": ACCOUNT_ID,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}
"""Environment the server process runs with; moto reads most settings when it is imported."""

ACCESS_LOG_VARIABLE = "LOCAL_AWS_ACCESS_LOG"
"""Set to 1/true to log every request line (werkzeug's access log) to the emulator's log."""
TRUTHY = frozenset({"1", "true", "yes", "on"})

_LOG_TAIL_LINES = 40
_POLL_INTERVAL = 0.05
_children: dict[int, subprocess.Popen[bytes]] = {}


class EmulatorError(RuntimeError):
    """The emulator did not start or stop as asked; the message carries its log tail."""


@dataclass(frozen=True)
class EmulatorHandle:
    """A running emulator process and the loopback port it serves."""

    port: int
    pid: int

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"


def emulator_environment(endpoint: str) -> dict[str, str]:
    """The variables that point any AWS SDK or CLI at the emulator instead of AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def role_environment(endpoint: str, role_arn: str, session_name: str) -> dict[str, str]:
    """The emulator environment with a role's temporary credentials instead of the admin's.

    What Lambda gives a function (`sts:AssumeRole` of its execution role, the credentials in
    the standard variables), and what the runtime's event source mapping and Firehose act with;
    the emulator then authorises their requests against the role's policies. The credentials
    are asked for with the admin's, as the service principal in the role's trust policy would.
    """
    import boto3  # noqa: PLC0415 - only the callers that act as a role pay for importing it

    environment = emulator_environment(endpoint)
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=environment["AWS_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])[
        "Credentials"
    ]
    return {
        **environment,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def start_emulator(
    port: int = 0,
    *,
    pid_file: Path | None = None,
    log_file: Path | None = None,
    ready_timeout: float = 30.0,
) -> EmulatorHandle:
    """Spawn the patched server and return once it answers requests.

    Port 0 lets the server bind any free port and report it back through a file, so parallel
    test workers never race for a port number. Without `log_file` the server's output goes to a
    temporary file that only serves a start-up failure's message; it is unlinked once ready.
    """
    with contextlib.ExitStack() as cleanup:
        if log_file is None:
            log_dir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="moto-log-"))
            log_path = Path(log_dir) / "emulator.log"
        else:
            log_path = log_file
            log_path.parent.mkdir(parents=True, exist_ok=True)
        port_dir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="moto-port-"))
        port_file = Path(port_dir) / "port"
        process = _spawn(port, port_file, log_path)
        try:
            bound_port = _wait_until_ready(process, port_file, log_path, ready_timeout)
        except BaseException:
            _terminate(process.pid, timeout=5.0)
            raise
    handle = EmulatorHandle(port=bound_port, pid=process.pid)
    if pid_file is not None:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{handle.pid}\n", encoding="utf-8")
    logger.info("emulator pid %d ready at %s", handle.pid, handle.endpoint)
    return handle


def stop_emulator(
    handle: EmulatorHandle | None = None,
    *,
    pid_file: Path | None = None,
    timeout: float = 10.0,
) -> None:
    """Stop the emulator named by `handle` or `pid_file`: SIGTERM, then SIGKILL after `timeout`.

    A pid file whose process is gone (or now belongs to something else) is simply removed.
    """
    pid = handle.pid if handle is not None else _read_pid(pid_file)
    if pid is not None and _is_emulator_process(pid):
        _terminate(pid, timeout=timeout)
        logger.info("emulator pid %d stopped", pid)
    if pid_file is not None:
        pid_file.unlink(missing_ok=True)


def find_emulator(pid_file: Path) -> EmulatorHandle | None:
    """The emulator a pid file names, if it still runs: its pid and the port it listens on.

    Lets a later process (`trendstream down`, `run`) find the server `start_emulator` left
    running; the port is read from /proc, so a pid reused by another program is not mistaken
    for it.
    """
    pid = _read_pid(pid_file)
    if pid is None or not _is_emulator_process(pid):
        return None
    port = _listening_port(pid)
    return EmulatorHandle(port=port, pid=pid) if port is not None else None


def _listening_port(pid: int) -> int | None:
    """The loopback TCP port process `pid` listens on (from /proc/net/tcp and its socket fds)."""
    listen_state = "0A"
    try:
        table = Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        return None
    sockets = set()
    for descriptor in descriptors:
        try:
            target = str(descriptor.readlink())
        except (FileNotFoundError, PermissionError):
            continue  # closed since the listing (a request's connection, say)
        if target.startswith("socket:["):
            sockets.add(target.removeprefix("socket:[").rstrip("]"))
    for line in table:
        fields = line.split()
        local_address, state, inode = fields[1], fields[3], fields[9]
        if state == listen_state and inode in sockets:
            return int(local_address.split(":")[1], 16)
    return None


def _spawn(port: int, port_file: Path, log_path: Path) -> subprocess.Popen[bytes]:
    source_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, **SERVER_CONFIGURATION}
    env.pop("AWS_ENDPOINT_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", MODULE, "--port", str(port), "--port-file", str(port_file)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    _children[process.pid] = process
    return process


def _wait_until_ready(
    process: subprocess.Popen[bytes], port_file: Path, log_path: Path, ready_timeout: float
) -> int:
    deadline = time.monotonic() + ready_timeout
    port: int | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"emulator exited with status {process.returncode} before it was ready;"
                f" log tail ({log_path}):\n{_log_tail(log_path)}"
            )
        if port is None:
            port = _read_port(port_file)
        if port is not None and _answers(port):
            return port
        time.sleep(_POLL_INTERVAL)
    raise EmulatorError(
        f"emulator (pid {process.pid}) not ready within {ready_timeout:.1f}s;"
        f" log tail ({log_path}):\n{_log_tail(log_path)}"
    )


def _read_port(port_file: Path) -> int | None:
    try:
        text = port_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return int(text) if text.strip().isdigit() and text.endswith("\n") else None


def _answers(port: int) -> bool:
    """True once moto's own API answers, which it does only after every backend is importable."""
    url = f"http://{HOST}:{port}/moto-api/data.json"
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _log_tail(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(log is empty)"


def _read_pid(pid_file: Path | None) -> int | None:
    if pid_file is None:
        return None
    try:
        text = pid_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _is_emulator_process(pid: int) -> bool:
    """Guard against pid reuse: only signal a process that runs this module."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return MODULE.encode() in cmdline.split(b"\0")


def _terminate(pid: int, *, timeout: float) -> None:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        _signal_group(pid, sig)
        if _wait_gone(pid, wait):
            _children.pop(pid, None)
            return
    raise EmulatorError(f"emulator pid {pid} survived SIGKILL")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the whole process group the emulator leads, so no helper outlives it."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    child = _children.get(pid)
    if child is not None:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_exists(pid):
            return True
        time.sleep(_POLL_INTERVAL)
    return not _process_exists(pid)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited; its parent merely has not reaped it yet.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def serve(port: int, port_file: Path | None = None) -> None:
    """Run the patched moto server in the foreground until SIGTERM or SIGINT."""
    os.environ.update(SERVER_CONFIGURATION)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    # moto reads its settings when imported, so it is imported only here, in the server process
    # (which also keeps `start_emulator` callers from paying for importing moto).
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    from local_aws.moto_patches import apply_all  # noqa: PLC0415

    apply_all()
    app: Any = DomainDispatcherApplication(create_backend_app)
    call_log_path = os.environ.get(CALL_LOG_VARIABLE)
    if call_log_path:
        app = CallLogMiddleware(app, Path(call_log_path))
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    bound_port = int(server.server_address[1])
    os.environ["MOTO_PORT"] = str(bound_port)

    def shut_down(signum: int, frame: FrameType | None) -> None:
        del frame
        logger.info("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, name="moto-shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    if port_file is not None:
        _write_atomically(port_file, f"{bound_port}\n")
    logger.info("moto emulator listening on http://%s:%d", HOST, bound_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    logger.info("moto emulator stopped")


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LOCAL_AWS_PORT", "4566")),
        help="port on 127.0.0.1 (0 picks a free one; default $LOCAL_AWS_PORT or 4566)",
    )
    parser.add_argument(
        "--port-file", type=Path, help="write the bound port here once listening (for --port 0)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if os.environ.get(ACCESS_LOG_VARIABLE, "").strip().lower() not in TRUTHY:
        # One line per request would be most of the log's volume; errors, moto's own warnings
        # and the IAM patch's refusals are still logged.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serve(args.port, args.port_file)


if __name__ == "__main__":
    main()
