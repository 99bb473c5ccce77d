"""DynamoDB: requests are atomic with respect to each other.

moto 5.2.5 serves requests on many threads but its DynamoDB backend is not thread safe: a scan
or query iterating a table while another request writes to it fails with "dictionary changed
size during iteration", a 500 that AWS never answers. The consumer writes with several threads
while the CLI and the tests read the same table, so here every DynamoDB request runs under one
lock (DynamoDB's own per-item isolation is stronger than the emulator needs to be).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_REQUEST_LOCK = threading.RLock()

_original_call_action = DynamoHandler.call_action


def call_action(self: DynamoHandler) -> Any:
    with _REQUEST_LOCK:
        return _original_call_action(self)


def apply() -> None:
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
