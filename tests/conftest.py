"""Root fixtures: one patched moto emulator per test process (per xdist worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local_aws.moto_server import (
    EmulatorHandle,
    emulator_environment,
    start_emulator,
    stop_emulator,
)


def pytest_configure(config: pytest.Config) -> None:
    """Terraform gives every function its metrics namespace; Powertools reads it when a handler
    module is imported, and refuses to flush metrics without one. Whichever test imports a
    handler first, in whichever worker, it gets a namespace as the deployed function does."""
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "trendstream/test")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, each keeping its order: the workers hand out tests in collection
    order, so a minute-long test collected last would run alone at the end of the suite."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
