"""Per-topic fetch state in the EventData table: the newest tweet id written (since_id) and, after
a 429, the time the X API said the limit resets.

Item: `pk=CHECKPOINT#<key>`, `sk=SINCE_ID`, `since_id` (Number, so "only move forward" is a
DynamoDB condition), `rate_limited_until` (Unix seconds), `updated_at`, `expires_at` (TTL:
search/recent only reaches 7 days back, so an older checkpoint is useless and may expire).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

CHECKPOINT_SORT_KEY = "SINCE_ID"
CHECKPOINT_TTL_SECONDS = 8 * 24 * 3600


@dataclass(frozen=True)
class Checkpoint:
    since_id: str | None = None
    rate_limited_until: int | None = None


def checkpoint_key(name: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"CHECKPOINT#{name}"}, "sk": {"S": CHECKPOINT_SORT_KEY}}


class CheckpointStore:
    def __init__(
        self,
        table_name: str,
        client: Callable[[], DynamoDBClient],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._table_name = table_name
        self._client = client
        self._now = now

    def load(self, name: str) -> Checkpoint:
        item = (
            self._client()
            .get_item(TableName=self._table_name, Key=checkpoint_key(name), ConsistentRead=True)
            .get("Item", {})
        )
        since = item.get("since_id", {}).get("N")
        until = item.get("rate_limited_until", {}).get("N")
        return Checkpoint(since_id=since, rate_limited_until=int(until) if until else None)

    def save_since_id(self, name: str, since_id: str) -> None:
        """Moves since_id forward only: an overlapping run that got further is never undone."""
        from botocore.exceptions import ClientError  # noqa: PLC0415 - lazy, like boto3 itself

        try:
            self._client().update_item(
                TableName=self._table_name,
                Key=checkpoint_key(name),
                UpdateExpression="SET since_id = :id, updated_at = :now, expires_at = :exp",
                ConditionExpression="attribute_not_exists(since_id) OR since_id < :id",
                ExpressionAttributeValues={
                    ":id": {"N": since_id},
                    **self._timestamps(),
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            logger.info("Checkpoint already ahead", extra={"topic": name, "since_id": since_id})

    def save_rate_limit(self, name: str, reset_at: int) -> None:
        self._client().update_item(
            TableName=self._table_name,
            Key=checkpoint_key(name),
            UpdateExpression=(
                "SET rate_limited_until = :reset, updated_at = :now, expires_at = :exp"
            ),
            ExpressionAttributeValues={":reset": {"N": str(reset_at)}, **self._timestamps()},
        )

    def _timestamps(self) -> dict[str, dict[str, str]]:
        now = self._now()
        return {
            ":now": {"S": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
            ":exp": {"N": str(int(now) + CHECKPOINT_TTL_SECONDS)},
        }
