"""Root fixtures: one patched moto emulator per test process (per xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_aws.moto_server import (
    EmulatorHandle,
    emulator_environment,
    start_emulator,
    stop_emulator,
)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """A running emulator on a free loopback port, stopped when the session ends.

    Its log is kept under pytest's temporary directory (`emulator0/emulator.log`) for post-mortems.
    """
    handle = start_emulator(0, log_file=tmp_path_factory.mktemp("emulator") / "emulator.log")
    try:
        yield handle
    finally:
        stop_emulator(handle)


@pytest.fixture
def aws_env(emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point boto3 (and anything reading the standard variables) at the emulator."""
    environment = emulator_environment(emulator.endpoint)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment
