"""The consumer's batch processor and exactly what it relies on from Powertools."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BasePartialBatchProcessor,
    BasePartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from tests.tweet_record.tweet_samples import kinesis_event

from consumer.processor import BatchSummary, BulkStoreProcessor, StagedRecord, record_position


def test_the_public_members_the_processor_uses_exist_with_their_documented_shapes() -> None:
    """Powertools documents custom processors as subclasses of its base processors (batch
    utility, "Create your own partial processor"); an upgrade that changes these members fails
    here rather than in production."""
    abstract = BasePartialBatchProcessor.__abstractmethods__
    assert abstract == {"_process_record", "_async_process_record"}
    assert issubclass(BasePartialBatchProcessor, BasePartialProcessor)
    assert list(inspect.signature(BasePartialProcessor.__call__).parameters) == [
        "self",
        "records",
        "handler",
        "lambda_context",
    ]
    probe = BulkStoreProcessor(lambda results, first_failures: [None] * len(results))
    probe(records=[{"a": 1}], handler=len)
    assert (probe.records, probe.handler) == ([{"a": 1}], len)
    assert probe.success_handler("r", "result") == ("success", "result", "r")
    assert probe.success_messages == ["r"]
    failure = ValueError("bad")
    entry = probe.failure_handler("f", (ValueError, failure, None))
    assert entry[0] == "fail"
    assert (probe.fail_messages, probe.exceptions) == (["f"], [(ValueError, failure, None)])


def run(
    payloads: list[bytes], handler: Any, bulk: Any
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    processor = BulkStoreProcessor(bulk)
    event = kinesis_event(payloads)
    with processor(event["Records"], handler):
        results = processor.process()
    return results, processor.response()


def test_bulk_failures_and_handler_errors_become_batch_item_failures() -> None:
    def handler(record: KinesisStreamRecord) -> str | None:
        data = record.kinesis.data_as_bytes()
        if data == b"boom":
            raise ValueError("cannot parse")
        return None if data == b"quarantined" else data.decode()

    seen: list[tuple[list[StagedRecord[str]], Mapping[str, int]]] = []

    def bulk(
        staged: Sequence[StagedRecord[str]], first_failures: Mapping[str, int]
    ) -> list[Exception | None]:
        seen.append((list(staged), dict(first_failures)))
        return [RuntimeError("throttled") if r.result == "fails" else None for r in staged]

    payloads = [b"ok", b"boom", b"quarantined", b"fails", b"ok too"]
    results, response = run(payloads, handler, bulk)

    sequences = [r["kinesis"]["sequenceNumber"] for r in kinesis_event(payloads)["Records"]]
    shard = "shardId-000000000000"
    ((staged, first_failures),) = seen
    assert staged == [
        StagedRecord("ok", shard, sequences[0]),
        StagedRecord("fails", shard, sequences[3]),
        StagedRecord("ok too", shard, sequences[4]),
    ]
    # The record handler's failure, at the position of the record (its first user record).
    assert first_failures == {shard: record_position(sequences[1])}
    assert response == {
        "batchItemFailures": [{"itemIdentifier": sequences[1]}, {"itemIdentifier": sequences[3]}]
    }
    assert [status for status, _, _ in results] == ["success", "fail", "success", "fail", "success"]


def test_a_second_batch_starts_clean() -> None:
    processor = BulkStoreProcessor(lambda results, _: [RuntimeError("x")] * len(results))
    event = kinesis_event([b"a"])
    with processor(event["Records"], lambda record: "stored"):
        processor.process()
    assert len(processor.response()["batchItemFailures"]) == 1
    with processor([], lambda record: "stored"):
        processor.process()
    assert processor.response() == {"batchItemFailures": []}


def test_each_batch_reports_its_own_figures() -> None:
    summaries: list[BatchSummary] = []

    def handler(record: KinesisStreamRecord) -> str | None:
        data = record.kinesis.data_as_bytes()
        if data == b"boom":
            raise ValueError("cannot parse")
        return None if data == b"quarantined" else data.decode()

    processor = BulkStoreProcessor(
        lambda staged, _: [RuntimeError("x") if r.result == "fails" else None for r in staged],
        report=summaries.append,
    )
    for payloads in ([b"ok", b"boom", b"quarantined", b"fails"], [b"ok"]):
        with processor(kinesis_event(payloads)["Records"], handler):
            processor.process()
    assert summaries == [
        BatchSummary(records=4, quarantined=1, failed=2),
        BatchSummary(records=1, quarantined=0, failed=0),
    ]


def test_a_batch_whose_every_record_failed_is_reported_not_raised() -> None:
    """Powertools raises ``BatchProcessingError`` by default when every record failed, which
    Lambda treats as a function error (retried whole, bisected); reporting every record instead
    lets Lambda redeliver from the first one ("Using batch item failures with Kinesis")."""
    event = kinesis_event([b"a", b"b"])
    processor = BulkStoreProcessor(lambda staged, _: [RuntimeError("x")] * len(staged))
    response = process_partial_response(
        event=event, record_handler=lambda record: "stored", processor=processor
    )
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record in event["Records"]
        ]
    }
