"""`up`, `down`, `run` and `demo` under bad input and interruptions: a clear error, nothing lost.

Terraform is replaced by a script that prints what `terraform apply -json` prints (or fails), so
these tests exercise the commands' own logic against a real emulator in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console

from local_aws.moto_server import (
    EmulatorHandle,
    emulator_environment,
    start_emulator,
    stop_emulator,
)
from local_aws.runtime import InstanceLock
from local_aws.stack_functions import stack_functions
from trendstream_cli import demo as demo_command
from trendstream_cli import run as run_command
from trendstream_cli import stack
from trendstream_cli.lifecycle import describe_progress
from trendstream_cli.main import main

APPLY_JSON = [
    {"type": "version", "@message": "Terraform 1.11.4", "terraform": "1.11.4"},
    {
        "type": "planned_change",
        "@message": "module.stream.aws_kinesis_stream.this: Plan to create",
        "change": {"resource": {"addr": "module.stream.aws_kinesis_stream.this"}},
    },
    {
        "type": "change_summary",
        "@message": "Plan: 2 to add, 0 to change, 0 to destroy.",
        "changes": {"add": 2, "change": 0, "import": 0, "remove": 0, "operation": "plan"},
    },
    {
        "type": "apply_start",
        "@message": "aws_sqs_queue.this: Creating...",
        "hook": {"resource": {"addr": "aws_sqs_queue.this"}, "action": "create"},
    },
    {
        "type": "apply_start",
        "@message": "module.stream.aws_kinesis_stream.this: Creating...",
        "hook": {"resource": {"addr": "module.stream.aws_kinesis_stream.this"}, "action": "create"},
    },
    {
        "type": "apply_complete",
        "@message": "aws_sqs_queue.this: Creation complete after 1s",
        "hook": {"resource": {"addr": "aws_sqs_queue.this"}, "action": "create"},
    },
    {
        "type": "apply_progress",
        "@message": "module.stream.aws_kinesis_stream.this: Still creating... [10s elapsed]",
        "hook": {
            "resource": {"addr": "module.stream.aws_kinesis_stream.this"},
            "action": "create",
            "elapsed_seconds": 10,
        },
    },
    {
        "type": "apply_complete",
        "@message": "module.stream.aws_kinesis_stream.this: Creation complete after 10s",
        "hook": {"resource": {"addr": "module.stream.aws_kinesis_stream.this"}, "action": "create"},
    },
    {
        "type": "change_summary",
        "@message": "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
        "changes": {"add": 2, "change": 0, "remove": 0, "operation": "apply"},
    },
]

FAKE_TERRAFORM = """#!{python}
import json, os, sys
command = sys.argv[2]
if command == "output":
    print(json.dumps({{"table_name": {{"value": "trendstream-local-EventData"}}}}))
if command == "apply":
    if os.environ.get("FAKE_TF_FAIL_APPLY"):
        print(json.dumps({{"type": "diagnostic", "@level": "error",
                          "@message": "Error: creating Kinesis Stream: boom",
                          "diagnostic": {{"severity": "error", "summary": "boom",
                                         "detail": "the detail"}}}}))
        sys.exit(1)
    with open(os.environ["FAKE_TF_APPLY_JSON"]) as lines:
        sys.stdout.write(lines.read())
"""


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "terraform"
    script.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    lines = tmp_path / "apply.jsonl"
    lines.write_text("".join(json.dumps(line) + "\n" for line in APPLY_JSON))
    monkeypatch.setattr(stack, "TERRAFORM_WRAPPER", script)
    monkeypatch.setenv("FAKE_TF_APPLY_JSON", str(lines))


@pytest.fixture
def running_stack(
    emulator: EmulatorHandle, tmp_path: Path
) -> Iterator[tuple[stack.StackPaths, EmulatorHandle]]:
    """A stack as `make up` leaves it: its emulator's pid file, Terraform state, outputs and data
    in a bucket (the session's emulator plays it: these tests must leave it running)."""
    paths = stack.StackPaths(tmp_path / "local")
    paths.state_dir.mkdir()
    paths.pid_file.write_text(f"{emulator.pid}\n")
    paths.tfstate.write_text('{"version": 4}')
    paths.outputs_file.write_text(json.dumps({"table_name": "trendstream-local-EventData"}))
    s3 = boto3.client("s3", **_client_arguments(emulator))
    s3.create_bucket(Bucket=_bucket(paths))
    s3.put_object(Bucket=_bucket(paths), Key="tweets/a", Body=b"kept")
    yield paths, emulator


def _bucket(paths: stack.StackPaths) -> str:
    """A bucket of this test's own on the shared emulator."""
    return "lake-" + hashlib.sha256(str(paths.state_dir).encode()).hexdigest()[:16]


def _client_arguments(handle: EmulatorHandle) -> dict[str, Any]:
    environment = emulator_environment(handle.endpoint)
    return {
        "endpoint_url": handle.endpoint,
        "region_name": environment["AWS_REGION"],
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
    }


def _assert_intact(paths: stack.StackPaths, handle: EmulatorHandle) -> None:
    assert stack.running_endpoint(paths) == handle.endpoint
    assert paths.tfstate.read_text() == '{"version": 4}'
    assert stack.read_outputs(paths) == {"table_name": "trendstream-local-EventData"}
    s3 = boto3.client("s3", **_client_arguments(handle))
    assert s3.get_object(Bucket=_bucket(paths), Key="tweets/a")["Body"].read() == b"kept"


# --- Issue item: a second `up` that fails or is interrupted loses nothing -------------------


@pytest.mark.emulator
def test_a_second_up_that_fails_leaves_the_running_stack_intact(
    running_stack: tuple[stack.StackPaths, EmulatorHandle],
    fake_terraform: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths, handle = running_stack
    monkeypatch.setenv("FAKE_TF_FAIL_APPLY", "1")

    code = main(["up", "--state-dir", str(paths.state_dir), "--port", str(handle.port)])

    assert code == 1
    err = capsys.readouterr().err
    assert "Error: creating Kinesis Stream: boom" in err
    assert "the detail" in err
    assert "Traceback" not in err
    _assert_intact(paths, handle)


@pytest.mark.emulator
def test_a_second_up_interrupted_leaves_the_running_stack_intact(
    running_stack: tuple[stack.StackPaths, EmulatorHandle],
    fake_terraform: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths, handle = running_stack

    def interrupted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "apply_stack", interrupted)

    code = main(["up", "--state-dir", str(paths.state_dir), "--port", str(handle.port)])

    assert code == 130
    _assert_intact(paths, handle)


@pytest.mark.emulator
def test_an_interrupted_first_up_leaves_its_emulator_for_up_or_down(
    tmp_path: Path, fake_terraform: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt is not a failure to clean up after: `up` again resumes, `down` removes."""
    paths = stack.StackPaths(tmp_path / "local")

    def interrupted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "apply_stack", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            stack.up(paths, 0)
        assert stack.running_endpoint(paths) is not None
    finally:
        stack.down(paths)
    assert stack.running_endpoint(paths) is None


@pytest.mark.emulator
def test_a_fresh_emulator_starts_without_the_runtime_state_of_the_last_stack(
    tmp_path: Path, fake_terraform: None
) -> None:
    """The emulator died (or was killed) without `make down`: the next `up` starts a new stack,
    and the old stack's runtime checkpoints go with it (the unpacked code and logs stay)."""
    paths = stack.StackPaths(tmp_path / "local")
    for kept_or_not in ("firehose/d-1.json", "event-source-mappings/u.json", "logs/f.log"):
        (paths.runtime_dir / kept_or_not).parent.mkdir(parents=True, exist_ok=True)
        (paths.runtime_dir / kept_or_not).write_text("{}")
    paths.pid_file.write_text("99999999\n")
    try:
        stack.up(paths, 0)
    finally:
        stack.down(paths)

    assert not (paths.runtime_dir / "firehose").exists()
    assert not (paths.runtime_dir / "event-source-mappings").exists()
    assert (paths.runtime_dir / "logs" / "f.log").exists()


# --- Issue item: apply progress ----------------------------------------------------------


@pytest.mark.emulator
def test_up_reports_resources_done_of_total_and_the_wait_in_flight(
    tmp_path: Path, fake_terraform: None, caplog: pytest.LogCaptureFixture
) -> None:
    """`terraform apply -json` (Terraform's machine-readable UI) says how many resources the plan
    has and which operation is still running: `up` reports both instead of 70 s of silence."""
    paths = stack.StackPaths(tmp_path / "local")
    reported: list[tuple[int | None, int, tuple[str, str, int] | None]] = []
    try:
        stack.up(
            paths,
            0,
            on_progress=lambda p: reported.append((p.total, p.done, p.longest_wait())),
        )
        caplog.set_level(logging.INFO)
        assert main(["up", "--state-dir", str(paths.state_dir)]) == 0
    finally:
        stack.down(paths)

    assert reported == [
        (2, 0, None),
        (2, 0, ("aws_sqs_queue.this", "create", 0)),
        (2, 0, ("aws_sqs_queue.this", "create", 0)),
        (2, 1, ("module.stream.aws_kinesis_stream.this", "create", 0)),
        (2, 1, ("module.stream.aws_kinesis_stream.this", "create", 10)),
        (2, 2, None),
    ]
    assert "terraform apply: 2/2 resources" in caplog.text
    log = paths.terraform_log.read_text()
    assert "Still creating... [10s elapsed]" in log
    assert '"type"' not in log


def test_progress_text_names_the_longest_wait() -> None:
    progress = stack.ApplyProgress(total=54, done=12)
    for line in APPLY_JSON[3:5]:
        progress.update(line)
    progress.update(APPLY_JSON[6])

    assert describe_progress("apply", progress) == (
        "terraform apply: 12/54 resources; waiting on module.stream.aws_kinesis_stream.this"
        " (create, 10s) and 1 more"
    )
    planning = stack.ApplyProgress()
    planning.update(
        {"type": "apply_start", "hook": {"resource": {"addr": "data.x"}, "action": "read"}}
    )
    assert describe_progress("destroy", planning) == "terraform destroy: planning (reading data.x)"
    planning.update({"type": "refresh_complete", "hook": {"resource": {"addr": "aws_sqs_queue.q"}}})
    assert describe_progress("apply", planning) == (
        "terraform apply: planning (1 resources refreshed; reading data.x)"
    )


# --- Issue item: ports -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--port", "99999"], "99999 is outside 1-65535"),
        (["up", "--port", "-1"], "-1 is outside 1-65535"),
        (["up", "--port", "0"], "0 is outside 1-65535"),
        (["down", "--port", "http"], "not a port number: 'http'"),
        (["demo", "--port", "70000"], "70000 is outside 1-65535"),
        (["run", "--clock-speed", "0"], "0 is outside [0.01, 3600]"),
        (["run", "--clock-speed", "-2"], "-2 is outside [0.01, 3600]"),
        (["run", "--clock-speed", "nan"], "nan is outside [0.01, 3600]"),
        (["run", "--clock-speed", "1e9"], "1e9 is outside [0.01, 3600]"),
        (["run", "--duration", "-5"], "-5 is outside (0, 604800]"),
        (["run", "--duration", "nan"], "nan is outside (0, 604800]"),
        (["run", "--duration", "inf"], "inf is outside (0, 604800]"),
        (["run", "--duration", "ten"], "not a number: 'ten'"),
        (["demo", "--clock-speed", "0"], "0 is outside [0.01, 3600]"),
    ],
)
def test_out_of_range_arguments_are_argparse_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_bad_local_aws_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_AWS_PORT", "99999")

    with pytest.raises(SystemExit, match="LOCAL_AWS_PORT: 99999 is outside 1-65535"):
        main(["up"])


@pytest.mark.emulator
def test_demo_while_a_stack_is_up_says_so_and_leaves_it_running(
    running_stack: tuple[stack.StackPaths, EmulatorHandle], capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo` while `make up`'s stack runs on the same port: one line naming the stack and
    what to do, and the running stack untouched (once a traceback about the port)."""
    paths, handle = running_stack
    demo_dir = paths.state_dir / "demo"

    code = main(["demo", "--state-dir", str(demo_dir), "--port", str(handle.port)])

    assert code == 1
    err = capsys.readouterr().err
    assert f"port {handle.port} is in use: a local stack is already up" in err
    assert str(paths.state_dir) in err
    assert "make down" in err
    assert "Traceback" not in err
    _assert_intact(paths, handle)


@pytest.mark.emulator
def test_demo_never_replays_into_or_tears_down_a_stack_it_did_not_start(
    running_stack: tuple[stack.StackPaths, EmulatorHandle], capsys: pytest.CaptureFixture[str]
) -> None:
    paths, handle = running_stack

    code = main(["demo", "--state-dir", str(paths.state_dir), "--port", str(handle.port)])

    assert code == 1
    assert "a demo stack kept with --keep is still up" in capsys.readouterr().err
    _assert_intact(paths, handle)


@pytest.mark.emulator
def test_an_interrupted_demo_leaves_no_emulator(
    tmp_path: Path, fake_terraform: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` leaves no process behind, interrupted or not."""
    paths = stack.StackPaths(tmp_path / "demo")
    pids: list[int] = []

    def interrupted(endpoint: str, paths: stack.StackPaths, **kwargs: Any) -> dict[str, Any]:
        pids.append(int(paths.pid_file.read_text()))
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "apply_stack", interrupted)

    assert main(["demo", "--state-dir", str(paths.state_dir), "--port", "0"]) == 130

    [pid] = pids
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped
    assert not paths.state_dir.exists()


def test_a_port_held_by_another_program_says_so(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(stack.PortInUseError, match="in use by another program"):
            stack.up(stack.StackPaths(tmp_path / "local"), port)


# --- Issue item: `run` ---------------------------------------------------------------------


def test_run_without_a_stack_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outputs.json").write_text("{}")

    assert main(["run", "--state-dir", str(tmp_path), "--duration", "1"]) == 2

    err = capsys.readouterr().err
    assert "no local stack is running" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.emulator
def test_run_ends_in_one_line_when_the_emulator_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once a 90-line traceback from the live display: now one line saying what happened."""
    paths = stack.StackPaths(tmp_path / "local")
    handle = start_emulator(0, pid_file=paths.pid_file, log_file=paths.emulator_log)
    paths.outputs_file.write_text(json.dumps({"stream_name": "trendstream-local-tweets"}))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    drawn = run_command.progress_table

    def kill_after_the_first_table(*args: Any, **kwargs: Any) -> Any:
        if stack.running_endpoint(paths) is not None:
            os.killpg(handle.pid, signal.SIGKILL)
            stop_emulator(handle)
        return drawn(*args, **kwargs)

    monkeypatch.setattr(run_command, "progress_table", kill_after_the_first_table)
    try:
        code = main(["run", "--state-dir", str(paths.state_dir), "--duration", "120"])
    finally:
        stop_emulator(handle, pid_file=paths.pid_file)

    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"error: the stack's emulator stopped (see {paths.emulator_log}); the run ended. "
        "`make up` starts a new stack"
    ]


def test_the_live_table_shows_the_next_run_and_each_functions_failures() -> None:
    """Every function the outputs name has its rows, the read API's too (before it is invoked)."""
    stats = {
        "producer_runs_at_start": 1,
        "scheduled_events": 2,
        "next_scheduled_run_in": 299.4,
        "loop_errors": 4,
        "last_loop_error": "esm-shardId-000000000000: ResourceNotFoundException: Stream gone",
        "functions": {
            "trendstream-local-producer": {
                "invocations": 9,
                "errors": 9,
                "throttles": 0,
                "dead_letters": 3,
                "dead_letter_errors": 0,
                "last_error": "ConfigurationError: TWEET_SOURCE must be x or replay, not 'nope'",
            },
            "trendstream-local-consumer": {"invocations": 4, "errors": 0, "last_error": ""},
        },
    }
    console = Console(record=True, width=160)

    console.print(
        run_command.progress_table(
            stats,
            12.0,
            stack_functions(
                {
                    "producer_function_name": "trendstream-local-producer",
                    "consumer_function_name": "trendstream-local-consumer",
                    "api_function_name": "trendstream-local-api",
                }
            ),
        )
    )

    text = console.export_text()
    rows = {
        cells[0].strip(): cells[1].strip()
        for line in text.splitlines()
        if len(cells := line.strip("│ ").split("│")) == 2
    }
    assert rows["producer runs (at start + schedule)"] == "1 + 2"
    assert rows["next scheduled run in"] == "4m 59s"
    assert rows["runtime step failures"] == "4"
    assert (
        rows["last failure"] == "esm-shardId-000000000000: ResourceNotFoundException: Stream gone"
    )
    assert rows["producer failures"] == "9 errors, 0 throttles, 3 to DLQ"
    assert rows["producer last error"] == (
        "ConfigurationError: TWEET_SOURCE must be x or replay, not 'nope'"
    )
    assert rows["consumer failures"] == "0 errors, 0 throttles, 0 to DLQ"
    assert "consumer last error" not in rows
    assert rows["api invocations"] == "0"
    assert rows["api failures"] == "0 errors, 0 throttles, 0 to DLQ"


def test_the_demo_lists_every_function_of_the_stack_with_its_counts() -> None:
    functions = stack_functions(
        {"api_function_name": "trendstream-local-api", "stream_name": "trendstream-local-tweets"}
    )
    stats = {"functions": {"trendstream-local-api": {"invocations": 3, "errors": 1}}}
    console = Console(record=True, width=160)

    console.print(demo_command.functions_table(stats, functions))

    text = console.export_text()
    assert "api invocations" in text
    assert "1 errors, 0 throttles, 0 to DLQ" in text


@pytest.mark.emulator
def test_a_second_run_on_the_stack_is_refused_naming_the_first(
    running_stack: tuple[stack.StackPaths, EmulatorHandle], capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `make run`s on one stack once wrote 5,314 lake lines for 1,500 tweets."""
    paths, _ = running_stack
    first = InstanceLock(paths.runtime_dir / "runtime.lock")
    first.acquire()
    try:
        code = main(["run", "--state-dir", str(paths.state_dir), "--duration", "60"])
    finally:
        first.release()

    err = capsys.readouterr().err
    assert code == 1
    assert f"another local runtime is already running on this stack (pid {os.getpid()}" in err
    assert "Traceback" not in err


@pytest.mark.emulator
def test_make_verify_without_a_deployment_verifies_the_local_stack_when_it_is_the_only_one(
    running_stack: tuple[stack.StackPaths, EmulatorHandle],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Right after `make up`, `make verify` (ENV=dev, never deployed here) says so in one line
    and verifies the stack `make up` left instead of failing on Terraform's advice."""
    paths, emulator = running_stack
    for name, value in emulator_environment(emulator.endpoint).items():
        monkeypatch.setenv(name, value)  # verify points this process at the stack's emulator
    monkeypatch.setenv("TF_WORKSPACE", "dev")
    monkeypatch.setenv("TF_DATA_DIR", str(tmp_path / ".deploy" / "dev" / ".terraform"))

    code = main(["verify", "--terraform", "--state-dir", str(paths.state_dir)])

    captured = capsys.readouterr()
    assert code == 1  # the stand-in stack has no stream: the stack stage says so
    assert captured.err.splitlines()[0] == (
        "verify: no stack is deployed for ENV=dev; verifying the local stack `make up` started "
        "(`make verify ENV=local` names it)"
    )
    assert f"local stack at {emulator.endpoint}" in captured.out
    assert 'FAILED at stage "stack": the Terraform outputs lack stream_name' in captured.err
