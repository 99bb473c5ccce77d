"""Fixtures for the emulator's own tests.

Each patch test runs against the patched emulator and, as a strict xfail, against plain moto
5.2.5, naming the exception it fails with there: the suite itself shows that every test fails
without its patch, and fails for that reason.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.emulator.support import Aws, wait_for_port, wait_until_answering

from local_aws.moto_server import EmulatorHandle

WERKZEUG_PORT = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


@pytest.fixture(scope="session")
def vanilla_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Plain moto 5.2.5 in server mode, no patches: the baseline the patches correct. On port 0,
    the port read from its start-up line."""
    log = tmp_path_factory.mktemp("vanilla-moto") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port = wait_for_port(log, process, WERKZEUG_PORT)
        wait_until_answering(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Against plain moto each patch test is a strict xfail with the exception it must fail
    with (`plain_moto_raises` marker): a plain moto that fails to start, or a test failing
    for another reason, is a failure, not proof that the patch is needed."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("aws") != "vanilla":
            continue
        marker = item.get_closest_marker("plain_moto_raises")
        if marker is None or "raises" not in marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: say what plain moto raises: "
                "@pytest.mark.plain_moto_raises(raises=...)"
            )
        item.add_marker(
            pytest.mark.xfail(
                strict=True, raises=marker.kwargs["raises"], reason="plain moto lacks the patch"
            )
        )


@pytest.fixture(params=["patched", "vanilla"])
def aws(request: pytest.FixtureRequest, emulator: EmulatorHandle) -> Aws:
    """Clients for the patched emulator, and (expected to fail) for plain moto."""
    if request.param == "patched":
        return Aws(emulator.endpoint)
    return Aws(request.getfixturevalue("vanilla_moto"))


@pytest.fixture
def patched(emulator: EmulatorHandle) -> Aws:
    """Clients for the patched emulator only."""
    return Aws(emulator.endpoint)
