"""Kinesis: `CreateStream` applies its `Tags`; reads and writes cost what they return.

Tags: moto 5.2.5 ignores the `Tags` parameter of CreateStream. The provider sends the stream's
tags there and reads them back with ListTagsForStream, so the first plan after an apply would show
a `tags_all` change that a second apply "fixes".

Cost: moto finds a shard's newest sequence number by listing every key (`put_record`, so each
PutRecords entry costs O(records in the shard)) and serves GetRecords by walking the shard from
its first record. Both grow with the stream, which made the local pipeline slow down as it ran.
Sequence numbers within a moto shard are consecutive integers (each put is newest + 1), so the
records after an iterator are looked up directly; a gap falls back to moto's own scan.
"""

from __future__ import annotations

from typing import Any

from moto.kinesis.models import Record, Shard
from moto.kinesis.responses import KinesisResponse

_original_create_stream = KinesisResponse.create_stream
_original_get_records = Shard.get_records


def create_stream(self: KinesisResponse) -> Any:
    result = _original_create_stream(self)
    tags: dict[str, str] | None = self._get_param("Tags")
    if tags:
        self.kinesis_backend.add_tags_to_stream(
            stream_arn=None, stream_name=self._get_param("StreamName"), tags=tags
        )
    return result


def get_max_sequence_number(self: Shard) -> int:
    return next(reversed(self.records)) if self.records else 0


def get_min_sequence_number(self: Shard) -> int:
    return next(iter(self.records)) if self.records else 0


def get_records(
    self: Shard, last_sequence_id: str, limit: int | None
) -> tuple[list[Record], int, int]:
    if not self.records:
        return [], int(last_sequence_id), 0
    last_returned = int(last_sequence_id)
    newest = next(reversed(self.records))
    sequence = max(last_returned + 1, next(iter(self.records)))
    results: list[Record] = []
    while limit is None or len(results) < limit:
        record = self.records.get(sequence)
        if record is None:
            break
        results.append(record)
        last_returned = sequence
        sequence += 1
    if sequence <= newest and (limit is None or len(results) < limit):
        return _original_get_records(self, last_sequence_id, limit)  # not contiguous
    behind = self.records[newest].created_at - results[-1].created_at if results else 0.0
    return results, last_returned, int(behind * 1000)


def apply() -> None:
    KinesisResponse.create_stream = create_stream  # type: ignore[method-assign]
    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]
    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_records = get_records  # type: ignore[method-assign]
