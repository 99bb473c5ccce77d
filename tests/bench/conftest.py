"""The benchmarks set handler environment variables; keep them out of other tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bench.dataset import StreamRecordBytes, replay_records


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def records() -> list[StreamRecordBytes]:
    """1,000 replayed (topic, tweet) records: enough for full PutRecords calls."""
    return replay_records(1000)
