"""Helpers shared by the emulator tests: clients bound to an endpoint, ports, readiness."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from local_aws.moto_server import emulator_environment

READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Aws:
    """boto3 clients bound to one emulator endpoint."""

    endpoint: str

    def client(self, service: str) -> Any:
        environment = emulator_environment(self.endpoint)
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=environment["AWS_DEFAULT_REGION"],
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited during start-up"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on port {port} within {READY_TIMEOUT}s")
