"""Firehose delivery, tested against the Amazon Data Firehose developer guide.

The delivery stream is stepped with ``poll_once`` and a manual clock: no sleeping.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.kpl_records import aggregate, corrupt
from tests.runtime.conftest import ROLE_ARN, DeployedFunction, put_records, unique

from local_aws.clock import ManualClock
from local_aws.firehose import (
    DeliveryStreamConfig,
    FirehoseDeliveryStream,
    describe_delivery_stream,
    evaluate_prefix,
    format_java_datetime,
    object_name,
)
from local_aws.lambda_service import LambdaService

pytestmark = pytest.mark.emulator

MOMENT = datetime(2018, 8, 27, 10, 30, 15, 123000, tzinfo=UTC)

CONVERSION_COLUMNS = [
    {"Name": "tweet_id", "Type": "string"},
    {"Name": "like_count", "Type": "bigint"},
    {"Name": "hashtags", "Type": "array<string>"},
]

# Ok unless the data says otherwise; "missing" makes it leave a record out of its response.
TRANSFORMER = """
import base64, json, os

def lambda_handler(event, context):
    with open(os.environ["CALLS_PATH"], "a") as calls:
        calls.write(json.dumps(event) + "\\n")
    if os.environ.get("MODE") == "error":
        raise RuntimeError("transformer broke")
    out = []
    for record in event["records"]:
        data = base64.b64decode(record["data"]).decode()
        if data == "missing":
            continue
        result = {"drop": "Dropped", "fail": "ProcessingFailed"}.get(data, "Ok")
        body = base64.b64encode((data.upper() + "\\n").encode()).decode()
        out.append({"recordId": record["recordId"], "result": result, "data": body})
    return {"records": out}
"""


def test_timestamp_expressions_use_java_datetimeformatter_patterns() -> None:
    """Firehose guide, "Custom prefixes": "Valid values for this namespace are strings that are
    valid Java DateTimeFormatter strings. As an example, in the year 2018, the expression
    !{timestamp:yyyy} evaluates to 2018"; quoted text is literal in DateTimeFormatter."""
    assert format_java_datetime("yyyy", MOMENT) == "2018"
    assert format_java_datetime("yyyy/MM/dd/HH", MOMENT) == "2018/08/27/10"
    assert format_java_datetime("'year='yyyy'/month='MM", MOMENT) == "year=2018/month=08"
    assert format_java_datetime("yy-M-d H:mm:ss.SSS", MOMENT) == "18-8-27 10:30:15.123"
    assert format_java_datetime("MMM EEE 'it''s'", MOMENT) == "Aug Mon it's"


def test_prefix_expressions_and_defaults() -> None:
    """Firehose guide, "Custom prefixes": a custom prefix "will override the default prefix of
    yyyy/MM/dd/HH"; the firehose namespace has error-output-type (processing-failed for a
    transformation failure) and random-string (11 characters)."""
    assert evaluate_prefix("", MOMENT) == "2018/08/27/10/"
    assert evaluate_prefix("tweets/", MOMENT) == "tweets/2018/08/27/10/"
    assert (
        evaluate_prefix("tweets/year=!{timestamp:yyyy}/hour=!{timestamp:HH}/", MOMENT)
        == "tweets/year=2018/hour=10/"
    )
    assert (
        evaluate_prefix(
            "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/",
            MOMENT,
            "processing-failed",
        )
        == "errors/processing-failed/year=2018/"
    )
    assert evaluate_prefix("", MOMENT, "processing-failed") == "processing-failed/2018/08/27/10/"
    assert re.fullmatch(
        r"r/[A-Za-z0-9]{11}/2018/08/27/10/", evaluate_prefix("r/!{firehose:random-string}/", MOMENT)
    )


def test_object_name_follows_the_documented_format() -> None:
    """Firehose guide, "Amazon S3 object name format": DeliveryStreamName-DeliveryStreamVersion-
    YYYY-MM-DD-HH-MM-SS-RandomString."""
    name = object_name("my-stream", "1", MOMENT)
    assert re.fullmatch(r"my-stream-1-2018-08-27-10-30-15-[0-9a-f-]{36}", name)


def test_processor_defaults_are_one_megabyte_and_sixty_seconds() -> None:
    """Firehose guide, "Transform source data": "The default Lambda buffering size hint is 1 MB
    ... The default Lambda buffering interval hint is sixty seconds"; the buffering size hint
    "ranges between 0.2 MB and 3MB". NumberOfRetries defaults to three."""
    description = {
        "DeliveryStreamName": "d",
        "DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/d",
        "CreateTimestamp": "2026-11-22T10:00:00+00:00",
        "Source": {"KinesisStreamSourceDescription": {"KinesisStreamARN": "arn:k"}},
        "Destinations": [
            {
                "ExtendedS3DestinationDescription": {
                    "BucketARN": "arn:aws:s3:::b",
                    "ProcessingConfiguration": {
                        "Enabled": True,
                        "Processors": [
                            {
                                "Type": "Lambda",
                                "Parameters": [
                                    {"ParameterName": "LambdaArn", "ParameterValue": "arn:l"}
                                ],
                            }
                        ],
                    },
                }
            }
        ],
    }
    config = DeliveryStreamConfig.from_api(description)
    assert config.processor_buffer_bytes == 1024 * 1024
    assert config.processor_interval_seconds == 60
    assert config.processor_retries == 3
    assert config.buffer_bytes == 5 * 1024 * 1024
    assert config.buffer_interval_seconds == 300

    big = json.loads(json.dumps(description))
    big["Destinations"][0]["ExtendedS3DestinationDescription"]["ProcessingConfiguration"][
        "Processors"
    ][0]["Parameters"].append({"ParameterName": "BufferSizeInMBs", "ParameterValue": "10"})
    assert DeliveryStreamConfig.from_api(big).processor_buffer_bytes == 3 * 1024 * 1024


class Delivery:
    """A stream, a bucket, a transformer and a delivery stream between them, stepped by hand."""

    def __init__(
        self,
        clients: Callable[[str], Any],
        stream_arn: str,
        service: LambdaService,
        state_dir: Path,
        transformer: DeployedFunction | None,
        *,
        size_mb: int = 1,
        interval: int = 60,
        retries: int = 3,
        compression: str = "UNCOMPRESSED",
        parquet: str | None = None,
    ) -> None:
        self.clients = clients
        self.stream_arn = stream_arn
        self.transformer = transformer
        self.bucket = unique("lake")
        self.clock = ManualClock(time.time())
        clients("s3").create_bucket(Bucket=self.bucket)
        destination: dict[str, Any] = {
            "RoleARN": ROLE_ARN,
            "BucketARN": f"arn:aws:s3:::{self.bucket}",
            "Prefix": "tweets/year=!{timestamp:yyyy}/month=!{timestamp:MM}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/",
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval},
            "CompressionFormat": compression,
        }
        if transformer is not None:
            destination["ProcessingConfiguration"] = {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": transformer.arn},
                            {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
                            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
                            {
                                "ParameterName": "BufferIntervalInSeconds",
                                "ParameterValue": str(interval),
                            },
                        ],
                    }
                ],
            }
        if parquet is not None:
            self.database = unique("lake").replace("-", "_")
            glue = clients("glue")
            glue.create_database(DatabaseInput={"Name": self.database})
            glue.create_table(
                DatabaseName=self.database,
                TableInput={
                    "Name": "tweets",
                    "StorageDescriptor": {"Columns": CONVERSION_COLUMNS},
                },
            )
            destination["DataFormatConversionConfiguration"] = {
                "Enabled": True,
                "SchemaConfiguration": {
                    "RoleARN": ROLE_ARN,
                    "DatabaseName": self.database,
                    "TableName": "tweets",
                    "Region": "us-east-1",
                    "VersionId": "LATEST",
                },
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {
                    "Serializer": {"ParquetSerDe": {"Compression": parquet}}
                },
            }
        self.name = unique("delivery")
        clients("firehose").create_delivery_stream(
            DeliveryStreamName=self.name,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE_ARN},
            ExtendedS3DestinationConfiguration=destination,
        )
        self.stream = FirehoseDeliveryStream(
            describe_delivery_stream(clients("firehose"), self.name),
            service,
            clients,
            state_dir=state_dir,
            clock=self.clock,
        )
        self.stream.open()

    def put(self, *datas: str | bytes) -> None:
        put_records(
            self.clients, self.stream_arn, [d.encode() if isinstance(d, str) else d for d in datas]
        )

    def put_keyed(self, *records: tuple[str, bytes]) -> None:
        """Put (partition key, data) records in order, as a KPL producer does."""
        kinesis = self.clients("kinesis")
        kinesis.put_records(
            StreamARN=self.stream_arn,
            Records=[{"PartitionKey": key, "Data": data} for key, data in records],
        )

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        s3 = self.clients("s3")
        listing = s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
        return {
            item["Key"]: s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
            for item in listing
        }


@pytest.fixture
def delivery(
    clients: Callable[[str], Any],
    deploy: Callable[..., DeployedFunction],
    make_stream: Callable[..., str],
    lambda_service: LambdaService,
    tmp_path: Path,
) -> Callable[..., Delivery]:
    def build(mode: str = "ok", processor: bool = True, **settings: Any) -> Delivery:
        transformer = None
        if processor:
            transformer = deploy(TRANSFORMER, environment={"MODE": mode})
            lambda_service.register(transformer.name, transformer.zip_path)
        return Delivery(
            clients, make_stream(), lambda_service, tmp_path / "state", transformer, **settings
        )

    return build


def test_processor_event_has_the_documented_shape(delivery: Callable[..., Delivery]) -> None:
    """Firehose guide, data transformation with a Kinesis source: the event carries
    invocationId, deliveryStreamArn, sourceKinesisStreamArn, region and records[] with
    recordId, approximateArrivalTimestamp, data (base64) and kinesisRecordMetadata{shardId,
    partitionKey, approximateArrivalTimestamp, sequenceNumber, subsequenceNumber}."""
    d = delivery()
    d.put("hello")
    d.stream.flush()

    assert d.transformer is not None
    [event] = d.transformer.calls()
    assert event["invocationId"]
    assert event["deliveryStreamArn"].endswith(f":deliverystream/{d.name}")
    assert event["sourceKinesisStreamArn"] == d.stream_arn
    assert event["region"] == "us-east-1"
    [record] = event["records"]
    assert record["recordId"]
    assert base64.b64decode(record["data"]) == b"hello"
    assert abs(record["approximateArrivalTimestamp"] / 1000 - time.time()) < 300
    metadata = record["kinesisRecordMetadata"]
    assert metadata["shardId"] == "shardId-000000000000"
    assert metadata["partitionKey"] == "pk"
    assert metadata["sequenceNumber"]
    assert metadata["approximateArrivalTimestamp"] == record["approximateArrivalTimestamp"]
    assert "subsequenceNumber" in metadata


def test_results_ok_delivered_dropped_not_and_failures_go_to_the_error_prefix(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Required parameters for data transformation": result Ok (delivered),
    Dropped ("dropped intentionally"), ProcessingFailed ("could not be transformed");
    "Handle failure in data transformation": unsuccessfully processed records are delivered to
    the processing-failed folder with attemptsMade, arrivalTimestamp, errorCode, errorMessage,
    attemptEndingTimestamp, rawData and lambdaArn. Ok data is concatenated as returned."""
    d = delivery()
    d.put("one", "drop", "fail", "two")
    d.stream.flush()

    delivered = d.objects("tweets/")
    [(key, body)] = delivered.items()
    year = datetime.now(UTC).strftime("%Y")
    assert re.fullmatch(
        rf"tweets/year={year}/month=\d\d/{d.name}-1-\d{{4}}(-\d\d){{5}}-[0-9a-f-]{{36}}", key
    )
    assert body == b"ONE\nTWO\n"
    [(error_key, error_body)] = d.objects("errors/").items()
    assert error_key.startswith(f"errors/processing-failed/year={year}/{d.name}-1-")
    [error] = [json.loads(line) for line in error_body.decode().splitlines()]
    assert base64.b64decode(error["rawData"]) == b"fail"
    assert error["attemptsMade"] == 1
    assert error["errorCode"]
    assert error["errorMessage"]
    assert d.transformer is not None
    assert error["lambdaArn"] == d.transformer.arn
    assert error["arrivalTimestamp"] <= error["attemptEndingTimestamp"]
    assert d.stream.stats.records_dropped == 1
    assert d.stream.stats.records_delivered == 2


def test_missing_record_id_fails_the_whole_batch(delivery: Callable[..., Delivery]) -> None:
    """Firehose guide: "The transformed record must contain the same record ID. Any mismatch
    between the ID of the original record and the ID of the transformed record is treated as a
    data transformation failure" - the whole batch goes to processing-failed."""
    d = delivery()
    d.put("one", "missing")
    d.stream.flush()

    assert d.objects("tweets/") == {}
    [(_, body)] = d.objects("errors/processing-failed/").items()
    errors = [json.loads(line) for line in body.decode().splitlines()]
    assert sorted(base64.b64decode(e["rawData"]) for e in errors) == [b"missing", b"one"]
    assert {e["errorCode"] for e in errors} == {"Lambda.MissingRecordId"}


def test_function_error_is_retried_then_the_batch_is_processing_failed(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Handle failure in data transformation": "If your Lambda function
    invocation fails ... Amazon Data Firehose retries the invocation three times by default. If
    the invocation does not succeed, Amazon Data Firehose then skips that batch of records. The
    skipped records are treated as unsuccessfully processed records." NumberOfRetries overrides
    the count."""
    d = delivery(mode="error", retries=1)
    d.put("one", "two")
    d.stream.flush()

    assert d.transformer is not None
    assert len(d.transformer.calls()) == 2
    [(_, body)] = d.objects("errors/processing-failed/").items()
    errors = [json.loads(line) for line in body.decode().splitlines()]
    assert [base64.b64decode(e["rawData"]) for e in errors] == [b"one", b"two"]
    assert {e["attemptsMade"] for e in errors} == {2}
    assert d.objects("tweets/") == {}


def test_buffers_hold_data_until_the_interval_elapses(delivery: Callable[..., Delivery]) -> None:
    """Firehose guide, "Configure buffering hints": "Firehose buffers incoming streaming data to
    a certain size and for a certain period of time before delivering it"; the processor is
    invoked per buffered batch (BufferIntervalInSeconds) and the destination object is written
    when IntervalInSeconds elapses, whichever of size or time comes first."""
    d = delivery(interval=60)
    d.put("one")

    d.stream.poll_once()
    d.clock.advance(59)
    d.stream.poll_once()
    assert d.transformer is not None
    assert d.transformer.calls() == []

    d.clock.advance(1)
    d.stream.poll_once()
    assert len(d.transformer.calls()) == 1
    assert d.objects("tweets/") == {}

    d.clock.advance(60)
    d.stream.poll_once()
    assert list(d.objects("tweets/").values()) == [b"ONE\n"]


def test_size_hint_flushes_before_the_interval(delivery: Callable[..., Delivery]) -> None:
    """Firehose guide, buffering hints: delivery happens when the size hint is reached even if
    the interval has not elapsed; the processor buffer (1 MB here) splits invocations."""
    d = delivery(processor=False, size_mb=1, interval=900)
    chunk = b"x" * 100_000
    d.put(*[chunk] * 11)

    d.stream.poll_once()

    [(_, body)] = d.objects("tweets/").items()
    assert body == chunk * 11


def test_processor_batches_respect_the_processor_buffer_size(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide: Firehose "invokes the specified Lambda function synchronously with each
    buffered batch" of at most BufferSizeInMBs (1 MB here)."""
    d = delivery(interval=900)
    d.put(*[letter * 300_000 for letter in "abcde"])

    d.stream.poll_once()

    assert d.transformer is not None
    sizes = [len(call["records"]) for call in d.transformer.calls()]
    assert sizes == [3]
    d.stream.flush()
    sizes = [len(call["records"]) for call in d.transformer.calls()]
    assert sizes == [3, 2]
    [(_, body)] = d.objects("tweets/").items()
    assert body == b"".join(letter.upper().encode() * 300_000 + b"\n" for letter in "abcde")


def test_without_a_processor_records_are_delivered_as_is(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide: without data transformation, records are delivered as they are; Firehose
    "concatenates" records without adding delimiters."""
    d = delivery(processor=False)
    d.put("a", "b", "c")
    d.stream.flush()

    assert list(d.objects("tweets/").values()) == [b"abc"]


def test_gzip_compression_compresses_objects_and_adds_the_extension(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Amazon S3 object name format": Firehose "adds a file extension" for the
    compression format (.gz for GZIP) when it compresses the objects it delivers."""
    d = delivery(processor=False, compression="GZIP")
    d.put("a", "b")
    d.stream.flush()

    [(key, body)] = d.objects("tweets/").items()
    assert key.endswith(".gz")
    assert gzip.decompress(body) == b"ab"


def test_checkpoint_resumes_after_restart_without_duplicates(
    delivery: Callable[..., Delivery],
    clients: Callable[[str], Any],
    tmp_path: Path,
    lambda_service: LambdaService,
) -> None:
    """A restarted Firehose reader resumes from its checkpoint: what was written is not written
    again, what was only buffered is delivered after the restart."""
    d = delivery(processor=False)
    d.put("a")
    d.stream.flush()
    d.put("b")
    d.stream.poll_once()

    restarted = FirehoseDeliveryStream(
        describe_delivery_stream(clients("firehose"), d.name),
        lambda_service,
        clients,
        state_dir=tmp_path / "state",
        clock=d.clock,
    )
    restarted.open()
    restarted.flush()

    assert sorted(d.objects("tweets/").values()) == [b"a", b"b"]


def test_kpl_aggregates_reach_the_processor_as_their_user_records(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Understand data delivery in Amazon Data Firehose": with a Kinesis data
    stream source, "If you configure your Firehose stream to transform the data, Amazon Data
    Firehose de-aggregates the records before it delivers them to AWS Lambda"
    (https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html). Each user record is a
    record of the event, with its own partition key and its index in the aggregate as
    kinesisRecordMetadata.subsequenceNumber; a plain record passes as it is."""
    d = delivery()
    d.put_keyed(
        aggregate([("k1", b"one"), ("k2", b"two"), ("k3", b"three")]),
        ("plain", b"four"),
    )
    d.stream.flush()

    assert d.transformer is not None
    records = [record for call in d.transformer.calls() for record in call["records"]]
    seen = [
        (
            base64.b64decode(record["data"]),
            record["kinesisRecordMetadata"]["partitionKey"],
            record["kinesisRecordMetadata"]["subsequenceNumber"],
        )
        for record in records
    ]
    assert seen == [
        (b"one", "k1", 0),
        (b"two", "k2", 1),
        (b"three", "k3", 2),
        (b"four", "plain", 0),
    ]
    sequences = [record["kinesisRecordMetadata"]["sequenceNumber"] for record in records]
    assert sequences[0] == sequences[1] == sequences[2] != sequences[3]
    assert len({record["recordId"] for record in records}) == 4
    assert list(d.objects("tweets/").values()) == [b"ONE\nTWO\nTHREE\nFOUR\n"]
    assert d.stream.stats.aggregates_read == 1


def test_an_aggregate_failing_its_md5_check_is_one_record(
    delivery: Callable[..., Delivery],
) -> None:
    """The KPL aggregated format ends in the MD5 digest of its body; AWS's deaggregation module
    reads a record whose digest does not match as a plain record, so the processor gets the
    whole record (and the processor decides: this test's one fails on bytes that are not text,
    so the record ends under errors/ with its raw data)."""
    d = delivery()
    _, aggregated = aggregate([("k1", b"one"), ("k2", b"two")])
    d.put_keyed(("k1", corrupt(aggregated)))
    d.stream.flush()

    assert d.transformer is not None
    [record] = d.transformer.calls()[0]["records"]
    assert base64.b64decode(record["data"]) == corrupt(aggregated)
    assert record["kinesisRecordMetadata"]["subsequenceNumber"] == 0
    [(_, body)] = d.objects("errors/processing-failed/").items()
    [error] = [json.loads(line) for line in body.decode().splitlines()]
    assert base64.b64decode(error["rawData"]) == corrupt(aggregated)
    assert d.stream.stats.aggregates_read == 0


def test_parquet_conversion_writes_the_glue_tables_columns(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Convert input data format in Amazon Data Firehose"
    (https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html): the OpenX
    JSON SerDe reads the JSON records (several objects may share one record), the schema is the
    Glue table's, the Parquet SerDe writes them with its compression; keys match columns
    case-insensitively, missing keys are nulls, keys without a column are ignored."""
    d = delivery(processor=False, parquet="SNAPPY")
    d.put(
        '{"tweet_id": "1", "like_count": 3, "hashtags": ["a", "b"], "extra": true}',
        '{"TWEET_ID": "2", "like_count": "4"}{"tweet_id": "3", "hashtags": []}',
    )
    d.stream.flush()

    [(key, body)] = d.objects("tweets/").items()
    assert body[:4] == body[-4:] == b"PAR1"
    assert not key.endswith(".gz")
    parquet = pq.ParquetFile(pa_buffer(body))
    assert parquet.schema_arrow.names == ["tweet_id", "like_count", "hashtags"]
    assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert parquet.read().to_pylist() == [
        {"tweet_id": "1", "like_count": 3, "hashtags": ["a", "b"]},
        {"tweet_id": "2", "like_count": 4, "hashtags": None},
        {"tweet_id": "3", "like_count": None, "hashtags": []},
    ]
    assert d.objects("errors/") == {}


def test_records_that_do_not_convert_go_to_format_conversion_failed(
    delivery: Callable[..., Delivery],
) -> None:
    """Firehose guide, "Handling errors for data format conversion"
    (https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html):
    a record Firehose cannot deserialize is written under the error prefix, as a JSON document
    with attemptsMade, arrivalTimestamp, lastErrorCode, lastErrorMessage,
    attemptEndingTimestamp, rawData, sequenceNumber, subSequenceNumber and dataCatalogTable;
    the records that convert are delivered."""
    d = delivery(processor=False, parquet="GZIP")
    d.put('{"tweet_id": "1", "like_count": 3}', "not json", '{"tweet_id": "2", "like_count": "x"}')
    d.stream.flush()

    [(_, body)] = d.objects("tweets/").items()
    assert pq.ParquetFile(pa_buffer(body)).read().column("tweet_id").to_pylist() == ["1"]
    [(error_key, error_body)] = d.objects("errors/").items()
    assert error_key.startswith("errors/format-conversion-failed/")
    errors = [json.loads(line) for line in error_body.decode().splitlines()]
    assert [base64.b64decode(error["rawData"]) for error in errors] == [
        b"not json",
        b'{"tweet_id": "2", "like_count": "x"}',
    ]
    for error in errors:
        assert set(error) == {
            "attemptsMade",
            "arrivalTimestamp",
            "lastErrorCode",
            "lastErrorMessage",
            "attemptEndingTimestamp",
            "rawData",
            "sequenceNumber",
            "subSequenceNumber",
            "dataCatalogTable",
        }
        assert error["dataCatalogTable"]["databaseName"] == d.database
        assert error["dataCatalogTable"]["tableName"] == "tweets"
    assert "like_count" in errors[1]["lastErrorMessage"]


def pa_buffer(body: bytes) -> pa.BufferReader:
    return pa.BufferReader(body)
