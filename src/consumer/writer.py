"""Idempotent bulk writes of tweet items with ``BatchWriteItem``.

Items are packed 25 per call across the whole Lambda batch (1,000 tweets = 40 calls when
DynamoDB keeps up). Items DynamoDB hands back in ``UnprocessedItems`` go back to the front of
the queue and ride in the next call after a jittered exponential backoff; an item that is still
unprocessed after ``Backoff.max_attempts`` sends, or whose call keeps failing, is reported as
failed so its record is redelivered. Keys are de-duplicated first (last item wins) because
DynamoDB rejects a batch that names one key twice. Puts overwrite, so resending is harmless.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from consumer.retry import RETRYABLE_ERROR_CODES, Backoff
from tweet_record.items import Item, Key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

MAX_BATCH_WRITE_ITEMS = 25


class TweetWriteFailed(RuntimeError):
    """The item was not stored; its record must be redelivered."""


@dataclass
class WriteOutcome:
    written: set[Key] = field(default_factory=set)
    failed: dict[Key, Exception] = field(default_factory=dict)
    calls: int = 0
    retries: int = 0


def item_key(item: Item) -> Key:
    return item["pk"]["S"], item["sk"]["S"]


@dataclass
class _Pending:
    key: Key
    item: Item
    sends: int = 0


class TweetWriter:
    def __init__(self, client: DynamoDBClient, table_name: str, backoff: Backoff) -> None:
        self._client = client
        self._table_name = table_name
        self._backoff = backoff

    def write(self, items: Sequence[Item]) -> WriteOutcome:
        outcome = WriteOutcome()
        unique = {item_key(item): item for item in items}
        queue = deque(_Pending(key, item) for key, item in unique.items())
        setbacks = 0  # consecutive calls that did not store everything they carried
        while queue:
            batch = [queue.popleft() for _ in range(min(MAX_BATCH_WRITE_ITEMS, len(queue)))]
            for pending in batch:
                pending.sends += 1
            returned, failure = self._send(batch, outcome)
            for pending in batch:
                if pending.key not in returned:
                    outcome.written.add(pending.key)
            if not returned:
                setbacks = 0
                continue
            setbacks += 1
            hopeless = failure is not None and not _retryable(failure)
            retry_later: list[_Pending] = []
            for pending in batch:
                if pending.key not in returned:
                    continue
                if hopeless or pending.sends >= self._backoff.max_attempts:
                    outcome.failed[pending.key] = _failed(pending, failure)
                else:
                    retry_later.append(pending)
            if retry_later:
                queue.extendleft(reversed(retry_later))
                outcome.retries += 1
                self._backoff.wait(setbacks)
        return outcome

    def _send(
        self, batch: list[_Pending], outcome: WriteOutcome
    ) -> tuple[set[Key], Exception | None]:
        """Send one call; return the keys not stored (and the error when the call failed)."""
        requests: list[WriteRequestTypeDef] = [{"PutRequest": {"Item": p.item}} for p in batch]
        outcome.calls += 1
        try:
            response = self._client.batch_write_item(RequestItems={self._table_name: requests})
        except (ClientError, BotoCoreError) as error:
            return {pending.key for pending in batch}, error
        unprocessed: Any = response.get("UnprocessedItems", {}).get(self._table_name, [])
        return {item_key(request["PutRequest"]["Item"]) for request in unprocessed}, None


def _retryable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "") in RETRYABLE_ERROR_CODES
    return True  # BotoCoreError: connection-level, worth another try


def _failed(pending: _Pending, cause: Exception | None) -> TweetWriteFailed:
    detail = f": {cause}" if cause is not None else " (still unprocessed)"
    failure = TweetWriteFailed(f"tweet item not written after {pending.sends} sends{detail}")
    failure.__cause__ = cause
    return failure
