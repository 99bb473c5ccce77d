"""In-memory stand-ins for the AWS clients: they answer at once and count every call.

The CPU figures are taken with these clients in place, so whatever they cost is charged to the
code under test: they do the least that keeps the code honest (keys stored so a conditional
put can fail, nothing else parsed). botocore's ``Stubber`` validates every request against the
service model and would cost more than the consumer itself on a 10,000-record batch.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from tweet_record.items import item_size

Key = tuple[str, str]


def _key(item_or_key: dict[str, Any]) -> Key:
    return item_or_key["pk"]["S"], item_or_key["sk"]["S"]


def _write_units(item: dict[str, Any]) -> int:
    return -(-item_size(item) // 1024)


class FakeDynamoDB:
    """The DynamoDB calls the consumer and the naive baseline make, answered from a dict.

    Consumed capacity is reported as DynamoDB documents it for on-demand tables: a write unit
    per started KB of each item written, twice that inside a transaction; an update is sized
    on the larger of the item before and after it.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: dict[Key, dict[str, Any]] = {}
        self.updates = 0
        self.write_units = 0.0
        self.cpu_seconds = 0.0
        """This stand-in's own CPU, which the benchmark does not charge to the consumer."""

    def transact_write_items(
        self, TransactItems: list[dict[str, Any]], ReturnConsumedCapacity: str = "NONE"
    ) -> dict[str, Any]:
        started = time.process_time()
        try:
            return self._transact(TransactItems, ReturnConsumedCapacity)
        finally:
            self.cpu_seconds += time.process_time() - started

    def _transact(
        self, TransactItems: list[dict[str, Any]], ReturnConsumedCapacity: str
    ) -> dict[str, Any]:
        self.calls["TransactWriteItems"] += 1
        existing = [
            index
            for index, action in enumerate(TransactItems)
            if "Put" in action
            and "ConditionExpression" in action["Put"]
            and _key(action["Put"]["Item"]) in self.items
        ]
        if existing:
            reasons = [
                {"Code": "ConditionalCheckFailed" if index in existing else "None"}
                for index in range(len(TransactItems))
            ]
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": reasons,  # type: ignore[typeddict-item]
                },
                "TransactWriteItems",
            )
        units = 0
        for action in TransactItems:
            if "Put" in action:
                item = action["Put"]["Item"]
                self.items[_key(item)] = item
                units += 2 * _write_units(item)
            else:
                units += 2 * _write_units(self._update(action["Update"]))
        self.write_units += units
        if ReturnConsumedCapacity == "NONE":
            return {}
        table = TransactItems[0]["Put" if "Put" in TransactItems[0] else "Update"]["TableName"]
        return {"ConsumedCapacity": [{"TableName": table, "CapacityUnits": float(units)}]}

    def _update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Apply ``ADD #c :c, … SET expires_at = :expires``; return the item after it."""
        self.updates += 1
        key = _key(update["Key"])
        item = self.items.setdefault(key, dict(update["Key"]))
        values = update["ExpressionAttributeValues"]
        for placeholder, name in update["ExpressionAttributeNames"].items():
            value = values[":" + placeholder[1:]]
            before = int(item.get(name, {"N": "0"})["N"])
            item[name] = {"N": str(before + int(value["N"]))}
        item["expires_at"] = values[":expires"]
        return item

    def put_item(self, TableName: str, Item: dict[str, Any]) -> dict[str, Any]:
        self.calls["PutItem"] += 1
        self.items[_key(Item)] = Item
        return {}

    def total_calls(self) -> int:
        return sum(self.calls.values())


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
