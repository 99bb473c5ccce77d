"""Reading a Kinesis shard as AWS's consumers do (GetShardIterator, GetRecords), with checkpoints.

Shared by the Lambda event source mapping and Firehose, each with its own iterators and
checkpoints, as in AWS where both are independent consumers of the stream. ``GetRecords`` is
called with up to 10,000 records at a time: no per-record round trip.

A checkpoint is a shard iterator type plus a sequence number (``AFTER_SEQUENCE_NUMBER`` of the
last record fully handled, or ``AT_SEQUENCE_NUMBER`` of the first one still pending). Checkpoints
live in a JSON file in the runtime's state dir, written atomically, so they survive a restart of
the runtime: a restarted consumer resumes where it stopped instead of at its starting position.

Checkpoints belong to one incarnation of a consumer reading one incarnation of a stream. AWS tells
incarnations apart by more than a name (a stream by its ARN and creation time, a mapping by its
UUID), and so does the file: it records its owner, and a file whose owner is not the consumer and
stream it is applied to, or a sequence number the shard does not hold, is refused with
``ShardCheckpointMismatchError``. Sequence numbers of another stream would otherwise silently skip
records.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

MAX_GET_RECORDS = 10_000


@dataclass(frozen=True)
class ShardRecord:
    """One Kinesis record, as GetRecords returns it on the wire, with the shard it came from.

    The data stays base64 and the arrival time an epoch number: Lambda and Firehose events carry
    them in exactly that form, so nothing is decoded only to be encoded again.
    """

    shard_id: str
    sequence_number: str
    partition_key: str
    data_base64: str
    arrival_epoch: float

    @property
    def arrival(self) -> datetime:
        return datetime.fromtimestamp(self.arrival_epoch, UTC)

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.data_base64)

    @property
    def size(self) -> int:
        """Decoded size in bytes, computed from the base64 length."""
        encoded = self.data_base64
        return len(encoded) * 3 // 4 - encoded.count("=", len(encoded) - 2)


@dataclass(frozen=True)
class ShardCheckpoint:
    iterator_type: str
    sequence_number: str


class ShardCheckpointMismatchError(RuntimeError):
    """Checkpoints that do not belong to the consumer or stream they would be applied to."""


@dataclass(frozen=True)
class StreamIdentity:
    """One incarnation of a stream: a stream deleted and created again has a new creation time."""

    arn: str
    created: str

    def as_dict(self) -> dict[str, str]:
        return {"streamArn": self.arn, "streamCreated": self.created}


def stream_identity(kinesis: Any, stream_arn: str) -> StreamIdentity:
    """Read with DescribeStream: the action both readers' roles hold on AWS (the mapping's and
    Firehose's), so the identity check needs no permission AWS would not have granted."""
    summary = kinesis.describe_stream(StreamARN=stream_arn, Limit=1)["StreamDescription"]
    created = summary["StreamCreationTimestamp"]
    return StreamIdentity(
        arn=summary["StreamARN"],
        created=created.isoformat() if isinstance(created, datetime) else str(created),
    )


class ShardCheckpointStore:
    """Checkpoints of one consumer, keyed by shard, persisted to ``path`` with their ``owner``.

    ``owner`` names the consumer and stream incarnations the checkpoints belong to; a file written
    for another owner raises ``ShardCheckpointMismatchError`` instead of being applied.
    """

    def __init__(self, path: Path, owner: Mapping[str, str]) -> None:
        self._path = path
        self._owner = dict(owner)
        self._lock = threading.Lock()
        self._checkpoints: dict[str, ShardCheckpoint] = {}
        if not path.is_file():
            return
        try:
            raw = json.loads(path.read_text())
            stored_owner = raw["owner"]
            entries = raw["checkpoints"]
        except (ValueError, KeyError, TypeError) as error:
            raise ShardCheckpointMismatchError(
                f"{path} is not a checkpoint file of {self._owner} ({error!r}): remove it to "
                "start from the starting position"
            ) from None
        if stored_owner != self._owner:
            raise ShardCheckpointMismatchError(
                f"{path} holds checkpoints of {stored_owner}, not of {self._owner}: they "
                "cannot be applied to this stream"
            )
        for key, value in entries.items():
            self._checkpoints[key] = ShardCheckpoint(value["type"], value["sequenceNumber"])

    @property
    def path(self) -> Path:
        return self._path

    def get(self, key: str) -> ShardCheckpoint | None:
        with self._lock:
            return self._checkpoints.get(key)

    def set(self, key: str, checkpoint: ShardCheckpoint) -> None:
        with self._lock:
            if self._checkpoints.get(key) == checkpoint:
                return
            self._checkpoints[key] = checkpoint
            body = {
                "owner": self._owner,
                "checkpoints": {
                    k: {"type": c.iterator_type, "sequenceNumber": c.sequence_number}
                    for k, c in self._checkpoints.items()
                },
            }
            self._path.parent.mkdir(parents=True, exist_ok=True)
            staging = self._path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            staging.write_text(json.dumps(body, indent=1))
            staging.replace(self._path)


def _as_base64(data: bytes | str) -> str:
    return data if isinstance(data, str) else base64.b64encode(data).decode()


def _as_epoch(moment: datetime | float | str) -> float:
    if isinstance(moment, datetime):
        return moment.timestamp()
    return float(moment)


class SigningClients(Protocol):
    """boto3 clients of one session (``clients("kinesis")``) and the credentials they sign with."""

    def __call__(self, service: str) -> Any: ...

    def credentials(self) -> Credentials: ...


class GetRecordsError(RuntimeError):
    """GetRecords answered with an error; ``code`` is the AWS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class WireGetRecords:
    """GetRecords as a signed JSON POST, its response left as JSON.

    botocore turns every one of up to 10,000 records into bytes and a timezone-aware datetime;
    the event source mapping and Firehose need the base64 text and the epoch number the wire
    already carries, so parsing dominated a read. Other calls still go through boto3.
    """

    def __init__(self, clients: SigningClients) -> None:
        kinesis = clients("kinesis")
        self._url = kinesis.meta.endpoint_url
        self._region = kinesis.meta.region_name
        # The session's credentials, the client's own: signed as boto3 would sign the request.
        self._credentials = clients.credentials()
        self._http = urllib3.PoolManager(maxsize=4)

    def __call__(self, shard_iterator: str, limit: int, stream_arn: str) -> dict[str, Any]:
        body = json.dumps(
            {"ShardIterator": shard_iterator, "Limit": limit, "StreamARN": stream_arn}
        ).encode()
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Kinesis_20131202.GetRecords",
            },
        )
        SigV4Auth(self._credentials.get_frozen_credentials(), "kinesis", self._region).add_auth(
            request
        )
        response = self._http.request(
            "POST", self._url, body=body, headers=dict(request.headers.items())
        )
        payload: dict[str, Any] = json.loads(response.data) if response.data else {}
        if response.status != 200:
            code = str(payload.get("__type", response.status)).rsplit("#", 1)[-1]
            raise GetRecordsError(code, str(payload.get("message", payload)))
        return payload


def list_shard_ids(kinesis: Any, stream_arn: str) -> list[str]:
    shard_ids: list[str] = []
    kwargs: dict[str, Any] = {"StreamARN": stream_arn}
    while True:
        page = kinesis.list_shards(**kwargs)
        shard_ids.extend(shard["ShardId"] for shard in page["Shards"])
        token = page.get("NextToken")
        if not token:
            return shard_ids
        kwargs = {"NextToken": token}


class ShardReader:
    """An iterator over one shard that starts at a checkpoint, or else at a starting position."""

    def __init__(
        self,
        clients: SigningClients,
        stream_arn: str,
        shard_id: str,
        starting_position: str,
        *,
        starting_timestamp: datetime | None = None,
        checkpoint: ShardCheckpoint | None = None,
    ) -> None:
        self._kinesis = clients("kinesis")
        self._stream_arn = stream_arn
        self.shard_id = shard_id
        self._starting_position = starting_position
        self._starting_timestamp = starting_timestamp
        self._checkpoint = checkpoint
        self._get_records = WireGetRecords(clients)
        self._iterator: str | None = None
        self._last_read: str | None = None
        self.millis_behind_latest = 0

    def _iterator_arguments(self) -> Mapping[str, Any]:
        base = {"StreamARN": self._stream_arn, "ShardId": self.shard_id}
        if self._last_read is not None:
            return {
                **base,
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": self._last_read,
            }
        if self._checkpoint is not None:
            return {
                **base,
                "ShardIteratorType": self._checkpoint.iterator_type,
                "StartingSequenceNumber": self._checkpoint.sequence_number,
            }
        if self._starting_position == "AT_TIMESTAMP":
            return {
                **base,
                "ShardIteratorType": "AT_TIMESTAMP",
                "Timestamp": self._starting_timestamp or datetime.now(UTC),
            }
        return {**base, "ShardIteratorType": self._starting_position}

    def open(self) -> None:
        """Get the first iterator now: LATEST means 'after what is in the shard at this moment'."""
        if self._iterator is None:
            if self._last_read is None and self._checkpoint is not None:
                self._verify_checkpoint(self._checkpoint)
            response = self._kinesis.get_shard_iterator(**self._iterator_arguments())
            self._iterator = response["ShardIterator"]

    def _verify_checkpoint(self, checkpoint: ShardCheckpoint) -> None:
        """The checkpoint's record must be in this shard: else it came from another stream."""
        try:
            iterator = self._kinesis.get_shard_iterator(
                StreamARN=self._stream_arn,
                ShardId=self.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=checkpoint.sequence_number,
            )["ShardIterator"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidArgumentException":
                raise
            records = []
        else:
            records = self._get_records(iterator, 1, self._stream_arn).get("Records", [])
        if not records or records[0]["SequenceNumber"] != checkpoint.sequence_number:
            raise ShardCheckpointMismatchError(
                f"checkpoint {checkpoint.iterator_type} {checkpoint.sequence_number} names no "
                f"record of {self.shard_id} of {self._stream_arn}: it belongs to another stream"
            )

    def read(self, limit: int = MAX_GET_RECORDS) -> list[ShardRecord]:
        self.open()
        limit = min(limit, MAX_GET_RECORDS)
        try:
            response = self._get_records(str(self._iterator), limit, self._stream_arn)
        except GetRecordsError as error:
            if error.code != "ExpiredIteratorException":
                raise
            self._iterator = None
            self.open()
            response = self._get_records(str(self._iterator), limit, self._stream_arn)
        self._iterator = response.get("NextShardIterator")
        self.millis_behind_latest = int(response.get("MillisBehindLatest", 0))
        records = [
            ShardRecord(
                shard_id=self.shard_id,
                sequence_number=raw["SequenceNumber"],
                partition_key=raw["PartitionKey"],
                data_base64=_as_base64(raw["Data"]),
                arrival_epoch=_as_epoch(raw["ApproximateArrivalTimestamp"]),
            )
            for raw in response.get("Records", [])
        ]
        if records:
            self._last_read = records[-1].sequence_number
        return records
