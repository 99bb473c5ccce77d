"""A Powertools ``BatchProcessor`` that stores the batch in bulk after the per-record pass.

Powertools processes records one by one; storing them one by one would cost one DynamoDB call
per tweet. Here the record handler only decodes, validates and quarantines; whatever it returns
(parsed tweets) is handed to one bulk call, and the records whose bulk write failed are moved
from the successes to the failures, so ``batchItemFailures`` still names exactly the records
that must be redelivered (the documented way to extend the processor is to subclass it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

BulkHandler = Callable[[Sequence[Any]], Sequence[Exception | None]]
"""Stores the handler results of a batch; returns an index-aligned failure per result."""


class BulkStoreBatchProcessor(BatchProcessor):
    def __init__(self, bulk_handler: BulkHandler, logger: logging.Logger | None = None) -> None:
        # A batch that failed entirely is reported through batchItemFailures like any other
        # (the default raises instead, which makes Lambda retry it the same way but noisily).
        super().__init__(
            event_type=EventType.KinesisDataStreams,
            raise_on_entire_batch_failure=False,
            logger=logger,
        )
        self._bulk_handler = bulk_handler

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...]] = super().process()
        staged = [
            index
            for index, (status, result, _record) in enumerate(results)
            if status == "success" and result is not None
        ]
        if not staged:
            return results
        failures = self._bulk_handler([results[index][1] for index in staged])
        failed_records: set[int] = set()
        for index, failure in zip(staged, failures, strict=True):
            if failure is None:
                continue
            record = results[index][2]  # successes keep the raw dict, failures the data class
            failed_records.add(id(record))
            results[index] = self.failure_handler(
                self._to_batch_type(record, self.event_type),
                (type(failure), failure, failure.__traceback__),
            )
        if failed_records:
            self.success_messages = [
                message for message in self.success_messages if id(message) not in failed_records
            ]
        return results
