"""`trendstream verify` against the real stack: Terraform applied to the emulator, as `make up`.

The command is only a client: it reads the local stack's outputs and emulator endpoint from the
state directory, and the local runtime plays Lambda's event source mapping and Firehose, as
`make run` does (with a faster clock, so Firehose's 60 s buffers take a second). The schedule is
disabled, as an operator may do: only the verifier's tweets go through the pipeline.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.emulator.support import Aws

from local_aws import call_log
from local_aws.clock import SystemClock
from local_aws.moto_server import emulator_environment, stop_emulator
from local_aws.runtime import LocalRuntime
from trendstream_cli import stack
from trendstream_cli.main import main

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("verify-stack"),
]

ZIP_NAMES = ("producer.zip", "consumer.zip", "firehose_transformer.zip", "api.zip")
CLOCK_SPEED = 60.0
RUNTIME_SECONDS_BEFORE_VERIFY = 90.0


@dataclass(frozen=True)
class LocalStack:
    outputs: dict[str, Any]
    endpoint: str
    state_dir: Path
    build_dir: Path
    paths: stack.StackPaths
    call_log: Path
    applied_at: int
    """Where the call log ended when the apply was done: everything before is the apply's."""

    def client(self, service: str) -> Any:
        return Aws(self.endpoint).client(service)


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`make up` into a private state directory, on a free port, with a private copy of the
    zips (a `make build` elsewhere must not change the code under the stack)."""
    root = tmp_path_factory.mktemp("verify-stack")
    build_dir = root / "build"
    build_dir.mkdir()
    for name in ZIP_NAMES:
        source = stack.REPO_ROOT / "build" / name
        assert source.is_file(), f"build/{name} missing: run `make build`"
        shutil.copyfile(source, build_dir / name)
    paths = stack.StackPaths(state_dir=root / "state")
    calls = root / "calls.jsonl"
    try:
        with pytest.MonkeyPatch.context() as environment:
            environment.setenv(call_log.CALL_LOG_VARIABLE, str(calls))
            # Provisioned, so the deployer policy is proven for the auto scaling the plan
            # recommends at a steady load as well as for everything an on-demand stack calls.
            outputs = stack.up(
                paths,
                0,
                extra_vars={
                    "lambda_artifacts_dir": str(build_dir),
                    "table_billing_mode": "PROVISIONED",
                },
            )
        applied_at = call_log.size(calls)
        endpoint = stack.running_endpoint(paths)
        assert endpoint is not None, f"the emulator stopped: see {paths.emulator_log}"
        deployed = LocalStack(
            outputs, endpoint, paths.state_dir, build_dir, paths, calls, applied_at
        )
        if outputs.get("schedule_rule_name"):
            deployed.client("events").disable_rule(Name=outputs["schedule_rule_name"])
        yield deployed
    finally:
        stop_emulator(pid_file=paths.pid_file)
        shutil.rmtree(paths.tf_data_dir, ignore_errors=True)


@pytest.fixture
def emulator_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """`verify` points this process at the emulator; the test restores the variables after.

    A wide console keeps each stage's detail on one line of the captured output.
    """
    monkeypatch.setenv("COLUMNS", "400")
    for name, value in emulator_environment(local_stack.endpoint).items():
        monkeypatch.setenv(name, value)


def synthetic_topics(output: str) -> tuple[str, ...]:
    match = re.search(r"synthetic topics (\S+), (\S+)", output)
    assert match is not None, output
    return match.group(1), match.group(2)


def topic_items(local_stack: LocalStack, topic: str) -> list[dict[str, Any]]:
    return list(
        local_stack.client("dynamodb").query(
            TableName=local_stack.outputs["table_name"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TOPIC#{topic}"}},
        )["Items"]
    )


def test_without_the_runtime_verify_fails_at_the_table_stage(
    local_stack: LocalStack, emulator_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["verify", "--state-dir", str(local_stack.state_dir),
         "--table-timeout", "4", "--poll-interval", "0.5"]
    )  # fmt: skip

    captured = capsys.readouterr()
    assert code == 1
    assert 'verify: FAILED at stage "table": 5 of 5 tweets missing after 4 s' in captured.err


def test_verify_passes_at_60x_after_90_s_of_runtime_and_removes_its_items(
    local_stack: LocalStack, emulator_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make run` at 60x, then `make verify ENV=local` a minute and a half later: the runtime's
    clock is 90 wall seconds (90 clock minutes) past its start when verify's tweets arrive, and
    the mapping (MaximumRecordAgeInSeconds 3600) still delivers them; it measures a record's age
    in wall time. The clock starts as if it had run 90 s instead of the test waiting them."""
    runtime = LocalRuntime(
        local_stack.outputs,
        local_stack.endpoint,
        build_dir=local_stack.build_dir,
        state_dir=local_stack.state_dir / "runtime",
        clock=SystemClock(CLOCK_SPEED, running_for=RUNTIME_SECONDS_BEFORE_VERIFY),
    )
    with runtime:
        code = main(["verify", "--state-dir", str(local_stack.state_dir), "--poll-interval", "0.5"])

    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "verify: OK" in captured.out
    assert "lake deadline 240 s (Firehose buffers 60 s + 60 s)" in captured.out
    assert "on DuckDB: saw 2 of 2 synthetic topics" in captured.out
    for topic in synthetic_topics(captured.out):
        assert topic_items(local_stack, topic) == []


VERIFY_KEY = "AKIAVERIFYDEPLOYER"
"""The access key `verify` signs with in the coverage test (any key but STS's is the account's)."""

# What the deployer calls that its policy needs not allow, and why.
NEEDS_NO_PERMISSION = {
    # "GetCallerIdentity": "No permissions are required to perform this operation."
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    "sts:GetCallerIdentity",
    # The AWS provider's account lookup asks iam:GetUser first and, refused (a role has no user),
    # goes on to sts:GetCallerIdentity: "Credential Types and Configuration", hashicorp/aws docs.
    # https://registry.terraform.io/providers/hashicorp/aws/latest/docs#skip_requesting_account_id
    "iam:GetUser",
}


def test_the_deployer_policy_covers_every_call_of_deploy_verify_and_destroy(
    local_stack: LocalStack,
    emulator_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every request Terraform's apply and destroy and `trendstream verify` send (the emulator's
    call log: the IAM action and resource of each, permission-only actions such as iam:PassRole
    and the log-delivery actions of API access logs included) is allowed by
    terraform/deployer-policy.json, evaluated as the emulator evaluates a role's policies.
    Last in this module: it destroys the stack. `verify` reads the outputs and reaches the stack
    as it does on AWS (`--outputs`, the environment's endpoint and credentials) and signs with a
    key of its own, so the local runtime's requests (it plays Lambda and Firehose with the
    account's `test` key) are told apart from it; Terraform is alone during apply and destroy.

    "Actions, resources, and condition keys for AWS services" (the Service Authorization
    Reference): https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    """
    policy = json.loads((stack.REPO_ROOT / "terraform" / "deployer-policy.json").read_text())
    runtime = LocalRuntime(
        local_stack.outputs,
        local_stack.endpoint,
        build_dir=local_stack.build_dir,
        state_dir=local_stack.state_dir / "runtime-deployer",
        clock_speed=CLOCK_SPEED,
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", VERIFY_KEY)
    verify_from = call_log.size(local_stack.call_log)
    with runtime:
        # As on AWS: the outputs given, the credentials and endpoint the environment holds.
        code = main(
            ["verify", "--outputs", str(local_stack.paths.outputs_file), "--poll-interval", "0.5"]
        )
    verify_to = call_log.size(local_stack.call_log)
    stack.destroy_stack(local_stack.endpoint, local_stack.paths)

    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    phases = {
        "apply": (call_log.read(local_stack.call_log, 0, local_stack.applied_at), "test"),
        "verify": (call_log.read(local_stack.call_log, verify_from, verify_to), VERIFY_KEY),
        "destroy": (call_log.read(local_stack.call_log, verify_to), "test"),
    }
    refused = set()
    for phase, (requests, key) in phases.items():
        assert any(request.key == key and request.calls for request in requests), phase
        refused |= {
            (phase, action, resource, request)
            for action, resource, request in call_log.not_allowed(requests, [policy], key=key)
            if action not in NEEDS_NO_PERMISSION
        }
    assert not refused, "the deployer policy does not allow\n" + "\n".join(
        f"  {phase}: {action} on {resource} ({request})"
        for phase, action, resource, request in sorted(refused)
    )
