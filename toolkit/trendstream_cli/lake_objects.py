"""The rows of one lake object, whichever format Firehose wrote it in.

With record format conversion on (the stack's default) an object under ``tweets/`` is Parquet;
without it, JSON lines, gzipped when the delivery stream compresses. Objects under ``errors/``
are always JSON lines. The format is told by the object's own bytes (Parquet's ``PAR1``, gzip's
magic), as a reader of the bucket would, never by its name.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


def is_parquet(body: bytes) -> bool:
    return (
        body[: len(PARQUET_MAGIC)] == PARQUET_MAGIC and body[-len(PARQUET_MAGIC) :] == PARQUET_MAGIC
    )


def json_lines(body: bytes) -> bytes:
    """The JSON lines of an object, gunzipped if it is gzip."""
    return gzip.decompress(body) if body[: len(GZIP_MAGIC)] == GZIP_MAGIC else body


def lake_rows(body: bytes) -> list[dict[str, Any]]:
    """Every row of the object, as a dict of column to value."""
    if is_parquet(body):
        rows: list[dict[str, Any]] = pq.read_table(pa.BufferReader(body)).to_pylist()
        return rows
    return [json.loads(line) for line in json_lines(body).splitlines() if line.strip()]


def row_count(body: bytes) -> int:
    """Rows in the object, from the Parquet footer or by counting lines."""
    if is_parquet(body):
        return int(pq.ParquetFile(pa.BufferReader(body)).metadata.num_rows)
    return sum(1 for line in json_lines(body).splitlines() if line.strip())
