"""Stand-in for Lambda's Kinesis event source mapping (part of the Lambda service).

The emulator stores the mapping but never polls the stream. ``KinesisEventSourceMapping`` reads
the mapping's configuration from ``ListEventSourceMappings`` and, per shard, does what AWS
documents for Kinesis sources:

* reads from ``StartingPosition`` (TRIM_HORIZON, LATEST, AT_TIMESTAMP) the first time, then from
  its checkpoint; LATEST is resolved when the mapping is first polled by this runtime;
* batches up to ``BatchSize`` records (and at most 6 MB of event payload, the synchronous invoke
  limit), waiting up to ``MaximumBatchingWindowInSeconds`` for a full batch;
* invokes the function synchronously with the Kinesis event shape, one batch at a time per shard,
  in order; while a batch fails the shard does not advance;
* on a function error or timeout retries the batch, splitting it in two first when
  ``BisectBatchOnFunctionError`` is set (each half inherits the attempt count of the batch it came
  from, so splitting never extends the retry budget);
* with ``ReportBatchItemFailures`` checkpoints before the lowest failed sequence number and retries
  from there; an empty, missing or unknown ``itemIdentifier`` fails the whole batch;
* after ``MaximumRetryAttempts`` retries (-1: until the records expire) or when records are older
  than ``MaximumRecordAgeInSeconds`` (-1: never), discards them and sends AWS's on-failure record
  (``KinesisBatchInfo``, no record data) to the ``DestinationConfig.OnFailure`` SQS queue or SNS
  topic, then moves on.

Time: the batching window is a wait on the runtime's clock (compressed when the clock runs fast);
a record's age is wall time, from its ``ApproximateArrivalTimestamp`` (stamped in real time) to the
real now, because the work a record waits for runs in real time (see :mod:`local_aws.clock`). The
on-failure record's ``timestamp`` is wall time too, on the same timeline as the arrival times
beside it.

Checkpoints survive a runtime restart (see :mod:`local_aws.kinesis_reader`); a batch in flight
when the runtime stops is delivered again after the restart (at-least-once, as in AWS).

``ParallelizationFactor`` > 1 is treated as 1: one batch in flight per shard, which keeps
per-shard ordering (AWS keeps it per partition key only). Resharding is not followed: the shards
are listed once when the mapping starts.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_aws import fault_plan
from local_aws.clock import Clock
from local_aws.kinesis_reader import (
    ShardCheckpoint,
    ShardCheckpointStore,
    ShardReader,
    ShardRecord,
    SigningClients,
    list_shard_ids,
    stream_identity,
)
from local_aws.lambda_service import InvocationResult, LambdaService

logger = logging.getLogger(__name__)

# Synchronous invocation payload limit; records beyond it go to the next batch.
MAX_EVENT_BYTES = 6 * 1024 * 1024
_RECORD_ENVELOPE_BYTES = 600


@dataclass(frozen=True)
class MappingConfig:
    """The mapping as ``ListEventSourceMappings`` describes it, with AWS's defaults filled in."""

    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    starting_position: str = "LATEST"
    starting_timestamp: datetime | None = None
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    on_failure_destination: str | None = None
    parallelization_factor: int = 1
    enabled: bool = True

    @classmethod
    def from_api(cls, mapping: Mapping[str, Any]) -> MappingConfig:
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        return cls(
            uuid=mapping["UUID"],
            function_arn=mapping["FunctionArn"],
            stream_arn=mapping["EventSourceArn"],
            batch_size=int(mapping.get("BatchSize") or 100),
            batching_window_seconds=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=mapping.get("StartingPosition") or "LATEST",
            starting_timestamp=mapping.get("StartingPositionTimestamp"),
            report_batch_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError")),
            maximum_retry_attempts=int(mapping.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            on_failure_destination=destination or None,
            parallelization_factor=int(mapping.get("ParallelizationFactor") or 1),
            enabled=mapping.get("State", "Enabled") in ("Enabled", "Enabling", "Creating"),
        )

    @property
    def function_name(self) -> str:
        return self.function_arn.split(":")[6]


@dataclass
class MappingStats:
    """Counters for the progress display."""

    records_succeeded: int = 0
    records_discarded: int = 0
    invocations: int = 0
    millis_behind_latest: dict[str, int] = field(default_factory=dict)


@dataclass
class _Batch:
    records: list[ShardRecord]
    attempts: int = 0
    last_result: InvocationResult | None = None


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _record_event_bytes(record: ShardRecord) -> int:
    return len(record.data_base64) + len(record.partition_key) + _RECORD_ENVELOPE_BYTES


def kinesis_event(
    records: list[ShardRecord], stream_arn: str, region: str, role_arn: str
) -> dict[str, Any]:
    """The event Lambda sends for a batch of Kinesis records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": record.data_base64,
                    "approximateArrivalTimestamp": record.arrival_epoch,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{record.shard_id}:{record.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


class _WholeBatch:
    """Marker: the response fails every record of the batch."""


_WHOLE_BATCH = _WholeBatch()


def first_failed_index(payload: Any, records: list[ShardRecord]) -> int | _WholeBatch | None:
    """Where a ``batchItemFailures`` response says the batch failed; None when it succeeded.

    The lowest reported sequence number wins. An empty, missing or unknown ``itemIdentifier``
    fails the whole batch, as AWS documents.
    """
    if not isinstance(payload, dict):
        return None
    failures = payload.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return _WHOLE_BATCH
    positions = {record.sequence_number: index for index, record in enumerate(records)}
    lowest: int | None = None
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return _WHOLE_BATCH
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    return lowest


class ShardPoller:
    """The event source mapping's work on one shard; ``poll_once`` is one step of it."""

    def __init__(
        self,
        config: MappingConfig,
        reader: ShardReader,
        *,
        lambda_service: LambdaService,
        send_on_failure: Callable[[dict[str, Any]], None],
        checkpoints: ShardCheckpointStore,
        clock: Clock,
        stats: MappingStats,
        region: str,
    ) -> None:
        self._config = config
        self._reader = reader
        self._lambda = lambda_service
        self._send_on_failure = send_on_failure
        self._checkpoints = checkpoints
        self._clock = clock
        self._stats = stats
        self._region = region
        self._buffer: deque[ShardRecord] = deque()
        self._window_opened_at: float | None = None
        self._pending: deque[_Batch] = deque()
        self.consecutive_failures = 0
        self._role_arn = lambda_service.config(config.function_name).role

    @property
    def shard_id(self) -> str:
        return self._reader.shard_id

    def open(self) -> None:
        self._reader.open()

    def retry_delay(self) -> float:
        """Real seconds to wait before retrying a failing batch: 0.2 s doubling up to 10 s, so a
        batch that keeps failing does not spin (Lambda also backs off between stream retries)."""
        if not self.consecutive_failures:
            return 0.0
        return float(min(0.1 * 2**self.consecutive_failures, 10.0))

    def _fill_buffer(self) -> None:
        if len(self._buffer) >= self._config.batch_size:
            return
        records = self._reader.read()
        self._stats.millis_behind_latest[self.shard_id] = self._reader.millis_behind_latest
        if records and not self._buffer:
            self._window_opened_at = self._clock.now()
        self._buffer.extend(records)

    def _next_batch(self) -> _Batch | None:
        if not self._buffer:
            return None
        window_open = self._window_opened_at is not None and (
            self._clock.now() - self._window_opened_at < self._config.batching_window_seconds
        )
        taken: list[ShardRecord] = []
        size = 0
        while self._buffer and len(taken) < self._config.batch_size:
            record_size = _record_event_bytes(self._buffer[0])
            if taken and size + record_size > MAX_EVENT_BYTES:
                window_open = False
                break
            size += record_size
            taken.append(self._buffer.popleft())
        if window_open and len(taken) < self._config.batch_size:
            self._buffer.extendleft(reversed(taken))
            return None
        self._window_opened_at = self._clock.now() if self._buffer else None
        return _Batch(taken)

    def poll_once(self) -> bool:
        """Read if needed, then invoke at most one batch; True when there was something to do."""
        if not self._pending:
            self._fill_buffer()
            batch = self._next_batch()
            if batch is None:
                return False
            self._pending.append(batch)
        self._process(self._pending[0])
        return True

    def _complete(self, batch: _Batch) -> None:
        self._pending.popleft()
        if batch.records:
            self._checkpoint_after(batch.records[-1])

    def _checkpoint_after(self, record: ShardRecord) -> None:
        self._checkpoints.set(
            f"{self._config.uuid}/{self.shard_id}",
            ShardCheckpoint("AFTER_SEQUENCE_NUMBER", record.sequence_number),
        )

    def _discard_expired(self, batch: _Batch) -> list[ShardRecord]:
        """Drop records older than MaximumRecordAgeInSeconds before invoking; returns them.

        Age is wall time: arrival stamps are real time, so is the clock they are compared with.
        """
        max_age = self._config.maximum_record_age_seconds
        if max_age < 0:
            return []
        cutoff = self._clock.wall() - max_age
        expired = [r for r in batch.records if r.arrival_epoch < cutoff]
        if expired:
            self._discard(expired, batch, "RecordAgeExceeded")
            batch.records = [r for r in batch.records if r.arrival_epoch >= cutoff]
        return expired

    def _process(self, batch: _Batch) -> None:
        expired = self._discard_expired(batch)
        if not batch.records:
            self._pending.popleft()
            self._checkpoint_after(expired[-1])
            return
        event = kinesis_event(batch.records, self._config.stream_arn, self._region, self._role_arn)
        result = self._lambda.invoke(self._config.function_arn, event)
        self._stats.invocations += 1
        batch.attempts += 1
        batch.last_result = result
        if result.function_error is None:
            failed = (
                first_failed_index(result.payload, batch.records)
                if self._config.report_batch_item_failures
                else None
            )
            if failed is None:
                self._stats.records_succeeded += len(batch.records)
                self.consecutive_failures = 0
                self._complete(batch)
                if fault_plan.redeliver_batch(self._stats.invocations):  # fault-injection hook
                    self._pending.appendleft(_Batch(batch.records))
                return
            if isinstance(failed, int) and failed > 0:
                self._stats.records_succeeded += failed
                self._checkpoint_after(batch.records[failed - 1])
                batch.records = batch.records[failed:]
        self.consecutive_failures += 1
        if self._retries_exhausted(batch):
            self._discard(batch.records, batch, "RetryAttemptsExhausted")
            self._complete(batch)
            return
        if result.function_error is not None and self._config.bisect_on_error:
            self._bisect(batch)

    def _retries_exhausted(self, batch: _Batch) -> bool:
        limit = self._config.maximum_retry_attempts
        return limit >= 0 and batch.attempts > limit

    def _bisect(self, batch: _Batch) -> None:
        if len(batch.records) < 2:
            return
        middle = len(batch.records) // 2
        self._pending.popleft()
        self._pending.extendleft(
            [
                _Batch(batch.records[middle:], batch.attempts, batch.last_result),
                _Batch(batch.records[:middle], batch.attempts, batch.last_result),
            ]
        )

    def _discard(self, records: list[ShardRecord], batch: _Batch, condition: str) -> None:
        self._stats.records_discarded += len(records)
        logger.warning("discarding %d records of %s (%s)", len(records), self.shard_id, condition)
        if self._config.on_failure_destination is None:
            return
        self._send_on_failure(self._on_failure_record(records, batch, condition))

    def _on_failure_record(
        self, records: list[ShardRecord], batch: _Batch, condition: str
    ) -> dict[str, Any]:
        """AWS's invocation record for discarded Kinesis records: metadata, not the data."""
        result = batch.last_result
        request_context: dict[str, Any] = {
            "requestId": result.request_id if result else str(uuid.uuid4()),
            "functionArn": self._config.function_arn,
            "condition": condition,
            "approximateInvokeCount": batch.attempts,
        }
        record: dict[str, Any] = {"requestContext": request_context}
        if result is not None:
            response_context: dict[str, Any] = {
                "statusCode": result.status_code,
                "executedVersion": result.executed_version,
            }
            if result.function_error:
                response_context["functionError"] = result.function_error
            record["responseContext"] = response_context
        record["version"] = "1.0"
        record["timestamp"] = _iso_millis(datetime.fromtimestamp(self._clock.wall(), UTC))
        record["KinesisBatchInfo"] = {
            "shardId": self.shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _iso_millis(records[0].arrival),
            "approximateArrivalOfLastRecord": _iso_millis(records[-1].arrival),
            "batchSize": len(records),
            "streamArn": self._config.stream_arn,
        }
        return record


class KinesisEventSourceMapping:
    """One mapping: a poller per shard, sharing the on-failure destination and the counters."""

    def __init__(
        self,
        config: MappingConfig,
        lambda_service: LambdaService,
        session_factory: SigningClients,
        *,
        state_dir: Path,
        clock: Clock,
        region: str = "us-east-1",
    ) -> None:
        self.config = config
        self.stats = MappingStats()
        self._session_factory = session_factory
        self._lock = threading.Lock()
        kinesis = session_factory("kinesis")
        # The mapping's UUID names one incarnation of it; the stream's ARN and creation time one
        # incarnation of the stream. Checkpoints of any other pair are refused, not applied.
        checkpoints = ShardCheckpointStore(
            state_dir / "event-source-mappings" / f"{config.uuid}.json",
            {"uuid": config.uuid, **stream_identity(kinesis, config.stream_arn).as_dict()},
        )
        self.pollers = [
            ShardPoller(
                config,
                ShardReader(
                    session_factory,
                    config.stream_arn,
                    shard_id,
                    config.starting_position,
                    starting_timestamp=config.starting_timestamp,
                    checkpoint=checkpoints.get(f"{config.uuid}/{shard_id}"),
                ),
                lambda_service=lambda_service,
                send_on_failure=self._send_on_failure,
                checkpoints=checkpoints,
                clock=clock,
                stats=self.stats,
                region=region,
            )
            for shard_id in list_shard_ids(kinesis, config.stream_arn)
        ]

    def open(self) -> None:
        """Resolve every shard's starting position now (LATEST = from this moment)."""
        for poller in self.pollers:
            poller.open()

    def poll_once(self) -> bool:
        """One step on every shard; True when any shard had work."""
        worked = False
        for poller in self.pollers:
            worked = poller.poll_once() or worked
        return worked

    def _send_on_failure(self, record: dict[str, Any]) -> None:
        destination = self.config.on_failure_destination
        if destination is None:
            return
        body = json.dumps(record)
        service = destination.split(":")[2]
        with self._lock:
            if service == "sqs":
                sqs = self._session_factory("sqs")
                # The URL from the ARN, as the service does: the role may only send.
                account, queue = destination.split(":")[4:6]
                queue_url = f"{sqs.meta.endpoint_url}/{account}/{queue}"
                sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            elif service == "sns":
                self._session_factory("sns").publish(TopicArn=destination, Message=body)
            else:
                logger.error("unsupported on-failure destination %s", destination)


def mappings_for_function(lambda_client: Any, function_name: str) -> list[MappingConfig]:
    """The function's enabled Kinesis mappings, as deployed."""
    mappings: list[MappingConfig] = []
    kwargs: dict[str, Any] = {"FunctionName": function_name}
    while True:
        page = lambda_client.list_event_source_mappings(**kwargs)
        for mapping in page.get("EventSourceMappings", []):
            if mapping["EventSourceArn"].split(":")[2] != "kinesis":
                continue
            config = MappingConfig.from_api(mapping)
            if config.enabled:
                mappings.append(config)
        marker = page.get("NextMarker")
        if not marker:
            return mappings
        kwargs = {**kwargs, "Marker": marker}
