"""Figure 7: the bytes each named query reads over one day of the lake, JSON lines against Parquet.

Athena bills the bytes it scans. Over JSON lines it reads every object of the partitions a query
selects, whole (compressed as stored): a row format cannot skip a column. Over Parquet it reads
each object's footer and, in every row group, only the column chunks of the columns the query
references. This bench writes the same tweets both ways, as the stack's Firehose would:
the transformer's lake lines as GZIP JSON lines (``lake_format = "ndjson"``) and as Parquet with
each codec Firehose's Parquet serializer offers (``lake_format = "parquet"``, converted by the
local Firehose's own conversion against the Glue table's columns), in objects of what one
128 MB delivery buffer holds (at 1,000 tweets/s Firehose fills one in minutes, so a day is many
such objects; the bench's tweets fit one). It counts, per named query, the bytes of the objects
(JSON) or of the footers and touched column chunks (Parquet, from each object's metadata), and
the lake's bytes per tweet.

The named queries and the table's columns are read from ``terraform/modules/lake/main.tf``, where
the stack defines them, and the columns a query touches are those sqlglot finds in its SQL.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import expressions as exp

from bench.dataset import StreamRecordBytes
from bench.figures import Figure, Goal, Spread
from local_aws.record_format import PARQUET_COMPRESSIONS, arrow_type, parquet_object, record_rows
from tweet_record.lake import encode_lake_line, lake_row
from tweet_record.parse import parse_stream_record

LAKE_MODULE = Path(__file__).resolve().parent.parent / "terraform" / "modules" / "lake" / "main.tf"
BUFFER_BYTES = 128 * 1024 * 1024
"""The stack's Firehose buffer: an object holds at most this much transformer output."""
PARQUET_SHARE_GOAL = Goal("at_most", 25.0)
"""Parquet reads at most a quarter of what JSON lines make a query read."""
DEFAULT_COMPRESSION = "GZIP"
"""The stack's default `lake_compression` with Parquet; the goal is judged on it."""

_COLUMN = re.compile(r'\{\s*name\s*=\s*"(\w+)",\s*type\s*=\s*"([^"]+)"')
_NAMED_QUERY = re.compile(
    r'^\s+([a-z0-9-]+) = \{\s*description\s*=\s*"[^"]*"\s*query\s*=\s*<<-SQL\n(.*?)^\s*SQL$',
    re.MULTILINE | re.DOTALL,
)
_TEMPLATE = re.compile(r"\$\{local\.(\w+)\}")


@dataclass(frozen=True)
class LakeDay:
    """The same tweets as GZIP JSON lines and as Parquet of each codec, object by object."""

    tweets: int
    json_objects: list[bytes]
    parquet_objects: dict[str, list[bytes]]


def stack_table_columns(module: Path = LAKE_MODULE) -> list[tuple[str, str]]:
    """(name, Hive type) of the Glue table's columns, as the lake module declares them."""
    text = module.read_text(encoding="utf-8")
    block = text[text.index("tweet_columns = [") : text.index("]", text.index("tweet_columns"))]
    return _COLUMN.findall(block)


def stack_named_queries(module: Path = LAKE_MODULE) -> dict[str, str]:
    """The named queries' SQL, with the table and partition predicates templated in."""

    def local(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "table_ref":
            return "tweets"
        if name.endswith("_partitions"):
            return "concat(year, month, day, hour) >= '0000000000'"
        raise ValueError(f"unknown template local.{name} in a named query")

    text = module.read_text(encoding="utf-8")
    return {name: _TEMPLATE.sub(local, sql) for name, sql in _NAMED_QUERY.findall(text)}


def touched_columns(sql: str, columns: Sequence[str]) -> set[str]:
    """The table columns the query references (partition columns are in the object's key)."""
    statement = sqlglot.parse_one(sql, read="athena")
    names = {column.name.lower() for column in statement.find_all(exp.Column)}
    return {name for name in columns if name.lower() in names}


def buffered(lines: Sequence[bytes]) -> list[list[bytes]]:
    """The lines cut into objects as Firehose's buffer cuts them: at most BUFFER_BYTES each."""
    objects: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if objects[-1] and size + len(line) > BUFFER_BYTES:
            objects.append([])
            size = 0
        objects[-1].append(line)
        size += len(line)
    return objects


def lake_day(records: Sequence[StreamRecordBytes]) -> LakeDay:
    """The records' lake lines, written as each format and codec."""
    schema = pa.schema([(name, arrow_type(kind)) for name, kind in stack_table_columns()])
    lines = []
    for record in records:
        tweet = parse_stream_record(record.data)
        lines.append(encode_lake_line(lake_row(tweet, tweet.sentiment or "NEUTRAL")))
    objects = buffered(lines)
    rows = [[row for line in chunk for row in record_rows(line, schema)] for chunk in objects]
    return LakeDay(
        tweets=len(lines),
        json_objects=[gzip.compress(b"".join(chunk), mtime=0) for chunk in objects],
        parquet_objects={
            codec: [parquet_object(chunk, schema, codec) for chunk in rows]
            for codec in PARQUET_COMPRESSIONS
            if codec != "UNCOMPRESSED"
        },
    )


def parquet_bytes_read(body: bytes, columns: set[str]) -> int:
    """Footer (metadata, its 4-byte length, the magic) plus every chunk of ``columns``."""
    metadata = pq.ParquetFile(pa.BufferReader(body)).metadata
    read = metadata.serialized_size + 8
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema.split(".")[0] in columns:
                read += chunk.total_compressed_size
    return int(read)


def lake_figures(records: Sequence[StreamRecordBytes]) -> list[Figure]:
    day = lake_day(records)
    columns = [name for name, _ in stack_table_columns()]
    json_bytes = sum(len(body) for body in day.json_objects)
    figures = [
        Figure(
            "lake_bytes_per_tweet_gzip_json_lines",
            "lake bytes per tweet, GZIP JSON lines",
            "B",
            Spread.of([json_bytes / day.tweets]),
            details={"objects": len(day.json_objects), "bytes": json_bytes},
        )
    ]
    for codec, objects in day.parquet_objects.items():
        parquet_bytes = sum(len(body) for body in objects)
        figures.append(
            Figure(
                f"lake_bytes_per_tweet_{codec.lower()}_parquet",
                f"lake bytes per tweet, {codec} Parquet",
                "B",
                Spread.of([parquet_bytes / day.tweets]),
                details={"objects": len(objects), "bytes": parquet_bytes},
            )
        )
    for name, sql in stack_named_queries().items():
        touched = touched_columns(sql, columns)
        for codec, objects in day.parquet_objects.items():
            parquet_read = sum(parquet_bytes_read(body, touched) for body in objects)
            figures.append(
                Figure(
                    f"lake_bytes_read_{name.replace('-', '_')}_{codec.lower()}_parquet_vs_json",
                    f"bytes read by {name}, {codec} Parquet vs JSON lines",
                    "%",
                    Spread.of([100.0 * parquet_read / json_bytes]),
                    PARQUET_SHARE_GOAL if codec == DEFAULT_COMPRESSION else None,
                    baseline=f"{parquet_read:,} of {json_bytes:,} B",
                    details={
                        "tweets": day.tweets,
                        "json_bytes_read": json_bytes,
                        "parquet_bytes_read": parquet_read,
                        "parquet_bytes_per_tweet": parquet_read / day.tweets,
                        "columns": sorted(touched),
                    },
                )
            )
    return figures
