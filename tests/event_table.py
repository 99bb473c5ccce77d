"""The EventData table's key schema as Terraform creates it, for tests that stand it up directly."""

from __future__ import annotations

from typing import Any

EVENT_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def create_event_table(dynamodb: Any, table_name: str) -> None:
    """Create a table shaped like `terraform/modules/event_table` (keys pk/sk, on demand)."""
    dynamodb.create_table(TableName=table_name, **EVENT_TABLE_SCHEMA)
