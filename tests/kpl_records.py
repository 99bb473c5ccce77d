"""KPL-aggregated Kinesis records for tests, made with AWS's own aggregator (aws_kinesis_agg)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_kinesis_agg
from aws_kinesis_agg.aggregator import RecordAggregator


def aggregate(user_records: Sequence[tuple[str, bytes]]) -> tuple[str, bytes]:
    """(partition key, data) of one Kinesis record aggregating ``(partition key, data)`` pairs,
    in the KPL format: magic prefix, protobuf body, MD5 digest of the body."""
    aggregator = RecordAggregator()
    for partition_key, data in user_records:
        if aggregator.add_user_record(partition_key, data) is not None:
            raise ValueError("the user records do not fit one aggregated record")
    partition_key, _explicit_hash_key, data = aggregator.clear_and_get().get_contents()
    return str(partition_key), bytes(data)


def corrupt(aggregated: bytes) -> bytes:
    """The same aggregate with one byte of its digest flipped: the MD5 check fails."""
    assert aggregated.startswith(aws_kinesis_agg.MAGIC)
    return aggregated[:-1] + bytes([aggregated[-1] ^ 0xFF])
