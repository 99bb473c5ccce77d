"""Firehose record format conversion: JSON records to Parquet, typed by a Glue table's columns.

What the Amazon Data Firehose developer guide documents ("Convert input data format in Amazon
Data Firehose" and "Handling errors for data format conversion"), as far as this stack uses it:

* the schema is the Glue table's columns (``SchemaConfiguration``), read with the delivery
  stream's role (``glue:GetTable``), its latest version;
* the OpenX JSON SerDe reads each record: one or more JSON objects (``{"a": 1}{"b": 1}``, never
  an array); keys match column names case-insensitively, a missing key is a null, a key with no
  column is ignored;
* the Parquet SerDe writes one object per buffer flush, with the configured compression
  (``SNAPPY`` by default, ``GZIP`` or ``UNCOMPRESSED``);
* a record that cannot be read as the schema says goes to the error prefix with the
  ``format-conversion-failed`` output type, as a JSON document holding the raw data.

Types are the Hive types the stack's table uses (``string``, the integer types, ``double``,
``float``, ``boolean``, ``array<...>``); another type is refused when the schema is read.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_CONVERSION_FAILED = "format-conversion-failed"
MALFORMED_DATA = "DataFormatConversion.MalformedData"
PARQUET_COMPRESSIONS = {"SNAPPY": "snappy", "GZIP": "gzip", "UNCOMPRESSED": "none"}

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "varchar": pa.string(),
    "char": pa.string(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}
_DECODER = json.JSONDecoder()


class SchemaError(ValueError):
    """The Glue table cannot be a conversion schema (a column type this stand-in cannot write)."""


class MalformedRecordError(ValueError):
    """A record the OpenX JSON SerDe cannot read as the schema says; the message says why."""


@dataclass(frozen=True)
class ParquetConversion:
    """``DataFormatConversionConfiguration`` of a delivery stream that writes Parquet."""

    database: str
    table: str
    catalog_id: str | None
    region: str | None
    version_id: str
    compression: str

    @classmethod
    def from_api(cls, configuration: Mapping[str, Any] | None) -> ParquetConversion | None:
        """The conversion when it is enabled, None when it is absent or disabled."""
        if not configuration or not configuration.get("Enabled", True):
            return None
        serializer = configuration.get("OutputFormatConfiguration", {}).get("Serializer", {})
        if "ParquetSerDe" not in serializer:
            raise ValueError(f"only Parquet output is supported locally, not {sorted(serializer)}")
        deserializer = configuration.get("InputFormatConfiguration", {}).get("Deserializer", {})
        if "OpenXJsonSerDe" not in deserializer:
            raise ValueError(
                f"only the OpenX JSON SerDe is supported locally, not {sorted(deserializer)}"
            )
        compression = serializer["ParquetSerDe"].get("Compression") or "SNAPPY"
        if compression not in PARQUET_COMPRESSIONS:
            raise ValueError(f"Parquet compression {compression} is not one of Firehose's")
        schema = configuration["SchemaConfiguration"]
        return cls(
            database=schema["DatabaseName"],
            table=schema["TableName"],
            catalog_id=schema.get("CatalogId") or None,
            region=schema.get("Region") or None,
            version_id=schema.get("VersionId") or "LATEST",
            compression=compression,
        )

    def catalog_table(self, account_id: str, region: str) -> dict[str, str]:
        """The ``dataCatalogTable`` of a conversion error document."""
        catalog_id = self.catalog_id or account_id
        table_region = self.region or region
        return {
            "catalogId": catalog_id,
            "databaseName": self.database,
            "tableName": self.table,
            "region": table_region,
            "versionId": self.version_id,
            "catalogArn": f"arn:aws:glue:{table_region}:{catalog_id}:catalog",
        }


def arrow_type(hive_type: str) -> pa.DataType:
    """The Arrow type a Parquet column of this Glue (Hive) type holds."""
    text = hive_type.strip().lower()
    if text.startswith("array<") and text.endswith(">"):
        return pa.list_(arrow_type(text[6:-1]))
    if text in _SCALARS:
        return _SCALARS[text]
    raise SchemaError(f"column type {hive_type!r} is not supported by the local conversion")


def table_schema(glue: Any, conversion: ParquetConversion) -> pa.Schema:
    """The Glue table's data columns as an Arrow schema (``GetTable`` with the caller's rights)."""
    request: dict[str, str] = {"DatabaseName": conversion.database, "Name": conversion.table}
    if conversion.catalog_id:
        request["CatalogId"] = conversion.catalog_id
    columns = glue.get_table(**request)["Table"]["StorageDescriptor"]["Columns"]
    return pa.schema([(column["Name"], arrow_type(column["Type"])) for column in columns])


def json_documents(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of one record, as the OpenX SerDe reads them (concatenated, no array)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRecordError(f"the record is not UTF-8: {error}") from error
    documents: list[dict[str, Any]] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        try:
            document, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise MalformedRecordError(f"the record is not JSON: {error}") from error
        if not isinstance(document, dict):
            raise MalformedRecordError(
                f"the record holds a JSON {type(document).__name__}, not an object"
            )
        documents.append(document)
    if not documents:
        raise MalformedRecordError("the record holds no JSON object")
    return documents


def _coerce(value: Any, kind: pa.DataType, column: str) -> Any:
    if value is None:
        return None
    if pa.types.is_list(kind):
        if not isinstance(value, list):
            raise MalformedRecordError(f"column {column}: expected an array, got {value!r}")
        return [_coerce(item, kind.value_type, column) for item in value]
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if pa.types.is_boolean(kind):
        return _boolean(value, column)
    if pa.types.is_integer(kind):
        return _integer(value, kind, column)
    return _number(value, column)


def _boolean(value: Any, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MalformedRecordError(f"column {column}: expected a boolean, got {value!r}")


def _integer(value: Any, kind: pa.DataType, column: str) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value)
    bits = kind.bit_width - 1
    if number is None or not -(2**bits) <= number < 2**bits:
        raise MalformedRecordError(f"column {column}: expected {kind}, got {value!r}")
    return number


def _number(value: Any, column: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise MalformedRecordError(f"column {column}: expected a number, got {value!r}")


def record_rows(data: bytes, schema: pa.Schema) -> list[dict[str, Any]]:
    """The rows one record becomes: its JSON objects' values under the schema's columns."""
    rows = []
    for document in json_documents(data):
        by_name = {key.lower(): value for key, value in document.items()}
        rows.append(
            {
                field.name: _coerce(by_name.get(field.name.lower()), field.type, field.name)
                for field in schema
            }
        )
    return rows


def parquet_object(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, compression: str) -> bytes:
    """One Parquet object holding ``rows``, compressed as the Parquet SerDe was told."""
    table = pa.Table.from_pylist(list(rows), schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSIONS[compression])
    return sink.getvalue()
