"""The emulator process: start, readiness, stop, and the command line."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from tests.emulator.support import wait_until_answering

from local_aws.moto_server import (
    EmulatorError,
    EmulatorHandle,
    emulator_environment,
    find_emulator,
    start_emulator,
    stop_emulator,
)

pytestmark = pytest.mark.emulator

SOURCE_ROOT = Path(__file__).resolve().parents[2] / "toolkit"


def process_gone(pid: int) -> bool:
    """True once `pid` no longer exists (a reaped child, or any process that has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_start_answers_aws_calls_and_stop_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "emulator.pid"
    handle = start_emulator(0, pid_file=pid_file, log_file=tmp_path / "emulator.log")
    try:
        assert pid_file.read_text().strip() == str(handle.pid)
        sts = boto3.client("sts", endpoint_url=handle.endpoint, **boto_credentials(handle.endpoint))
        assert sts.get_caller_identity()["Account"] == "123456789012"
    finally:
        stop_emulator(handle, pid_file=pid_file)

    assert process_gone(handle.pid)
    assert not pid_file.exists()


def test_find_emulator_from_its_pid_file(tmp_path: Path) -> None:
    pid_file = tmp_path / "emulator.pid"
    handle = start_emulator(0, pid_file=pid_file)
    try:
        assert find_emulator(pid_file) == handle
    finally:
        stop_emulator(handle)

    assert find_emulator(pid_file) is None


def test_find_emulator_ignores_a_pid_reused_by_another_program(tmp_path: Path) -> None:
    pid_file = tmp_path / "emulator.pid"
    pid_file.write_text(f"{os.getpid()}\n")

    assert find_emulator(pid_file) is None


def test_stop_by_pid_file_alone(tmp_path: Path) -> None:
    pid_file = tmp_path / "emulator.pid"
    handle = start_emulator(0, pid_file=pid_file)

    stop_emulator(pid_file=pid_file)

    assert process_gone(handle.pid)
    assert not pid_file.exists()


def test_stop_with_a_stale_pid_file_only_removes_it(tmp_path: Path) -> None:
    """A pid file naming a process that is not the emulator (pid reuse) must not be signalled."""
    pid_file = tmp_path / "emulator.pid"
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file.write_text(f"{bystander.pid}\n")

        stop_emulator(pid_file=pid_file)

        assert bystander.poll() is None
        assert not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_emulator_picks_distinct_free_ports() -> None:
    first = start_emulator(0)
    try:
        second = start_emulator(0)
        stop_emulator(second)
    finally:
        stop_emulator(first)

    assert first.port != second.port
    assert process_gone(first.pid)
    assert process_gone(second.pid)


def test_readiness_timeout_names_the_deadline_and_leaves_no_process(tmp_path: Path) -> None:
    log_file = tmp_path / "emulator.log"

    with pytest.raises(EmulatorError, match=r"not ready within 0\.0s") as raised:
        start_emulator(0, log_file=log_file, ready_timeout=0.0)

    assert str(log_file) in str(raised.value)
    pid = re.search(r"emulator \(pid (\d+)\)", str(raised.value))
    assert pid is not None
    assert process_gone(int(pid.group(1)))


def test_a_server_that_dies_reports_its_log_tail(tmp_path: Path) -> None:
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        port = occupied.getsockname()[1]

        with pytest.raises(EmulatorError, match="exited with status") as raised:
            start_emulator(port, log_file=tmp_path / "emulator.log")

    assert "Address already in use" in str(raised.value)


def test_module_reports_the_port_it_bound_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    """Port 0 and --port-file, as `start_emulator` runs it: the file names the port the server
    answers on (a port asked for explicitly is bound as asked: an occupied one fails above)."""
    port_file = tmp_path / "port"
    environment = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "local_aws.moto_server", "--port", "0",
         "--port-file", str(port_file)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        port = wait_for_port_file(port_file, process)
        wait_until_answering(port, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0
    assert f"listening on http://127.0.0.1:{port}" in stderr.decode()


def wait_for_port_file(port_file: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the emulator exited during start-up"
        text = port_file.read_text() if port_file.exists() else ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.05)
    raise AssertionError(f"{port_file} not written within 30 s")


def test_environment_points_sdks_at_the_emulator() -> None:
    environment = emulator_environment("http://127.0.0.1:4999")

    assert environment == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4999",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def test_aws_env_fixture_sets_the_standard_variables(
    aws_env: dict[str, str], emulator: EmulatorHandle
) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == emulator.endpoint
    queue = boto3.client("sqs").create_queue(QueueName=f"env-{time.monotonic_ns()}")
    assert queue["QueueUrl"].startswith(emulator.endpoint)


def boto_credentials(endpoint: str) -> dict[str, str]:
    environment = emulator_environment(endpoint)
    return {
        "region_name": environment["AWS_DEFAULT_REGION"],
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.mark.parametrize(("access_log", "logged"), [("", False), ("1", True)])
def test_request_lines_are_logged_only_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, access_log: str, logged: bool
) -> None:
    monkeypatch.setenv("LOCAL_AWS_ACCESS_LOG", access_log)
    log_file = tmp_path / "emulator.log"
    handle = start_emulator(log_file=log_file)
    try:
        sts = boto3.client("sts", endpoint_url=handle.endpoint, **boto_credentials(handle.endpoint))
        sts.get_caller_identity()
    finally:
        stop_emulator(handle)
    log = log_file.read_text(encoding="utf-8")
    assert "moto emulator listening" in log
    assert ('"POST / HTTP/1.1" 200' in log) is logged
