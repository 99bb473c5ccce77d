"""Fixtures for the emulator's own tests.

Each patch test runs against the patched emulator and, as a strict xfail, against plain moto
5.2.5: the suite itself shows that every test fails without its patch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.emulator.support import Aws, free_port, wait_until_answering

from local_aws.moto_server import EmulatorHandle


@pytest.fixture(scope="session")
def vanilla_moto() -> Iterator[str]:
    """Plain moto 5.2.5 in server mode, no patches: the baseline the patches correct."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_answering(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture(
    params=[
        "patched",
        pytest.param(
            "vanilla", marks=pytest.mark.xfail(strict=True, reason="plain moto lacks the patch")
        ),
    ]
)
def aws(request: pytest.FixtureRequest, emulator: EmulatorHandle) -> Aws:
    """Clients for the patched emulator, and (expected to fail) for plain moto."""
    if request.param == "patched":
        return Aws(emulator.endpoint)
    return Aws(request.getfixturevalue("vanilla_moto"))


@pytest.fixture
def patched(emulator: EmulatorHandle) -> Aws:
    """Clients for the patched emulator only."""
    return Aws(emulator.endpoint)
