"""In-memory stand-ins for the AWS clients: they answer at once and count every call.

The CPU figures are taken with these clients in place, so whatever they cost is charged to the
code under test: they do the least that keeps the code honest (keys stored so a conditional
put can fail, nothing else parsed). botocore's ``Stubber`` validates every request against the
service model and would cost more than the consumer itself on a 10,000-record batch.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from tweet_record.activity import ACTIVE_HOUR_ATTRIBUTE
from tweet_record.items import item_size

Key = tuple[str, str]


def _key(item_or_key: dict[str, Any]) -> Key:
    return item_or_key["pk"]["S"], item_or_key["sk"]["S"]


def _write_units(item: dict[str, Any]) -> int:
    """1 write unit per started KB (DynamoDB developer guide, read/write operations)."""
    return max(1, -(-item_size(item) // 1024))


class FakeDynamoDB:
    """The DynamoDB calls the consumer and the naive baseline make, answered from a dict.

    Conditions are evaluated for the expressions the consumer sends (``attribute_not_exists``
    on a put, the stats watermark on an update) and any other condition is refused, so the fake
    cannot pass a request it does not understand. A failed condition raises
    ``ConditionalCheckFailedException`` with the item as it was, as
    ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` asks. Consumed capacity is reported as
    DynamoDB documents it for on-demand tables: a write unit per started KB, sized on the larger
    of the item before and after the write; a write refused by its condition still consumes
    them, and is charged here, but reports nothing. Calls come from the consumer's threads: a
    conditional put is one atomic ``dict.setdefault``, calls are logged with ``list.append``, and
    only stats updates (tweet keys and minute keys never meet) take a lock.
    """

    def __init__(self) -> None:
        self.items: dict[Key, dict[str, Any]] = {}
        self.updates = 0
        self.index_write_units = 0
        """Of the keys-only discovery index (``tweet_record.activity``), included in the calls'
        units as ``ReturnConsumedCapacity=TOTAL`` includes them."""
        self._log: list[tuple[str, int, str]] = []
        """(operation, write units, partition key) of every call; ``list.append`` is atomic under
        the GIL."""
        self._cpu: list[float] = []
        """This stand-in's own CPU per call (per calling thread), which the benchmark does not
        charge to the consumer."""
        self._lock = threading.Lock()
        """For stats updates only (read-modify-write). Puts take no lock: a lock every put of
        16 threads queues on would charge its convoys to the consumer's CPU, and a real
        client's threads never wait on each other."""

    @property
    def calls(self) -> Counter[str]:
        return Counter(operation for operation, _, _ in self._log)

    @property
    def write_units(self) -> float:
        return float(sum(units for _, units, _ in self._log))

    def write_units_by_partition_key(self) -> Counter[str]:
        """Write units each partition key took: one partition serves at most 1,000 a second
        (DynamoDB "Best practices for designing and using partition keys effectively")."""
        units: Counter[str] = Counter()
        for _, spent, partition_key in self._log:
            units[partition_key] += spent
        return units

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu)

    def put_item(
        self,
        *,
        TableName: str,
        Item: dict[str, Any],
        ConditionExpression: str | None = None,
        ReturnValuesOnConditionCheckFailure: str = "NONE",
        ReturnConsumedCapacity: str = "NONE",
    ) -> dict[str, Any]:
        started = time.thread_time()
        try:
            key = _key(Item)
            units = _write_units(Item)
            if ConditionExpression is None:
                old = self.items.get(key)
                self.items[key] = Item
            elif ConditionExpression == "attribute_not_exists(pk)":
                old = self.items.setdefault(key, Item)  # atomic: one of two racing puts wins
                if old is not Item:
                    self._log.append(("PutItem", max(units, _write_units(old)), key[0]))
                    raise _condition_failed("PutItem", old, ReturnValuesOnConditionCheckFailure)
                old = None
            else:
                raise ValueError(f"the fake has no rule for {ConditionExpression!r}")
            units = max(units, _write_units(old) if old else 0)
            self._log.append(("PutItem", units, key[0]))
            return _consumed(TableName, units, ReturnConsumedCapacity)
        finally:
            self._cpu.append(time.thread_time() - started)

    def update_item(
        self,
        *,
        TableName: str,
        Key: dict[str, Any],
        UpdateExpression: str,
        ExpressionAttributeNames: dict[str, str],
        ExpressionAttributeValues: dict[str, Any],
        ConditionExpression: str | None = None,
        ReturnValuesOnConditionCheckFailure: str = "NONE",
        ReturnConsumedCapacity: str = "NONE",
    ) -> dict[str, Any]:
        """The consumer's stats update: ``ADD #cN :cN, … SET expires_at = :expires, #w = :last``."""
        with self._lock:
            started = time.thread_time()
            try:
                key = _key(Key)
                old = self.items.get(key)
                names, values = ExpressionAttributeNames, ExpressionAttributeValues
                if not _watermark_condition_holds(ConditionExpression, old, names, values):
                    self._log.append(("UpdateItem", _write_units(old) if old else 1, key[0]))
                    raise _condition_failed(
                        "UpdateItem", old or {}, ReturnValuesOnConditionCheckFailure
                    )
                item = dict(old) if old else dict(Key)
                for placeholder, name in names.items():
                    if placeholder.startswith("#c"):
                        before = int(item.get(name, {"N": "0"})["N"])
                        added = int(values[":" + placeholder[1:]]["N"])
                        item[name] = {"N": str(before + added)}
                item["expires_at"] = values[":expires"]
                item[names["#w"]] = values[":last"]
                if ":hour" in values:
                    item[ACTIVE_HOUR_ATTRIBUTE] = values[":hour"]
                index_units = _keys_only_index_units(old, item)
                self.index_write_units += index_units
                units = max(_write_units(item), _write_units(old) if old else 0) + index_units
                self.items[key] = item
                self.updates += 1
                self._log.append(("UpdateItem", units, key[0]))
                return _consumed(TableName, units, ReturnConsumedCapacity)
            finally:
                self._cpu.append(time.thread_time() - started)

    def total_calls(self) -> int:
        return len(self._log)


def _keys_only_index_units(old: dict[str, Any] | None, new: dict[str, Any]) -> int:
    """Writes a keys-only index on ``active_hour`` costs for one item write: one to put an
    entry, two to move it, none when its keys did not change (non-key attributes are not
    projected). An entry is well under 1 KB. ("Provisioned throughput considerations for global
    secondary indexes", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html)"""
    before = (old or {}).get(ACTIVE_HOUR_ATTRIBUTE)
    after = new.get(ACTIVE_HOUR_ATTRIBUTE)
    if before == after:
        return 0
    return 1 if before is None or after is None else 2


def _consumed(table_name: str, units: int, wanted: str) -> dict[str, Any]:
    if wanted == "NONE":
        return {}
    return {"ConsumedCapacity": {"TableName": table_name, "CapacityUnits": float(units)}}


def _condition_failed(operation: str, old: dict[str, Any], return_values: str) -> ClientError:
    response: dict[str, Any] = {
        "Error": {
            "Code": "ConditionalCheckFailedException",
            "Message": "The conditional request failed",
        }
    }
    if return_values == "ALL_OLD":
        response["Item"] = old
    return ClientError(response, operation)  # type: ignore[arg-type]


def _watermark_condition_holds(
    condition: str | None,
    item: dict[str, Any] | None,
    names: dict[str, str],
    values: dict[str, Any],
) -> bool:
    if condition is None:
        return True
    stored = (item or {}).get(names.get("#w", ""), {}).get("S")
    if condition == "attribute_not_exists(#w) OR #w < :first":
        return stored is None or stored < values[":first"]["S"]
    if condition == "#w = :old":
        return stored is not None and stored == values[":old"]["S"]
    raise ValueError(f"the fake has no rule for {condition!r}")


class FakeS3:
    """Quarantine writes: counted, bodies kept."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.objects[Key] = Body
        return {}


class CountingKinesis:
    """``PutRecords`` / ``PutRecord`` that accept everything and count calls and records."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.records = 0

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["PutRecords"] += 1
        self.records += len(Records)
        accepted = [
            {"SequenceNumber": str(self.records + index), "ShardId": "shardId-000000000000"}
            for index in range(len(Records))
        ]
        return {"FailedRecordCount": 0, "Records": accepted}

    def put_record(self, StreamName: str, Data: bytes, PartitionKey: str) -> dict[str, Any]:
        self.calls["PutRecord"] += 1
        self.records += 1
        return {"SequenceNumber": str(self.records), "ShardId": "shardId-000000000000"}


class FakeComprehend:
    """``BatchDetectSentiment`` answering NEUTRAL at once; calls and documents counted."""

    def __init__(self) -> None:
        self.calls = 0
        self.documents = 0

    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        self.calls += 1
        self.documents += len(TextList)
        return {
            "ResultList": [{"Index": i, "Sentiment": "NEUTRAL"} for i in range(len(TextList))],
            "ErrorList": [],
        }
