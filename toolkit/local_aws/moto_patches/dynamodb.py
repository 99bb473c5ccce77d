"""DynamoDB: requests are atomic with respect to each other, and transactions cost what they touch.

moto 5.2.5 serves requests on many threads but its DynamoDB backend is not thread safe:
`TransactWriteItems` takes its rollback copy with `copy.deepcopy` of every table it touches, and
a write from another request changing the table during that copy fails the transaction with
"dictionary changed size during iteration" (a 500 that AWS never answers); scans racing writes
fail the same way. Copying the whole table also makes each transaction cost O(table size).

Here every DynamoDB request runs under one lock (DynamoDB's own per-item isolation is stronger
than the emulator needs to be), and a transaction snapshots only the items it names: on
cancellation those items are restored to their state before the transaction, which is what
AWS's all-or-nothing semantics require.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

logger = logging.getLogger(__name__)
_REQUEST_LOCK = threading.RLock()
_TRANSACTION = threading.local()

_original_call_action = DynamoHandler.call_action
_original_transact_write_items = DynamoDBBackend.transact_write_items


def call_action(self: DynamoHandler) -> Any:
    with _REQUEST_LOCK:
        return _original_call_action(self)


def table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
    """A real deep copy, except inside a transaction, where moto's whole-table copy is skipped."""
    if getattr(_TRANSACTION, "active", False):
        return self
    duplicate = object.__new__(type(self))
    memo[id(self)] = duplicate
    for name, value in self.__dict__.items():
        setattr(duplicate, name, copy.deepcopy(value, memo))
    return duplicate


@contextmanager
def _without_table_copies() -> Iterator[None]:
    _TRANSACTION.active = True
    try:
        yield
    finally:
        _TRANSACTION.active = False


def _target_key(backend: DynamoDBBackend, operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind, body = next(iter(operation.items()))
    table_name: str = body["TableName"]
    if kind != "Put":
        return table_name, body["Key"]
    table = backend.get_table(table_name)
    key = {table.hash_key_attr: body["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = body["Item"][table.range_key_attr]
    return table_name, key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    snapshots: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for operation in transact_items:
        try:
            table_name, key = _target_key(self, operation)
            current = self.get_item(table_name, key)
        except Exception:  # moto's own validation, below, rejects the transaction properly
            logger.debug("transaction item has no valid key; moto will reject it", exc_info=True)
            continue
        before = copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None
        snapshots.append((table_name, key, before))
    try:
        with _without_table_copies():
            _original_transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, before in reversed(snapshots):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)
        raise


def apply() -> None:
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    Table.__deepcopy__ = table_deepcopy  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
