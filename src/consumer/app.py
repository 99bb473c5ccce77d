"""Consumer Lambda: Kinesis event source → DynamoDB EventData (tweets + per-minute stats).

Per record (cheap, in the Powertools record handler): base64 → parse/validate; a record that can
never succeed is quarantined to S3 and not reported as failed. Per batch (in bulk): sentiment
for version 1 records only (version 2 records carry the producer's label), then a conditional
put of each tweet item and one conditional update per (topic, minute, shard) that counts the new
tweets exactly once (``consumer.writes``); records whose writes ultimately fail are reported in
``batchItemFailures``. Cost figures: docs/capacity.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from consumer.processor import BulkStoreProcessor
from consumer.quarantine import KinesisRecordMeta, Quarantine, shard_of
from consumer.store import StagedTweet, TweetStore
from consumer.writes import WRITE_WORKERS
from function_support.clients import BOTOCORE_POOL_CONNECTIONS, client_config
from function_support.gc_tuning import collect_less_often
from function_support.tracing import lambda_tracer
from tweet_record.items import topic_key_parts_from_env, ttl_days_from_env
from tweet_record.parse import ParsedTweet, RecordRejectedError, decode_base64, parse_stream_record
from tweet_record.sentiment import engine_from_env

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

RECORD_KEYS = ("sequence_number", "tweet_id")

collect_less_often()
logger = Logger()
tracer = lambda_tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "trendstream"))


def _client_config(pool_connections: int = BOTOCORE_POOL_CONNECTIONS) -> Config:
    # boto3 is imported when the first client is built (first invocation), keeping the handler
    # import within its 200 ms budget. The cost moves to the first batch; it does not vanish.
    # No client-side parameter validation: every request is built by `tweet_record.items` and
    # `consumer.writes` in shapes the tests check against the service model, DynamoDB validates
    # them again anyway, and re-walking every item per call was a third of the function's CPU.
    return client_config(
        connect_timeout=2, read_timeout=10, validate=False, pool_connections=pool_connections
    )


@cache
def dynamodb() -> DynamoDBClient:
    import boto3  # noqa: PLC0415

    # The writes run on WRITE_WORKERS threads: a connection each.
    return boto3.client("dynamodb", config=_client_config(WRITE_WORKERS))


@cache
def s3() -> S3Client:
    import boto3  # noqa: PLC0415

    return boto3.client("s3", config=_client_config())


@dataclass
class Runtime:
    store: TweetStore
    quarantine: Quarantine


@cache
def runtime() -> Runtime:
    """Built on the first invocation, from the function's environment."""
    return Runtime(
        store=TweetStore(
            client_factory=dynamodb,
            table_name=os.environ["TABLE_NAME"],
            ttl_days=ttl_days_from_env(),
            key_parts=topic_key_parts_from_env(),
            engine=engine_from_env(),
        ),
        quarantine=Quarantine(client_factory=s3, bucket=os.environ["LAKE_BUCKET"]),
    )


@dataclass
class BatchFigures:
    quarantined: int = 0


figures = BatchFigures()


def raw_record(record: KinesisStreamRecord) -> KinesisRecordMeta:
    kinesis = record.kinesis
    return KinesisRecordMeta(
        data_base64=kinesis.data,
        shard_id=shard_of(record.event_id),
        sequence_number=kinesis.sequence_number,
        partition_key=kinesis.partition_key,
        arrival_epoch=kinesis.approximate_arrival_timestamp,
        event_source_arn=record.event_source_arn,
    )


def record_handler(record: KinesisStreamRecord) -> ParsedTweet | None:
    """Parse one record; quarantine it if it can never be stored (S3 failure → raise)."""
    kinesis = record.kinesis
    try:
        tweet = parse_stream_record(decode_base64(kinesis.data))
    except RecordRejectedError as rejected:
        logger.append_keys(sequence_number=kinesis.sequence_number, tweet_id=None)
        key = runtime().quarantine.put(raw_record(record), rejected)
        figures.quarantined += 1
        logger.warning(
            "record quarantined",
            extra={"reason": str(rejected.reason), "detail": rejected.detail, "s3_key": key},
        )
        return None
    logger.append_keys(sequence_number=kinesis.sequence_number, tweet_id=tweet.tweet_id)
    return tweet


@tracer.capture_method(capture_response=False)
def store_batch(
    records: Sequence[StagedTweet], first_failures: Mapping[str, int]
) -> list[Exception | None]:
    logger.remove_keys(list(RECORD_KEYS))
    report = runtime().store.store(records, first_failures)
    for record, failure in zip(records, report.failures, strict=True):
        if failure is not None:
            logger.warning(
                "tweet not stored; record will be redelivered",
                extra={
                    "tweet_id": record.result.tweet_id,
                    "topic": record.result.topic,
                    "sequence_number": record.sequence_number,
                    "error": str(failure),
                },
            )
    metrics.add_metric(name="TweetsWritten", unit=MetricUnit.Count, value=report.tweets_written)
    metrics.add_metric(
        name="DuplicatesSkipped", unit=MetricUnit.Count, value=report.duplicates_skipped
    )
    metrics.add_metric(name="StatsUpdates", unit=MetricUnit.Count, value=report.stats_updates)
    metrics.add_metric(name="WriteRetries", unit=MetricUnit.Count, value=report.write_retries)
    metrics.add_metric(name="WriteUnits", unit=MetricUnit.Count, value=report.write_units)
    return report.failures


processor = BulkStoreProcessor(bulk_handler=store_batch)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    figures.quarantined = 0
    records = event.get("Records") or []
    metrics.add_metric(name="RecordsIn", unit=MetricUnit.Count, value=len(records))
    # An empty batch is valid (a tumbling window closing with no new records): nothing failed.
    with processor(records, record_handler, context):
        processor.process()
    response = processor.response()
    logger.remove_keys(list(RECORD_KEYS))
    metrics.add_metric(name="RecordsQuarantined", unit=MetricUnit.Count, value=figures.quarantined)
    failed = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=failed)
    logger.info(
        "batch done",
        extra={"records": len(records), "quarantined": figures.quarantined, "failed": failed},
    )
    return dict(response)
