"""Helpers shared by the emulator tests: clients bound to an endpoint, ports, readiness."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
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


class ServerStartError(RuntimeError):
    """A server a test started exited or stayed silent during start-up."""


def wait_for_port(log: Path, process: subprocess.Popen[bytes], pattern: re.Pattern[str]) -> int:
    """The port a server started on port 0 says it bound, from its log: no free-port-then-bind
    race with another test process picking the same port."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"server exited during start-up: {log.read_text()}")
        match = pattern.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise ServerStartError(f"no port in {log} within {READY_TIMEOUT}s")


def wait_until_answering(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError("server exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise ServerStartError(f"nothing answered on port {port} within {READY_TIMEOUT}s")
