"""A Powertools batch processor that parses record by record, then stores the batch in bulk.

Powertools' pattern for "per record, then one bulk step": the handler stays
``process_partial_response`` and the bulk step lives in the processor. The record handler only
decodes, deaggregates, validates and quarantines (it returns ``None`` for a quarantined record,
``Deaggregated`` for a KPL aggregate); what it returns (parsed tweets) goes to one bulk call,
with each record's shard, sequence number and sub-sequence number and, per shard, the lowest
position the handler already failed: Lambda redelivers a shard from its lowest failed record,
so the bulk step must know where that is (``consumer.writes``). The bulk call's per-tweet
failures become record failures (a Kinesis record fails when any of its user records does: its
sequence number is the ``itemIdentifier``), and Powertools' own Kinesis collector turns them
into ``batchItemFailures``.

**Positions.** A user record of an aggregate shares its Kinesis record's sequence number, so the
order within a shard is (sequence number, sub-sequence number): ``record_position`` makes it one
integer, ``sequence * SUBSEQUENCE_SPAN + subsequence`` (0 for a plain record), which is what
``consumer.writes`` compares and stores in its watermarks. A handler failure of a Kinesis record
is at the position of its first user record, where Lambda's redelivery starts.

Exactly once, for user records as for plain records: ``consumer.writes`` argues over positions,
and each user record has its own (its origin names its sub-sequence number, its watermark
position is unique in the shard). A failure inside an aggregate reports the whole Kinesis
record; Lambda redelivers from its first user record, at or before the first failure the bulk
step saw, as a whole-batch retry does: the user records counted before the failure are at or
below the watermark then, and are not counted again.

Each batch's figures (``BatchSummary``) go to ``report`` when it ends, so no counter outlives
its batch.

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


SUBSEQUENCE_SPAN = 1_000_000
"""Above any sub-sequence number: a KPL aggregate holds at most 1 MiB, a user record at least 3
bytes of it, so fewer than 350,000 user records."""


def record_position(sequence_number: str, subsequence: int | None = None) -> int:
    """Where a (user) record sits in its shard, as one integer ordered as the shard is."""
    subsequence = subsequence or 0
    if not 0 <= subsequence < SUBSEQUENCE_SPAN:
        raise ValueError(f"sub-sequence number {subsequence} out of range")
    return int(sequence_number) * SUBSEQUENCE_SPAN + subsequence


class StagedRecord(NamedTuple, Generic[Result]):
    """A record handler's result with where its record sits in its shard."""

    result: Result
    shard_id: str
    sequence_number: str
    subsequence: int | None = None
    """The user record's index in its KPL aggregate; None for a plain record."""

    @property
    def position(self) -> int:
        return record_position(self.sequence_number, self.subsequence)


class Deaggregated(NamedTuple, Generic[Result]):
    """What the record handler returns for a KPL aggregate: each user record's result with its
    sub-sequence number, and how many of its user records it quarantined."""

    results: tuple[tuple[int, Result], ...]
    quarantined: int


BulkHandler = Callable[[Sequence[StagedRecord[Any]], Mapping[str, int]], Sequence[Exception | None]]
"""Stores the staged results of a batch, given each shard's lowest position the record handler
failed; returns an index-aligned failure per staged result."""


@dataclass(frozen=True)
class BatchSummary:
    """What one batch came to: records in, quarantined (handled, nothing stored) and failed."""

    records: int
    quarantined: int
    """Quarantined records, and user records of aggregates each."""
    failed: int


def _entries(
    result: Any, shard_id: str, sequence_number: str
) -> tuple[list[StagedRecord[Any]], int]:
    """What one record handler result stages for the bulk step, and what it quarantined."""
    if isinstance(result, Deaggregated):
        entries = [
            StagedRecord(value, shard_id, sequence_number, subsequence)
            for subsequence, value in result.results
        ]
        return entries, result.quarantined
    if result is None:  # quarantined: processed, nothing to store
        return [], 1
    return [StagedRecord(result, shard_id, sequence_number)], 0


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
        kinesis_records: list[KinesisStreamRecord] = []
        staged: list[tuple[int, StagedRecord[Any]]] = []
        first_failures: dict[str, int] = {}
        quarantined = failed = 0
        for record in self.records:
            kinesis_record = KinesisStreamRecord(record)
            shard_id = shard_of(kinesis_record.event_id)
            sequence_number = kinesis_record.kinesis.sequence_number
            index = len(outcomes)
            kinesis_records.append(kinesis_record)
            try:
                result = self.handler(kinesis_record)
            except Exception:  # noqa: BLE001 - as in Powertools: the handler's error fails its record
                outcomes.append(self.failure_handler(kinesis_record, sys.exc_info()))
                failed += 1
                position = record_position(sequence_number)
                first_failures[shard_id] = min(first_failures.get(shard_id, position), position)
                continue
            entries, quarantined_here = _entries(result, shard_id, sequence_number)
            quarantined += quarantined_here
            staged.extend((index, entry) for entry in entries)
            outcomes.append(None if entries else self.success_handler(kinesis_record, result))
        failures: Sequence[Exception | None] = []
        if staged:
            failures = self._bulk_handler([entry for _, entry in staged], first_failures)
        first_failure_of: dict[int, Exception] = {}
        for (index, _), failure in zip(staged, failures, strict=True):
            if failure is not None:
                first_failure_of.setdefault(index, failure)
        for index, entry in staged:
            if outcomes[index] is not None:
                continue
            failure = first_failure_of.get(index)
            if failure is None:
                outcomes[index] = self.success_handler(kinesis_records[index], entry.result)
            else:
                failed += 1
                info = (type(failure), failure, failure.__traceback__)
                outcomes[index] = self.failure_handler(kinesis_records[index], info)
        if self._report is not None:
            self._report(BatchSummary(len(self.records), quarantined, failed))
        return [outcome for outcome in outcomes if outcome is not None]
