"""PutRecords with full batches, resending only the entries Kinesis rejected.

Records are buffered across topics and sent in batches of up to 500 records / 5 MiB (key + data
bytes), so 1,000 tweets cost 2 calls however many topics they came from. Only the entries a
successful call reports in ``FailedRecordCount`` are resent here; a call that fails outright was
already retried by botocore (``function_support.clients``), so its records are given up at once.
Each record carries a tag (its topic) so the caller learns when all of a topic's records have
landed and only then moves that topic's checkpoint.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from function_support.clients import APP_MAX_ATTEMPTS
from producer.deadline import Deadline, backoff_delay, unlimited

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_kinesis.type_defs import PutRecordsRequestEntryTypeDef

logger = logging.getLogger(__name__)

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024


@dataclass(frozen=True)
class OutgoingRecord:
    partition_key: str
    data: bytes
    tag: str

    @property
    def size(self) -> int:
        """What Kinesis counts against its limits: partition key bytes plus data bytes."""
        return len(self.partition_key.encode("utf-8")) + len(self.data)


@dataclass
class PutRecordsStats:
    put: int = 0
    retried: int = 0
    failed: int = 0
    calls: int = 0
    failures_by_code: Counter[str] = field(default_factory=Counter)


class KinesisWriter:
    def __init__(
        self,
        stream_name: str,
        client: Callable[[], KinesisClient],
        *,
        max_attempts: int = APP_MAX_ATTEMPTS,
        backoff_base_seconds: float = 0.1,
        backoff_cap_seconds: float = 2.0,
        deadline: Deadline | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._stream_name = stream_name
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._deadline = deadline or unlimited()
        self._sleep = sleep
        self._jitter = jitter
        self._buffer: list[OutgoingRecord] = []
        self._buffered_bytes = 0
        self.stats = PutRecordsStats()
        self.pending_by_tag: Counter[str] = Counter()
        self.failed_by_tag: Counter[str] = Counter()

    def add(self, record: OutgoingRecord) -> None:
        self.pending_by_tag[record.tag] += 1
        if record.size > MAX_BYTES_PER_RECORD:
            self._give_up([record], "RecordTooLarge")
            return
        self._buffer.append(record)
        self._buffered_bytes += record.size

    def send_full_batches(self) -> None:
        """Send while a full batch is buffered; a partial batch waits for more records."""
        while (
            len(self._buffer) >= MAX_RECORDS_PER_CALL or self._buffered_bytes >= MAX_BYTES_PER_CALL
        ):
            self._send(self._take_batch())

    def flush(self) -> None:
        while self._buffer:
            self._send(self._take_batch())

    def is_delivered(self, tag: str) -> bool:
        """Every record with this tag landed in Kinesis (none pending, none failed)."""
        return self.pending_by_tag[tag] == 0 and self.failed_by_tag[tag] == 0

    def _take_batch(self) -> list[OutgoingRecord]:
        count = size = 0
        for record in self._buffer:
            if count == MAX_RECORDS_PER_CALL or size + record.size > MAX_BYTES_PER_CALL:
                break
            count += 1
            size += record.size
        batch, self._buffer = self._buffer[:count], self._buffer[count:]
        self._buffered_bytes -= size
        return batch

    def _send(self, batch: list[OutgoingRecord]) -> None:
        attempt = 0
        while batch:
            attempt += 1
            failed, call_failed = self._put(batch)
            delivered = len(batch) - len(failed)
            self.stats.put += delivered
            for record in _without(batch, failed):
                self.pending_by_tag[record.tag] -= 1
            if not failed:
                return
            codes = Counter(code for _, code in failed)
            delay = backoff_delay(attempt, self._backoff_base, self._backoff_cap, self._jitter)
            if (
                call_failed
                or attempt >= self._max_attempts
                or not self._deadline.allows_wait(delay)
            ):
                for record, code in failed:
                    self._give_up([record], code)
                logger.error(
                    "Kinesis records not delivered after bounded retries",
                    extra={"records": len(failed), "attempts": attempt, "error_codes": dict(codes)},
                )
                return
            logger.warning(
                "Resending records Kinesis rejected",
                extra={"records": len(failed), "attempt": attempt, "error_codes": dict(codes)},
            )
            self.stats.retried += len(failed)
            self._sleep(delay)
            batch = [record for record, _ in failed]

    def _put(self, batch: list[OutgoingRecord]) -> tuple[list[tuple[OutgoingRecord, str]], bool]:
        """One PutRecords call; returns the entries not stored with their ErrorCode, and whether
        the call failed outright (after botocore's own retries: not to be retried again)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - lazy

        entries: list[PutRecordsRequestEntryTypeDef] = [
            {"Data": record.data, "PartitionKey": record.partition_key} for record in batch
        ]
        self.stats.calls += 1
        try:
            response: Any = self._client().put_records(
                StreamName=self._stream_name, Records=entries
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            return [(record, code) for record in batch], True
        except BotoCoreError as error:
            return [(record, type(error).__name__) for record in batch], True
        if not response.get("FailedRecordCount"):
            return [], False
        failed = [
            (record, str(result.get("ErrorCode")))
            for record, result in zip(batch, response["Records"], strict=True)
            if result.get("ErrorCode")
        ]
        return failed, False

    def _give_up(self, records: list[OutgoingRecord], code: str) -> None:
        for record in records:
            self.pending_by_tag[record.tag] -= 1
            self.failed_by_tag[record.tag] += 1
            self.stats.failed += 1
            self.stats.failures_by_code[code] += 1


def _without(
    batch: list[OutgoingRecord], failed: list[tuple[OutgoingRecord, str]]
) -> list[OutgoingRecord]:
    failed_ids = {id(record) for record, _ in failed}
    return [record for record in batch if id(record) not in failed_ids]
