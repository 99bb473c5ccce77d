"""Consumer Lambda: Kinesis event source → DynamoDB EventData (tweets + per-minute stats).

Per record (cheap, in the Powertools record handler): base64 → deaggregate (a KPL aggregate
becomes its user records, ``consumer.deaggregation``) → parse/validate; a record (or user
record) that can never succeed is quarantined to S3 and not reported as failed. Per batch (in
bulk): sentiment for version 1 records only (version 2 records carry the producer's label),
then a conditional put of each tweet item and one conditional update per (topic, minute, shard)
that counts the new tweets exactly once (``consumer.writes``); records whose writes ultimately
fail are reported in ``batchItemFailures``. The handler is Powertools'
``process_partial_response``; the bulk step runs inside the processor (``consumer.processor``).
Cost figures: docs/capacity.md.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from consumer.config import ConsumerConfig
from consumer.deaggregation import UserRecord, is_aggregated, user_records
from consumer.processor import BatchSummary, BulkStoreProcessor, Deaggregated
from consumer.quarantine import KinesisRecordMeta, Quarantine, shard_of
from consumer.store import StagedTweet, TweetStore
from consumer.writes import WRITE_WORKERS
from function_support.clients import Timeouts, new_client
from function_support.gc_tuning import collect_less_often
from function_support.tracing import lambda_tracer
from tweet_record.parse import ParsedTweet, RecordRejectedError, decode_base64, parse_stream_record
from tweet_record.sentiment import get_engine

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

RECORD_KEYS = ("sequence_number", "tweet_id")
# No client-side parameter validation in either client: every request is built by
# `tweet_record.items`, `consumer.writes` and `consumer.quarantine` in shapes the tests check
# against the service model, the service validates them again anyway, and re-walking every item
# per call was a third of the function's CPU.
CLIENT_TIMEOUTS = Timeouts(connect=2, read=10)
"""Every AWS call of the consumer (a test holds it against the function's timeout)."""

collect_less_often()
logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


@cache
def dynamodb() -> DynamoDBClient:
    # The writes run on WRITE_WORKERS threads: a connection each.
    return new_client("dynamodb", CLIENT_TIMEOUTS, validate=False, pool_connections=WRITE_WORKERS)


@cache
def s3() -> S3Client:
    return new_client("s3", CLIENT_TIMEOUTS, validate=False)


@dataclass(frozen=True)
class Runtime:
    store: TweetStore
    quarantine: Quarantine


@cache
def runtime() -> Runtime:
    """Built on the first invocation, from the function's configuration, read once."""
    config = ConsumerConfig.from_environ()
    return Runtime(
        store=TweetStore(
            client_factory=dynamodb,
            table_name=config.table_name,
            ttl_days=config.ttl_days,
            engine=get_engine(config.sentiment_engine),
            key_parts=config.hot_topic_key_parts,
        ),
        quarantine=Quarantine(client_factory=s3, bucket=config.lake_bucket),
    )


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


def quarantine(record: KinesisRecordMeta, rejected: RecordRejectedError) -> None:
    """Keep a record that can never be stored, with its reason (S3 failure → raise)."""
    logger.append_keys(sequence_number=record.sequence_number, tweet_id=None)
    key = runtime().quarantine.put(record, rejected)
    logger.warning(
        "record quarantined",
        extra={
            "reason": str(rejected.reason),
            "detail": rejected.detail,
            "sub_sequence_number": record.subsequence,
            "s3_key": key,
        },
    )


def record_handler(record: KinesisStreamRecord) -> ParsedTweet | Deaggregated[ParsedTweet] | None:
    """Parse one record, or each user record of a KPL aggregate; quarantine what can never be
    stored (a corrupt aggregate whole, a poison user record alone)."""
    kinesis = record.kinesis
    try:
        data = decode_base64(kinesis.data)
        if is_aggregated(data):
            return parse_user_records(
                record, user_records(kinesis.data, data, kinesis.sequence_number)
            )
        tweet = parse_stream_record(data)
    except RecordRejectedError as rejected:
        quarantine(raw_record(record), rejected)
        return None
    logger.append_keys(sequence_number=kinesis.sequence_number, tweet_id=tweet.tweet_id)
    return tweet


def parse_user_records(
    record: KinesisStreamRecord, users: Sequence[UserRecord]
) -> Deaggregated[ParsedTweet]:
    """Each user record parsed, or quarantined alone under its sub-sequence number."""
    parsed: list[tuple[int, ParsedTweet]] = []
    for user in users:
        try:
            parsed.append((user.subsequence, parse_stream_record(user.data)))
        except RecordRejectedError as rejected:
            user_meta = replace(
                raw_record(record),
                data_base64=b64encode(user.data).decode("ascii"),
                partition_key=user.partition_key,
                subsequence=user.subsequence,
            )
            quarantine(user_meta, rejected)
    logger.append_keys(sequence_number=record.kinesis.sequence_number, tweet_id=None)
    return Deaggregated(tuple(parsed), quarantined=len(users) - len(parsed))


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


def report_batch(summary: BatchSummary) -> None:
    logger.remove_keys(list(RECORD_KEYS))
    metrics.add_metric(name="RecordsIn", unit=MetricUnit.Count, value=summary.records)
    metrics.add_metric(name="RecordsQuarantined", unit=MetricUnit.Count, value=summary.quarantined)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=summary.failed)
    logger.info(
        "batch done",
        extra={
            "records": summary.records,
            "quarantined": summary.quarantined,
            "failed": summary.failed,
        },
    )


processor = BulkStoreProcessor(bulk_handler=store_batch, report=report_batch)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
