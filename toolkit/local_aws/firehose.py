"""Stand-in for Amazon Data Firehose delivering a Kinesis stream to S3 with a Lambda processor.

The emulator stores the delivery stream but never reads its source, never invokes the processor
and never evaluates prefix expressions. ``FirehoseDeliveryStream`` reads the configuration from
``DescribeDeliveryStream`` and does what the Firehose developer guide documents:

* reads the source stream with its own iterators (it starts at LATEST when this runtime first
  opens it, then resumes from its persisted checkpoint);
* deaggregates records the Kinesis Producer Library aggregated, before anything else sees them
  ("Understand data delivery in Amazon Data Firehose": "Firehose de-aggregates the records before
  it delivers them to AWS Lambda"), with AWS's own deaggregation module: each user record is a
  record of the processor event, ``kinesisRecordMetadata.subsequenceNumber`` its index in the
  aggregate; an aggregate whose MD5 digest does not match stays one record, as the module leaves
  it;
* buffers records for the processor by ``BufferSizeInMBs`` / ``BufferIntervalInSeconds``
  processor parameters (defaults 1 MB / 60 s; the size hint is capped at 3 MB, the documented
  maximum, which keeps an invocation under Lambda's 6 MB synchronous payload limit);
* invokes the processor with the Firehose event; retries a failed or timed-out invocation
  ``NumberOfRetries`` times (default 3), then sends the whole batch to the error prefix;
* applies the results: ``Ok`` data is delivered as-is (concatenated, nothing added), ``Dropped``
  is not, ``ProcessingFailed`` records go to the error prefix in AWS's error record format with
  the original data; a response missing a ``recordId`` fails the whole batch;
* buffers delivered data by the destination ``BufferingHints`` (defaults 5 MB / 300 s) and writes
  one object per flush, named ``<prefix><stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>``, gzipped
  with a ``.gz`` suffix when ``CompressionFormat`` is GZIP (error objects too; other formats are
  refused);
* with ``DataFormatConversionConfiguration`` enabled, converts the flushed JSON records to one
  Parquet object against the Glue table (read with the delivery role's credentials); records
  that do not convert, or all of them when the table cannot be read, go to the error prefix
  as ``format-conversion-failed`` (``local_aws.record_format``);
* evaluates ``!{timestamp:<Java DateTimeFormatter pattern>}``, ``!{firehose:error-output-type}``
  and ``!{firehose:random-string}`` with the approximate arrival time of the oldest record in the
  object (UTC), as the documentation says; a prefix without a timestamp expression gets the
  default ``yyyy/MM/dd/HH/`` appended, an error prefix without one gets
  ``<error-output-type>/yyyy/MM/dd/HH/``.

Time: both buffer intervals are waits on the runtime's clock, opened and checked on it (compressed
when the clock runs fast); arrival and attempt times in events, error records and object names are
wall time, the timeline Kinesis stamps (see :mod:`local_aws.clock`).

The checkpoint of each shard only moves past records that were written (or dropped, or written to
the error prefix), so a restart redelivers what was buffered (at-least-once, as in AWS).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_kinesis_agg.deaggregator import iter_deaggregate_records
from botocore.exceptions import ClientError

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
from local_aws.record_format import (
    FORMAT_CONVERSION_FAILED,
    MALFORMED_DATA,
    MalformedRecordError,
    ParquetConversion,
    parquet_object,
    record_rows,
    table_schema,
)

logger = logging.getLogger(__name__)

MB = 1024 * 1024
DEFAULT_PROCESSOR_BUFFER_MB = 1
MAX_PROCESSOR_BUFFER_BYTES = 3 * MB
DEFAULT_PROCESSOR_INTERVAL_SECONDS = 60.0
DEFAULT_PROCESSOR_RETRIES = 3
# Concurrent processor invocations when a backlog holds several batches.
PROCESSOR_CONCURRENCY = 3
DEFAULT_DESTINATION_BUFFER_MB = 5
DEFAULT_DESTINATION_INTERVAL_SECONDS = 300.0
PROCESSING_FAILED = "processing-failed"
INVOKE_ACCESS_DENIED = "Lambda.InvokeAccessDenied"
_ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
_DEFAULT_TIME_PREFIX = "!{timestamp:yyyy/MM/dd/HH}/"
_EXPRESSION = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
_COMPRESSIONS = {"UNCOMPRESSED": "", "GZIP": ".gz"}
_RANDOM_ALPHABET = string.ascii_letters + string.digits
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _java_field(letter: str, count: int, moment: datetime) -> str:
    numeric = {
        "y": moment.year,
        "u": moment.year,
        "M": moment.month,
        "d": moment.day,
        "H": moment.hour,
        "h": (moment.hour % 12) or 12,
        "m": moment.minute,
        "s": moment.second,
        "D": moment.timetuple().tm_yday,
    }
    if letter in ("y", "u") and count == 2:
        return f"{moment.year % 100:02d}"
    if letter == "M" and count >= 3:
        return _MONTHS[moment.month - 1][: 3 if count == 3 else None]
    if letter == "E":
        return _DAYS[moment.weekday()][: 3 if count <= 3 else None]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "S":
        return f"{moment.microsecond:06d}"[:count].ljust(count, "0")
    if letter in numeric:
        return str(numeric[letter]).zfill(count)
    raise ValueError(f"unsupported DateTimeFormatter pattern letter {letter!r}")


def format_java_datetime(pattern: str, moment: datetime) -> str:
    """Format ``moment`` with a Java ``DateTimeFormatter`` pattern (the letters Firehose users use).

    Letters are fields (a run of the same letter sets the width), text in single quotes is
    literal (``''`` is a quote), anything else is copied.
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            end = index + 1
            literal: list[str] = []
            while end < len(pattern):
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        literal.append("'")
                        end += 2
                        continue
                    break
                literal.append(pattern[end])
                end += 1
            out.append("".join(literal) if end > index + 1 else "'")
            index = end + 1
        elif char.isalpha():
            run = index
            while run < len(pattern) and pattern[run] == char:
                run += 1
            out.append(_java_field(char, run - index, moment))
            index = run
        else:
            out.append(char)
            index += 1
    return "".join(out)


def evaluate_prefix(prefix: str, moment: datetime, error_output_type: str | None = None) -> str:
    """Evaluate a Firehose S3 prefix for an object whose oldest record arrived at ``moment``."""
    if error_output_type is not None:
        if not prefix:
            prefix = f"{error_output_type}/{_DEFAULT_TIME_PREFIX}"
        elif "!{timestamp:" not in prefix and "!{firehose:error-output-type}" not in prefix:
            prefix = f"{prefix}{error_output_type}/{_DEFAULT_TIME_PREFIX}"
    elif "!{timestamp:" not in prefix:
        prefix = f"{prefix}{_DEFAULT_TIME_PREFIX}"
    moment = moment.astimezone(UTC)

    def substitute(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java_datetime(value, moment)
        if namespace == "firehose" and value == "error-output-type":
            if error_output_type is None:
                raise ValueError("!{firehose:error-output-type} is only valid in ErrorOutputPrefix")
            return error_output_type
        if namespace == "firehose" and value == "random-string":
            return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(11))
        raise ValueError(f"unsupported prefix expression {match.group(0)}")

    return _EXPRESSION.sub(substitute, prefix)


def object_name(stream_name: str, version: str, moment: datetime) -> str:
    """The object name Firehose appends to the evaluated prefix."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{stream_name}-{version}-{stamp}-{uuid.uuid4()}"


@dataclass(frozen=True)
class DeliveryStreamConfig:
    """What ``DescribeDeliveryStream`` says about a Kinesis-sourced extended S3 delivery stream."""

    name: str
    arn: str
    version: str
    source_stream_arn: str
    created: str
    bucket: str
    prefix: str
    error_output_prefix: str
    buffer_bytes: int
    buffer_interval_seconds: float
    compression: str = "UNCOMPRESSED"
    processor_arn: str | None = None
    processor_buffer_bytes: int = DEFAULT_PROCESSOR_BUFFER_MB * MB
    processor_interval_seconds: float = DEFAULT_PROCESSOR_INTERVAL_SECONDS
    processor_retries: int = DEFAULT_PROCESSOR_RETRIES
    conversion: ParquetConversion | None = None

    @property
    def account_id(self) -> str:
        return self.arn.split(":")[4]

    @classmethod
    def from_api(cls, description: Mapping[str, Any]) -> DeliveryStreamConfig:
        source = description.get("Source", {}).get("KinesisStreamSourceDescription", {})
        if not source.get("KinesisStreamARN"):
            raise ValueError(f"{description['DeliveryStreamName']} has no Kinesis stream source")
        destination = description["Destinations"][0]
        s3 = destination.get("ExtendedS3DestinationDescription") or destination.get(
            "S3DestinationDescription", {}
        )
        hints = s3.get("BufferingHints", {})
        config = cls(
            name=description["DeliveryStreamName"],
            arn=description["DeliveryStreamARN"],
            version=str(description.get("VersionId", "1")),
            source_stream_arn=source["KinesisStreamARN"],
            created=_timestamp_text(description["CreateTimestamp"]),
            bucket=s3["BucketARN"].split(":::")[-1],
            prefix=s3.get("Prefix", "") or "",
            error_output_prefix=s3.get("ErrorOutputPrefix", "") or "",
            buffer_bytes=int(float(hints.get("SizeInMBs", DEFAULT_DESTINATION_BUFFER_MB)) * MB),
            buffer_interval_seconds=float(
                hints.get("IntervalInSeconds", DEFAULT_DESTINATION_INTERVAL_SECONDS)
            ),
            compression=s3.get("CompressionFormat", "UNCOMPRESSED") or "UNCOMPRESSED",
            conversion=ParquetConversion.from_api(s3.get("DataFormatConversionConfiguration")),
        )
        if config.conversion is not None and config.compression != "UNCOMPRESSED":
            raise ValueError(
                f"{config.name}: CompressionFormat must be UNCOMPRESSED with record format "
                "conversion (the serializer compresses)"
            )
        if config.compression not in _COMPRESSIONS:
            raise ValueError(
                f"{config.name}: CompressionFormat {config.compression} is not supported locally "
                f"(only {', '.join(sorted(_COMPRESSIONS))})"
            )
        processing = s3.get("ProcessingConfiguration", {})
        if not processing.get("Enabled", False):
            return config
        for processor in processing.get("Processors", []):
            if processor.get("Type") != "Lambda":
                continue
            parameters = {
                p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters", [])
            }
            size_mb = float(parameters.get("BufferSizeInMBs", DEFAULT_PROCESSOR_BUFFER_MB))
            return cls(
                **{
                    **config.__dict__,
                    "processor_arn": parameters["LambdaArn"],
                    "processor_buffer_bytes": min(int(size_mb * MB), MAX_PROCESSOR_BUFFER_BYTES),
                    "processor_interval_seconds": float(
                        parameters.get(
                            "BufferIntervalInSeconds", DEFAULT_PROCESSOR_INTERVAL_SECONDS
                        )
                    ),
                    "processor_retries": int(
                        parameters.get("NumberOfRetries", DEFAULT_PROCESSOR_RETRIES)
                    ),
                }
            )
        return config


@dataclass
class FirehoseDeliveryStats:
    """Counters for the progress display."""

    records_delivered: int = 0
    records_dropped: int = 0
    records_failed: int = 0
    objects_written: int = 0
    aggregates_read: int = 0
    """Kinesis records that held KPL-aggregated user records."""
    processor_invocations: int = 0
    millis_behind_latest: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UserRecord:
    """One record as Firehose processes it: a Kinesis record, or one user record of a KPL
    aggregate (``subsequence`` is its index there; 0 for a plain record)."""

    source: ShardRecord
    subsequence: int
    partition_key: str
    data_base64: str
    aggregated: bool = False

    @property
    def shard_id(self) -> str:
        return self.source.shard_id

    @property
    def sequence_number(self) -> str:
        return self.source.sequence_number

    @property
    def arrival(self) -> datetime:
        return self.source.arrival

    @property
    def arrival_epoch(self) -> float:
        return self.source.arrival_epoch

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.data_base64)

    @property
    def size(self) -> int:
        encoded = self.data_base64
        return len(encoded) * 3 // 4 - encoded.count("=", len(encoded) - 2)


def user_records(record: ShardRecord) -> list[UserRecord]:
    """The records Firehose makes of one Kinesis record: its user records if the KPL aggregated
    it (AWS's ``aws_kinesis_agg`` checks the magic prefix and the MD5 digest), else itself."""
    as_lambda_sees_it = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "sequenceNumber": record.sequence_number,
            "partitionKey": record.partition_key,
            "approximateArrivalTimestamp": record.arrival_epoch,
            "data": record.data_base64,
        }
    }
    found = []
    for user in iter_deaggregate_records(as_lambda_sees_it):
        kinesis = user["kinesis"]
        if not kinesis.get("aggregated"):
            return [UserRecord(record, 0, record.partition_key, record.data_base64)]
        data = kinesis["data"]
        found.append(
            UserRecord(
                record,
                int(kinesis["subSequenceNumber"]),
                str(kinesis["partitionKey"]),
                data.decode("ascii") if isinstance(data, bytes) else str(data),
                aggregated=True,
            )
        )
    return found


@dataclass
class _Delivered:
    """Data waiting in the destination buffer, with the source record it came from."""

    source: UserRecord
    data: bytes


@dataclass
class _Buffer:
    items: list[Any] = field(default_factory=list)
    size: int = 0
    opened_at: float | None = None

    def add(self, item: Any, size: int, now: float) -> None:
        if not self.items:
            self.opened_at = now
        self.items.append(item)
        self.size += size

    def due(self, limit_bytes: int, interval: float, now: float) -> bool:
        if not self.items:
            return False
        return self.size >= limit_bytes or (
            self.opened_at is not None and now - self.opened_at >= interval
        )

    def take(self) -> list[Any]:
        items, self.items, self.size, self.opened_at = self.items, [], 0, None
        return items


def _timestamp_text(moment: datetime | str) -> str:
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FirehoseDeliveryStream:
    """One delivery stream; ``poll_once`` is one step (read, process what is due, write)."""

    def __init__(
        self,
        config: DeliveryStreamConfig,
        lambda_service: LambdaService | None,
        session_factory: SigningClients,
        *,
        state_dir: Path,
        clock: Clock,
        region: str = "us-east-1",
    ) -> None:
        if config.processor_arn and lambda_service is None:
            raise ValueError(f"{config.name} has a Lambda processor but no Lambda service")
        self.config = config
        self.stats = FirehoseDeliveryStats()
        self._lambda = lambda_service
        self._clock = clock
        self._region = region
        self._s3 = session_factory("s3")
        self._lambda_api = session_factory("lambda")
        self._glue = session_factory("glue") if config.conversion else None
        kinesis = session_factory("kinesis")
        # One file per incarnation of the delivery stream (ARN and creation time, as AWS tells
        # them apart), owned by it and by the incarnation of the stream it reads.
        incarnation = hashlib.sha256(f"{config.arn}@{config.created}".encode()).hexdigest()[:16]
        self._checkpoints = ShardCheckpointStore(
            state_dir / "firehose" / f"{config.name}-{incarnation}.json",
            {
                "deliveryStreamArn": config.arn,
                "deliveryStreamCreated": config.created,
                **stream_identity(kinesis, config.source_stream_arn).as_dict(),
            },
        )
        self._readers = [
            ShardReader(
                session_factory,
                config.source_stream_arn,
                shard_id,
                "LATEST",
                checkpoint=self._checkpoints.get(shard_id),
            )
            for shard_id in list_shard_ids(kinesis, config.source_stream_arn)
        ]
        self._last_read: dict[str, str] = {}
        self._processor_buffer = _Buffer()
        self._destination_buffer = _Buffer()
        self._lock = threading.Lock()

    def open(self) -> None:
        for reader in self._readers:
            reader.open()

    def poll_once(self, force_flush: bool = False) -> bool:
        """Read every shard once, process and deliver what is due; True when anything moved."""
        with self._lock:
            return self._step(force_flush)

    def _step(self, force_flush: bool) -> bool:
        worked = self._read()
        now = self._clock.now()
        if self.config.processor_arn:
            batches: list[list[UserRecord]] = []
            while self._processor_buffer.due(
                self.config.processor_buffer_bytes, self.config.processor_interval_seconds, now
            ) or (force_flush and self._processor_buffer.items):
                batches.append(self._take_processor_batch())
            if batches:
                self._process(batches)
                worked = True
        if self._destination_buffer.due(
            self.config.buffer_bytes, self.config.buffer_interval_seconds, now
        ) or (force_flush and self._destination_buffer.items):
            self._deliver(self._destination_buffer.take())
            worked = True
        self._save_checkpoints()
        return worked

    def flush(self) -> None:
        """Read to the tip and deliver everything now, as AWS would once the intervals elapse."""
        with self._lock:
            while self._step(force_flush=True):
                pass

    def _read(self) -> bool:
        worked = False
        now = self._clock.now()
        for reader in self._readers:
            records = reader.read()
            self.stats.millis_behind_latest[reader.shard_id] = reader.millis_behind_latest
            if not records:
                continue
            worked = True
            self._last_read[reader.shard_id] = records[-1].sequence_number
            for record in records:
                users = user_records(record)
                self.stats.aggregates_read += users[0].aggregated
                for user in users:
                    if self.config.processor_arn:
                        self._processor_buffer.add(user, user.size, now)
                    else:
                        self._destination_buffer.add(_Delivered(user, user.data), user.size, now)
        return worked

    def _take_processor_batch(self) -> list[UserRecord]:
        """At most the processor's buffer size; the rest stays buffered for the next invocation."""
        buffer = self._processor_buffer
        batch: list[UserRecord] = []
        size = 0
        for record in buffer.items:
            if batch and size + record.size > self.config.processor_buffer_bytes:
                break
            batch.append(record)
            size += record.size
        remaining = buffer.items[len(batch) :]
        opened_at = buffer.opened_at
        buffer.take()
        for record in remaining:
            buffer.add(record, record.size, opened_at or self._clock.now())
        return batch

    def _event(self, batch: list[tuple[str, UserRecord]], invocation_id: str) -> dict[str, Any]:
        return {
            "invocationId": invocation_id,
            "deliveryStreamArn": self.config.arn,
            "sourceKinesisStreamArn": self.config.source_stream_arn,
            "region": self._region,
            "records": [
                {
                    "recordId": record_id,
                    "approximateArrivalTimestamp": int(record.arrival_epoch * 1000),
                    "data": record.data_base64,
                    "kinesisRecordMetadata": {
                        "shardId": record.shard_id,
                        "partitionKey": record.partition_key,
                        "approximateArrivalTimestamp": int(record.arrival_epoch * 1000),
                        "sequenceNumber": record.sequence_number,
                        "subsequenceNumber": record.subsequence,
                    },
                }
                for record_id, record in batch
            ],
        }

    def _invoke_processor(self, event: dict[str, Any]) -> tuple[InvocationResult, int]:
        """Invoke, retrying errors and timeouts ``NumberOfRetries`` times; returns the last try."""
        if self._lambda is None or self.config.processor_arn is None:
            raise RuntimeError(f"{self.config.name} has no Lambda processor")
        attempts = 0
        while True:
            attempts += 1
            result = self._invoke_denied(event) or self._lambda.invoke(
                self.config.processor_arn, event
            )
            if result.function_error is None:
                return result, attempts
            if attempts > self.config.processor_retries:
                return result, attempts

    def _invoke_denied(self, event: dict[str, Any]) -> InvocationResult | None:
        """Firehose invokes with its role: a DryRun invocation asks the emulator whether it may."""
        try:
            self._lambda_api.invoke(FunctionName=self.config.processor_arn, InvocationType="DryRun")
        except ClientError as error:
            if error.response["Error"]["Code"] not in _ACCESS_DENIED:
                raise
            payload = {"errorType": INVOKE_ACCESS_DENIED, "errorMessage": str(error)}
            return InvocationResult(event["invocationId"], 403, payload, "Unhandled")
        return None

    def _process(self, batches: list[list[UserRecord]]) -> None:
        """Invoke the processor for several batches at once (as Firehose scales its invocations
        with the backlog), then apply the results in order."""
        identified = [
            [(f"{r.sequence_number}-{r.subsequence}-{r.shard_id}", r) for r in batch]
            for batch in batches
        ]
        events = [self._event(batch, str(uuid.uuid4())) for batch in identified]
        if len(events) == 1:
            results = [self._invoke_processor(events[0])]
        else:
            with ThreadPoolExecutor(
                max_workers=min(len(events), PROCESSOR_CONCURRENCY),
                thread_name_prefix="firehose-processor",
            ) as pool:
                results = list(pool.map(self._invoke_processor, events))
        for batch, (result, attempts) in zip(identified, results, strict=True):
            self._apply(batch, result, attempts)

    def _apply(
        self, batch: list[tuple[str, UserRecord]], result: InvocationResult, attempts: int
    ) -> None:
        records = [record for _, record in batch]
        by_id = dict(batch)
        self.stats.processor_invocations += attempts
        if result.function_error is not None:
            message = f"{result.error_type}: {result.payload.get('errorMessage', '')}"
            code = INVOKE_ACCESS_DENIED if result.error_type == INVOKE_ACCESS_DENIED else None
            self._fail(records, attempts, code or "Lambda.FunctionError", message)
            return
        responses = result.payload.get("records") if isinstance(result.payload, dict) else None
        if not isinstance(responses, list):
            self._fail(
                records,
                attempts,
                "Lambda.JsonProcessingException",
                "The response from the function was not a list of records.",
            )
            return
        returned = {r.get("recordId") for r in responses if isinstance(r, dict)}
        if not set(by_id) <= returned:
            self._fail(
                records,
                attempts,
                "Lambda.MissingRecordId",
                "One or more record Ids were not returned. Ensure that the Lambda "
                "function returns all received record Ids.",
            )
            return
        now = self._clock.now()
        failed: list[UserRecord] = []
        for response in responses:
            source = by_id.get(response.get("recordId"))
            if source is None:
                continue
            status = response.get("result")
            if status == "Ok" and isinstance(response.get("data"), str):
                data = base64.b64decode(response["data"])
                self._destination_buffer.add(_Delivered(source, data), len(data), now)
            elif status == "Dropped":
                self.stats.records_dropped += 1
            else:
                failed.append(source)
        if failed:
            self._fail(
                failed,
                attempts,
                "Lambda.ProcessingFailedStatus",
                "ProcessingFailed status set for record",
            )

    def _fail(self, records: list[UserRecord], attempts: int, code: str, message: str) -> None:
        """Write records that failed processing to the error prefix, raw data kept."""
        ending = int(time.time() * 1000)  # when the attempt really ended, whatever the clock
        lines = [
            json.dumps(
                {
                    "attemptsMade": attempts,
                    "arrivalTimestamp": _millis(record.arrival),
                    "errorCode": code,
                    "errorMessage": message,
                    "attemptEndingTimestamp": ending,
                    "rawData": record.data_base64,
                    "lambdaArn": self.config.processor_arn,
                }
            )
            for record in records
        ]
        oldest = min(record.arrival for record in records)
        key = evaluate_prefix(self.config.error_output_prefix, oldest, PROCESSING_FAILED)
        self._put(
            key + object_name(self.config.name, self.config.version, oldest),
            ("\n".join(lines) + "\n").encode(),
        )
        self.stats.records_failed += len(records)

    def _deliver(self, items: list[_Delivered]) -> None:
        if self.config.conversion is not None:
            self._deliver_converted(items, self.config.conversion)
            return
        oldest = min(item.source.arrival for item in items)
        key = evaluate_prefix(self.config.prefix, oldest)
        self._put(
            key + object_name(self.config.name, self.config.version, oldest),
            b"".join(item.data for item in items),
        )
        self.stats.records_delivered += len(items)

    def _deliver_converted(self, items: list[_Delivered], conversion: ParquetConversion) -> None:
        """One Parquet object of the records that convert; the others to the error prefix."""
        try:
            schema = table_schema(self._glue, conversion)
        except ClientError as error:
            code = error.response["Error"]["Code"].removesuffix("Exception")
            self._conversion_failed(
                [(item, str(error)) for item in items], f"DataFormatConversion.{code}"
            )
            return
        rows: list[dict[str, Any]] = []
        converted: list[_Delivered] = []
        failed: list[tuple[_Delivered, str]] = []
        for item in items:
            try:
                rows.extend(record_rows(item.data, schema))
            except MalformedRecordError as error:
                failed.append((item, str(error)))
            else:
                converted.append(item)
        if converted:
            oldest = min(item.source.arrival for item in converted)
            key = evaluate_prefix(self.config.prefix, oldest)
            self._put(
                key + object_name(self.config.name, self.config.version, oldest),
                parquet_object(rows, schema, conversion.compression),
            )
            self.stats.records_delivered += len(converted)
        if failed:
            self._conversion_failed(failed, MALFORMED_DATA)

    def _conversion_failed(self, failed: list[tuple[_Delivered, str]], code: str) -> None:
        """Records that did not convert, in the documented error document, raw data kept."""
        conversion = self.config.conversion
        if conversion is None:
            raise RuntimeError(f"{self.config.name} converts no records")
        ending = int(time.time() * 1000)
        table = conversion.catalog_table(self.config.account_id, self._region)
        lines = [
            json.dumps(
                {
                    "attemptsMade": 1,
                    "arrivalTimestamp": _millis(item.source.arrival),
                    "lastErrorCode": code,
                    "lastErrorMessage": message,
                    "attemptEndingTimestamp": ending,
                    "rawData": base64.b64encode(item.data).decode("ascii"),
                    "sequenceNumber": item.source.sequence_number,
                    "subSequenceNumber": item.source.subsequence,
                    "dataCatalogTable": table,
                }
            )
            for item, message in failed
        ]
        oldest = min(item.source.arrival for item, _ in failed)
        key = evaluate_prefix(self.config.error_output_prefix, oldest, FORMAT_CONVERSION_FAILED)
        self._put(
            key + object_name(self.config.name, self.config.version, oldest),
            ("\n".join(lines) + "\n").encode(),
        )
        self.stats.records_failed += len(failed)

    def _put(self, key: str, body: bytes) -> None:
        """Write one object, compressed (and suffixed) as the destination's CompressionFormat."""
        if self.config.compression == "GZIP":
            body = gzip.compress(body, mtime=0)
        key += _COMPRESSIONS[self.config.compression]
        self._s3.put_object(Bucket=self.config.bucket, Key=key, Body=body)
        self.stats.objects_written += 1

    def _save_checkpoints(self) -> None:
        pending: dict[str, str] = {}
        for item in self._destination_buffer.items:
            pending.setdefault(item.source.shard_id, item.source.sequence_number)
        for record in self._processor_buffer.items:
            pending.setdefault(record.shard_id, record.sequence_number)
        for shard_id, last in self._last_read.items():
            if shard_id in pending:
                self._checkpoints.set(
                    shard_id, ShardCheckpoint("AT_SEQUENCE_NUMBER", pending[shard_id])
                )
            else:
                self._checkpoints.set(shard_id, ShardCheckpoint("AFTER_SEQUENCE_NUMBER", last))


def describe_delivery_stream(firehose_client: Any, name: str) -> DeliveryStreamConfig:
    description = firehose_client.describe_delivery_stream(DeliveryStreamName=name)
    return DeliveryStreamConfig.from_api(description["DeliveryStreamDescription"])
