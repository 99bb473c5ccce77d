"""In-memory stand-ins for the AWS clients: they answer at once and count every call.

The CPU figures are taken with these clients in place, so whatever they cost is charged to the
code under test: they do the least that keeps the code honest (keys stored so a conditional
put can fail, nothing else parsed). botocore's ``Stubber`` validates every request against the
service model and would cost more than the consumer itself on a 10,000-record batch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

Key = tuple[str, str]


def _key(item_or_key: dict[str, Any]) -> Key:
    return item_or_key["pk"]["S"], item_or_key["sk"]["S"]


class FakeDynamoDB:
    """The DynamoDB calls the consumer and the naive baseline make, answered from a dict."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: dict[Key, dict[str, Any]] = {}
        self.updates = 0

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        self.calls["BatchWriteItem"] += 1
        for requests in RequestItems.values():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.items[_key(item)] = item
        return {"UnprocessedItems": {}}

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
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
        for action in TransactItems:
            if "Put" in action:
                item = action["Put"]["Item"]
                self.items[_key(item)] = item
            else:
                self.updates += 1
        return {}

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
