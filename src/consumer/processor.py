"""A Powertools batch processor that parses record by record, then stores the batch in bulk.

Powertools' pattern for "per record, then one bulk step": the handler stays
``process_partial_response`` and the bulk step lives in the processor. The record handler only
decodes, validates and quarantines (it returns ``None`` for a quarantined record); what it
returns (parsed tweets) goes to one bulk call, with each record's shard and sequence number and,
per shard, the lowest sequence number the handler already failed: Lambda redelivers a shard from
its lowest failed record, so the bulk step must know where that is (``consumer.writes``). The
bulk call's per-tweet failures become record failures, and Powertools' own Kinesis collector
turns them into ``batchItemFailures``. Each batch's figures (``BatchSummary``) go to ``report``
when it ends, so no counter outlives its batch.

It subclasses ``BasePartialBatchProcessor``, the extension point Powertools documents for custom
processors, and relies only on its public members: ``records`` and ``handler`` (set by
``__call__``), ``success_handler``/``failure_handler`` and ``response()``.
``tests/consumer/test_processor.py`` pins them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from consumer.quarantine import shard_of

Result = TypeVar("Result")


class StagedRecord(NamedTuple, Generic[Result]):
    """A record handler's result with where its record sits in its shard."""

    result: Result
    shard_id: str
    sequence_number: str


BulkHandler = Callable[[Sequence[StagedRecord[Any]], Mapping[str, int]], Sequence[Exception | None]]
"""Stores the staged results of a batch, given each shard's lowest sequence number the record
handler failed; returns an index-aligned failure per staged result."""


@dataclass(frozen=True)
class BatchSummary:
    """What one batch came to: records in, quarantined (handled, nothing stored) and failed."""

    records: int
    quarantined: int
    failed: int


class BulkStoreProcessor(BasePartialBatchProcessor):
    def __init__(
        self, bulk_handler: BulkHandler, report: Callable[[BatchSummary], None] | None = None
    ) -> None:
        # A batch whose every record failed is reported record by record, like any partial
        # failure: Lambda then redelivers from the first one, without a function error.
        super().__init__(EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
        self._bulk_handler = bulk_handler
        self._report = report

    def _process_record(self, record: dict[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError("records are processed together in process()")

    async def _async_process_record(self, record: dict[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError("the consumer is synchronous")

    def process(self) -> list[tuple[Any, ...]]:
        outcomes: list[tuple[Any, ...] | None] = []
        staged: list[tuple[int, KinesisStreamRecord, StagedRecord[Any]]] = []
        first_failures: dict[str, int] = {}
        quarantined = failed = 0
        for record in self.records:
            kinesis_record = KinesisStreamRecord(record)
            shard_id = shard_of(kinesis_record.event_id)
            sequence_number = kinesis_record.kinesis.sequence_number
            try:
                result = self.handler(kinesis_record)
            except Exception:  # noqa: BLE001 - as in Powertools: the handler's error fails its record
                outcomes.append(self.failure_handler(kinesis_record, sys.exc_info()))
                failed += 1
                sequence = int(sequence_number)
                first_failures[shard_id] = min(first_failures.get(shard_id, sequence), sequence)
                continue
            if result is None:  # quarantined: processed, nothing to store
                quarantined += 1
                outcomes.append(self.success_handler(kinesis_record, result))
            else:
                entry = StagedRecord(result, shard_id, sequence_number)
                staged.append((len(outcomes), kinesis_record, entry))
                outcomes.append(None)
        if staged:
            failures = self._bulk_handler([entry for _, _, entry in staged], first_failures)
            for (index, kinesis_record, entry), failure in zip(staged, failures, strict=True):
                if failure is None:
                    outcomes[index] = self.success_handler(kinesis_record, entry.result)
                else:
                    failed += 1
                    info = (type(failure), failure, failure.__traceback__)
                    outcomes[index] = self.failure_handler(kinesis_record, info)
        if self._report is not None:
            self._report(BatchSummary(len(self.records), quarantined, failed))
        return [outcome for outcome in outcomes if outcome is not None]
