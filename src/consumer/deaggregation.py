"""KPL-aggregated Kinesis records: the user records inside one, read with AWS's own module.

The Kinesis Producer Library packs many user records into one Kinesis record: a magic prefix, a
protobuf ``AggregatedRecord`` and the MD5 digest of that body. A Lambda consumer gets the Kinesis
record as it is and must deaggregate it (Kinesis Data Streams developer guide, "Consumer-side
deaggregation"), with AWS's ``aws_kinesis_agg`` module in Python. A record without the prefix is
a plain record and passes through unchanged.

The module reads a record whose digest does not match (or whose body is not an aggregate) as a
plain record, and reports a body it cannot split by printing to stderr and stopping early; here
either is a corrupt aggregate, rejected whole with its reason, so no user record of it is stored
and none is silently lost. ``aws_kinesis_agg.deaggregator`` loads protobuf: it is imported on the
first aggregated record, never at cold start.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from base64 import b64decode
from dataclasses import dataclass

from aws_kinesis_agg import DIGEST_SIZE, MAGIC

from tweet_record.parse import RecordRejectedError, RejectReason


@dataclass(frozen=True)
class UserRecord:
    """One user record of an aggregate: its index there, its own partition key, its bytes."""

    subsequence: int
    partition_key: str
    data: bytes


def is_aggregated(data: bytes) -> bool:
    """True when the record starts with the KPL's magic prefix."""
    return data.startswith(MAGIC)


def user_records(data_base64: str, data: bytes, sequence_number: str) -> list[UserRecord]:
    """The user records of an aggregated record (``is_aggregated``), in order.

    Raises ``RecordRejectedError`` (``CORRUPT_AGGREGATE``) when the MD5 check fails or the body
    is not a well-formed aggregate.
    """
    from aws_kinesis_agg.deaggregator import iter_deaggregate_records  # noqa: PLC0415 - protobuf

    as_lambda_delivers_it = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "sequenceNumber": sequence_number,
            "partitionKey": "",
            "approximateArrivalTimestamp": 0,
            "data": data_base64,
        }
    }
    complaints = io.StringIO()
    with contextlib.redirect_stderr(complaints):
        found = list(iter_deaggregate_records(as_lambda_delivers_it))
    if complaints.getvalue() or any(not r["kinesis"].get("aggregated") for r in found):
        raise RecordRejectedError(RejectReason.CORRUPT_AGGREGATE, _corruption(data))
    return [
        UserRecord(
            subsequence=int(record["kinesis"]["subSequenceNumber"]),
            partition_key=str(record["kinesis"]["partitionKey"]),
            data=b64decode(record["kinesis"]["data"]),
        )
        for record in found
    ]


def _corruption(data: bytes) -> str:
    """Which check the aggregate failed, in words for the quarantine document."""
    body = data[len(MAGIC) : -DIGEST_SIZE]
    if len(data) <= len(MAGIC) + DIGEST_SIZE:
        return f"KPL aggregate of {len(data)} bytes is too short for its body and MD5 digest"
    if hashlib.md5(body).digest() != data[-DIGEST_SIZE:]:  # noqa: S324 - the format's checksum
        return "KPL aggregate fails its MD5 check: the digest does not match the body"
    return "KPL aggregate's body is not a valid AggregatedRecord protobuf"
