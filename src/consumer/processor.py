"""A Powertools batch processor that parses record by record, then stores the batch in bulk.

Storing records one by one would cost one DynamoDB call per tweet. Here the record handler only
decodes, validates and quarantines; what it returns (parsed tweets) goes to one bulk call, whose
per-tweet failures become record failures, so ``batchItemFailures`` names exactly the records
that must be redelivered. It subclasses ``BasePartialProcessor``, the extension point Powertools
documents for custom processors, and relies only on its public members: ``records`` and
``handler`` (set by ``__call__``), ``success_handler``/``failure_handler`` and the
``success_messages``/``fail_messages`` they fill. ``tests/consumer/test_processor.py`` pins them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import BasePartialProcessor
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

BulkHandler = Callable[[Sequence[Any]], Sequence[Exception | None]]
"""Stores the handler results of a batch; returns an index-aligned failure per result."""


class BulkStoreProcessor(BasePartialProcessor):
    def __init__(self, bulk_handler: BulkHandler) -> None:
        super().__init__()
        self._bulk_handler = bulk_handler

    def _prepare(self) -> None:
        self.success_messages.clear()
        self.fail_messages.clear()
        self.exceptions.clear()

    def _clean(self) -> None:
        """The response is read after the context closes; nothing to release."""

    def _process_record(self, record: dict[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError("records are processed together in process()")

    async def _async_process_record(self, record: dict[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError("the consumer is synchronous")

    def process(self) -> list[tuple[Any, ...]]:
        outcomes: list[tuple[Any, ...] | None] = []
        staged: list[tuple[int, KinesisStreamRecord, Any]] = []
        for record in self.records:
            kinesis_record = KinesisStreamRecord(record)
            try:
                result = self.handler(kinesis_record)
            except Exception:  # noqa: BLE001 - as in Powertools: the handler's error fails its record
                outcomes.append(self.failure_handler(kinesis_record, sys.exc_info()))
                continue
            if result is None:  # quarantined: processed, nothing to store
                outcomes.append(self.success_handler(kinesis_record, result))
            else:
                staged.append((len(outcomes), kinesis_record, result))
                outcomes.append(None)
        if staged:
            failures = self._bulk_handler([result for _, _, result in staged])
            for (index, kinesis_record, result), failure in zip(staged, failures, strict=True):
                if failure is None:
                    outcomes[index] = self.success_handler(kinesis_record, result)
                else:
                    info = (type(failure), failure, failure.__traceback__)
                    outcomes[index] = self.failure_handler(kinesis_record, info)
        return [outcome for outcome in outcomes if outcome is not None]

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response: the sequence number of every failed record."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": record.kinesis.sequence_number}
                for record in self.fail_messages
                if isinstance(record, KinesisStreamRecord)
            ]
        }
