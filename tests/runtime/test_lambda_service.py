"""The local Lambda service, tested against the behaviour the AWS Lambda documentation describes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.runtime.conftest import DeployedFunction

from local_aws.lambda_service import CodeMismatchError, LambdaService

pytestmark = pytest.mark.emulator

CONTEXT_HANDLER = """
import json, os

def lambda_handler(event, context):
    return {
        "event": event,
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "greeting": os.environ["GREETING"],
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
    }
"""

COUNTER_HANDLER = """
import os, time
INVOCATIONS = 0

def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"invocations": INVOCATIONS, "pid": os.getpid()}
"""


PRINT_HANDLER = """
def lambda_handler(event, context):
    print(event["line"])
"""


def _register(service: LambdaService, function: DeployedFunction) -> None:
    service.register(function.name, function.zip_path)


def test_handler_gets_event_and_documented_context(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """Lambda docs, "Using the Lambda context object to retrieve Python function information":
    the context provides get_remaining_time_in_millis, function_name, invoked_function_arn,
    memory_limit_in_mb, aws_request_id and log_group_name. Environment variables set on the
    function are available to the handler through os.environ."""
    function = deploy(CONTEXT_HANDLER, timeout=7, environment={"GREETING": "hello"})
    _register(lambda_service, function)

    result = lambda_service.invoke(function.name, {"key": "value"})

    assert result.function_error is None
    assert result.status_code == 200
    body = result.payload
    assert body["event"] == {"key": "value"}
    assert body["function_name"] == function.name
    assert body["invoked_function_arn"] == function.arn
    assert body["memory_limit_in_mb"] == 256
    assert body["log_group_name"] == f"/aws/lambda/{function.name}"
    assert body["aws_request_id"] == result.request_id
    assert 0 < body["remaining_ms"] <= 7000
    assert body["greeting"] == "hello"
    assert body["endpoint"].startswith("http://127.0.0.1:")


def test_execution_environment_is_reused_warm_after_a_cold_start(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """Lambda docs, "Lambda execution environment lifecycle": "After the function and all
    extensions have completed, Lambda maintains the execution environment for some time in
    anticipation of another function invocation ... Lambda reuses the execution environment"
    so objects declared outside the handler keep their state."""
    function = deploy(COUNTER_HANDLER)
    _register(lambda_service, function)

    first = lambda_service.invoke(function.name, {})
    second = lambda_service.invoke(function.name, {})

    assert first.cold_start
    assert not second.cold_start
    assert first.payload["invocations"] == 1
    assert second.payload["invocations"] == 2
    assert first.payload["pid"] == second.payload["pid"]


def test_function_error_is_returned_as_aws_reports_it(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """Lambda API reference, Invoke: "X-Amz-Function-Error: If present, indicates that an error
    occurred during function execution. Details about the error are included in the response
    payload." The Python runtime docs show the payload as errorMessage, errorType, stackTrace."""
    function = deploy(COUNTER_HANDLER)
    _register(lambda_service, function)

    result = lambda_service.invoke(function.name, {"fail": True})

    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "asked to fail"
    assert isinstance(result.payload["stackTrace"], list)


def test_timeout_stops_the_invocation_and_the_environment_starts_cold_again(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """Lambda docs, "Configure Lambda function timeout": "The default timeout value for a Lambda
    function is 3 seconds"... when it is reached the invocation ends with "Task timed out after
    N seconds"; the lifecycle docs say that after a timeout the execution environment is reset
    (the runtime is restarted), so the next invocation initialises again."""
    function = deploy(COUNTER_HANDLER, timeout=1)
    _register(lambda_service, function)
    warm = lambda_service.invoke(function.name, {})

    result = lambda_service.invoke(function.name, {"sleep": 30})
    after = lambda_service.invoke(function.name, {})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]
    assert after.cold_start
    assert after.payload["invocations"] == 1
    assert after.payload["pid"] != warm.payload["pid"]
    assert lambda_service.stats()[function.name].timeouts == 1


def test_a_cold_start_does_not_count_against_the_functions_timeout(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """ "Understand the Lambda execution environment lifecycle", Init phase: "The Init phase is
    limited to 10 seconds. If all three tasks do not complete within 10 seconds, Lambda retries
    the Init phase at the time of the first function invocation with the configured function
    timeout." (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)
    A 1 s timeout therefore bounds the invocation, not a 1.5 s import before it."""
    function = deploy(
        "import time\ntime.sleep(1.5)\n\n"
        "def lambda_handler(event, context):\n"
        "    return context.get_remaining_time_in_millis()\n",
        timeout=1,
    )
    _register(lambda_service, function)

    result = lambda_service.invoke(function.name, {})

    assert result.cold_start
    assert result.function_error is None, result.payload
    assert 0 < result.payload <= 1000


def test_worker_sees_only_the_zip_and_the_runtime_sdk(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService
) -> None:
    """Lambda docs, "Working with .zip file archives for Python Lambda functions": the runtime
    includes the AWS SDK for Python (Boto3); "any other dependencies" must be included in the
    deployment package. A dev-only package (hypothesis) must therefore not be importable."""
    function = deploy(
        """
        import boto3

        def lambda_handler(event, context):
            buckets = boto3.client("s3").list_buckets()["Buckets"]
            try:
                import hypothesis  # noqa: F401
            except ImportError:
                return {"hypothesis": False, "buckets": len(buckets)}
            return {"hypothesis": True, "buckets": len(buckets)}
        """
    )
    missing = deploy("import hypothesis\n\ndef lambda_handler(event, context):\n    return 1\n")
    _register(lambda_service, function)
    _register(lambda_service, missing)

    result = lambda_service.invoke(function.name, {})
    broken = lambda_service.invoke(missing.name, {})

    assert result.function_error is None
    assert result.payload["hypothesis"] is False
    assert isinstance(result.payload["buckets"], int)
    assert broken.function_error == "Unhandled"
    assert broken.payload["errorType"] == "Runtime.ImportModuleError"
    assert "hypothesis" in broken.payload["errorMessage"]


def test_zip_that_is_not_the_deployed_code_is_refused(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService, tmp_path: Path
) -> None:
    """Lambda API reference, FunctionConfiguration: "CodeSha256 - The SHA256 hash of the
    function's deployment package." Running another zip would test code that is not deployed."""
    function = deploy(COUNTER_HANDLER)
    other = tmp_path / "other.zip"
    other.write_bytes(function.zip_path.read_bytes() + b"\0")

    with pytest.raises(CodeMismatchError, match="CodeSha256"):
        lambda_service.register(function.name, other)


def test_stop_leaves_no_worker_process(
    deploy: Callable[..., DeployedFunction], emulator_endpoint: str, tmp_path: Path
) -> None:
    """No stray process: every execution environment ends with the service."""
    service = LambdaService(emulator_endpoint, tmp_path / "state")
    function = deploy(COUNTER_HANDLER)
    service.register(function.name, function.zip_path)
    service.invoke(function.name, {})
    pids = service.worker_pids()

    service.stop()

    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_printed_lines_are_in_the_log_when_the_invocation_ends(
    deploy: Callable[..., DeployedFunction], lambda_service: LambdaService, tmp_path: Path
) -> None:
    """Lambda docs, "Log and monitor Python Lambda functions": what the function prints to
    stdout goes to its CloudWatch Logs log stream, an invocation's lines ahead of its END and
    REPORT lines; Powertools' metrics are such lines (EMF). A line still in a buffer when the
    worker is stopped would be lost.
    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html"""
    function = deploy(PRINT_HANDLER)
    _register(lambda_service, function)
    log = tmp_path / "state" / "logs" / f"{function.name}.log"

    result = lambda_service.invoke(function.name, {"line": '{"_aws": "one invocation"}'})

    assert result.function_error is None
    assert '{"_aws": "one invocation"}' in log.read_text(encoding="utf-8")
