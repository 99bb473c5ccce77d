"""The Lambdas' Tracer: no X-Ray SDK import when off, deferred import and boto3 patch when on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from function_support.tracing import NoOpTracingProvider, lambda_tracer, tracing_enabled

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import json, sys
from function_support.tracing import lambda_tracer
tracer = lambda_tracer()
after_import = "aws_xray_sdk.core" in sys.modules

@tracer.capture_lambda_handler
def handler(event, context):
    import botocore.client
    wrapper = botocore.client.BaseClient.__dict__["_make_api_call"]
    return type(wrapper).__name__ == "FunctionWrapper"  # wrapt, as aws_xray_sdk patches

patched = handler({}, None)
print(json.dumps({
    "provider": type(tracer.provider).__name__,
    "sdk_after_import": after_import,
    "sdk_after_call": "aws_xray_sdk.core" in sys.modules,
    "boto3_patched": patched,
}))
"""


def run_probe(extra_env: dict[str, str]) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(SRC),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # discard port: nothing is sent anywhere useful
        **extra_env,
    }
    completed = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_tracing_off_never_imports_the_xray_sdk() -> None:
    result = run_probe({"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"})
    assert result == {
        "provider": "NoOpTracingProvider",
        "sdk_after_import": False,
        "sdk_after_call": False,
        "boto3_patched": False,
    }


def test_tracing_on_defers_the_sdk_to_the_first_traced_call() -> None:
    result = run_probe({"LAMBDA_TASK_ROOT": "/var/task"})
    assert result == {
        "provider": "DeferredXRayProvider",
        "sdk_after_import": False,
        "sdk_after_call": True,
        "boto3_patched": True,
    }


def test_tracing_enabled_follows_powertools_rules() -> None:
    assert not tracing_enabled({})
    assert tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "T"})
    assert tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"})


def test_disabled_tracer_still_decorates_handlers() -> None:
    tracer = lambda_tracer({"POWERTOOLS_TRACE_DISABLED": "true"})
    assert isinstance(tracer.provider, NoOpTracingProvider)

    @tracer.capture_lambda_handler
    def handler(event: dict[str, int], context: object) -> int:
        return event["n"] + 1

    assert handler({"n": 1}, None) == 2
