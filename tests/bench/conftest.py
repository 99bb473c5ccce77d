"""The benchmarks configure the handlers for themselves; keep that out of other tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from bench.dataset import StreamRecordBytes, replay_records

HANDLER_MODULES = ("consumer.app", "firehose_transformer.app", "producer.app")


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Restore the environment, and forget handler modules first imported under the bench's.

    A handler builds its Logger and Metrics from the environment at import time; a module left
    in sys.modules would carry the bench's service name and log level into the Lambda tests.
    """
    saved = dict(os.environ)
    already_imported = {name for name in HANDLER_MODULES if name in sys.modules}
    yield
    os.environ.clear()
    os.environ.update(saved)
    for name in set(HANDLER_MODULES) - already_imported:
        sys.modules.pop(name, None)
        package, _, module = name.rpartition(".")
        if package in sys.modules and hasattr(sys.modules[package], module):
            delattr(sys.modules[package], module)


@pytest.fixture(scope="session")
def records() -> list[StreamRecordBytes]:
    """1,000 replayed (topic, tweet) records: enough for full PutRecords calls."""
    return replay_records(1000)
