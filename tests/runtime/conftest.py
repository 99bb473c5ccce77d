"""Fixtures for the local runtime tests: tiny purpose-built functions deployed to the emulator."""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_aws.lambda_service import LambdaService
from local_aws.moto_server import ACCOUNT_ID, REGION, EmulatorHandle
from local_aws.runtime import client_factory

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/local-runtime-test"


@pytest.fixture(scope="session")
def clients(emulator: EmulatorHandle) -> Callable[[str], Any]:
    """boto3 clients pointed at the emulator, the same kind the runtime uses."""
    return client_factory(emulator.endpoint, REGION)


@pytest.fixture(scope="session", autouse=True)
def _test_role(clients: Callable[[str], Any]) -> None:
    create_test_role(clients)


def create_test_role(clients: Callable[[str], Any]) -> None:
    """The role every test function, mapping and delivery stream runs as, on this emulator."""
    iam = clients("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName="local-runtime-test",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
    # The runtime runs every function, mapping and delivery stream as its role; these tests are
    # about the runtime's semantics, so the role may do anything (IAM: tests/emulator/test_iam*).
    iam.put_role_policy(
        RoleName="local-runtime-test",
        PolicyName="anything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def zip_source(source: str, extra_files: dict[str, str] | None = None) -> bytes:
    """A deployment package with ``app.py`` at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
        for name, body in (extra_files or {}).items():
            archive.writestr(name, textwrap.dedent(body))
    return buffer.getvalue()


@dataclass(frozen=True)
class DeployedFunction:
    name: str
    arn: str
    zip_path: Path
    calls_path: Path

    def calls(self) -> list[Any]:
        """What the test handler recorded, one JSON value per invocation."""
        if not self.calls_path.exists():
            return []
        return [json.loads(line) for line in self.calls_path.read_text().splitlines()]


@pytest.fixture
def deploy(clients: Callable[[str], Any], tmp_path: Path) -> Callable[..., DeployedFunction]:
    """Zip ``source`` and create it as a function; handlers may append to ``CALLS_PATH``."""

    def create(
        source: str,
        *,
        timeout: int = 10,
        environment: dict[str, str] | None = None,
        name: str | None = None,
    ) -> DeployedFunction:
        function_name = name or unique("fn")
        body = zip_source(source)
        zip_path = tmp_path / f"{function_name}.zip"
        zip_path.write_bytes(body)
        calls_path = tmp_path / f"{function_name}.calls.jsonl"
        response = clients("lambda").create_function(
            FunctionName=function_name,
            Runtime="python3.11",
            Role=ROLE_ARN,
            Handler="app.lambda_handler",
            Code={"ZipFile": body},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": {"CALLS_PATH": str(calls_path), **(environment or {})}},
        )
        return DeployedFunction(function_name, response["FunctionArn"], zip_path, calls_path)

    return create


@pytest.fixture
def lambda_service(emulator: EmulatorHandle, tmp_path: Path) -> Iterator[LambdaService]:
    service = LambdaService(emulator.endpoint, tmp_path / "state")
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def make_stream(clients: Callable[[str], Any]) -> Callable[..., str]:
    """A fresh Kinesis stream; returns its ARN once it is ACTIVE."""

    def create(shards: int = 1) -> str:
        kinesis = clients("kinesis")
        name = unique("stream")
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        kinesis.get_waiter("stream_exists").wait(StreamName=name)
        arn: str = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        return arn

    return create


def put_records(
    clients: Callable[[str], Any], stream_arn: str, payloads: list[bytes], key: str = "pk"
) -> list[str]:
    """Put ``payloads`` in order (one PutRecords call); returns their sequence numbers."""
    response = clients("kinesis").put_records(
        StreamARN=stream_arn,
        Records=[{"Data": data, "PartitionKey": key} for data in payloads],
    )
    return [entry["SequenceNumber"] for entry in response["Records"]]


@pytest.fixture
def emulator_endpoint(emulator: EmulatorHandle) -> str:
    return emulator.endpoint
