"""The EventData table's key schema as Terraform creates it, for tests that stand it up directly."""

from __future__ import annotations

from typing import Any

from tweet_record.activity import ACTIVE_HOUR_ATTRIBUTE, ACTIVITY_INDEX

EVENT_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": ACTIVE_HOUR_ATTRIBUTE, "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": ACTIVITY_INDEX,
            "KeySchema": [
                {"AttributeName": ACTIVE_HOUR_ATTRIBUTE, "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def create_event_table(dynamodb: Any, table_name: str) -> None:
    """Create a table shaped like `terraform/modules/event_table`: keys pk/sk, the
    topic-discovery index, on demand."""
    dynamodb.create_table(TableName=table_name, **EVENT_TABLE_SCHEMA)
