"""Helpers shared by the consumer tests: names, a Lambda context, table and call inspection."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

TABLE = "trendstream-test-EventData"
BUCKET = "trendstream-test-lake-123456789012"


@dataclass
class FakeLambdaContext:
    function_name: str = "trendstream-test-consumer"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:trendstream-test-consumer"
    )
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def scan_table() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=TABLE):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def items_with_prefix(prefix: str) -> list[dict[str, Any]]:
    return [item for item in scan_table() if item["sk"]["S"].startswith(prefix)]


class CallCounter:
    """Counts the API calls a boto3 client makes (via botocore's event hooks)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
