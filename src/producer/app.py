"""Producer Lambda: EventBridge schedule -> X API v2 (or the replay dataset) -> Kinesis.

Packaged with this file at the zip root, next to the `producer` and `tweet_record` packages, so
imports here are absolute. The handler is one call; the work is in plain modules.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from function_support.tracing import lambda_tracer
from producer.run import RunSummary
from producer.service import produce

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
# AWS calls (boto3) and the X API (requests, under tweepy) are what the producer waits on.
tracer = lambda_tracer(patch_modules=("boto3", "requests"))
metrics = Metrics()
# The plain modules log to stdlib loggers under "producer": register that package logger so its
# records get the same JSON handler (a no-op when the service itself is named "producer").
copy_config_to_registered_loggers(
    source_logger=logger, include={logging.getLogger("producer").name}
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = produce(context.get_remaining_time_in_millis)
    record_metrics(summary)
    logger.info("Producer run finished", extra={"summary": summary.as_dict()})
    return summary.as_dict()


def record_metrics(summary: RunSummary) -> None:
    """One datapoint per metric and run: the alarms count runs (see terraform/modules/alarms)."""
    if summary.credentials_not_set:
        # No TweetsFetched: a stack waiting for its credentials is not an idle producer.
        metrics.add_metric(name="CredentialsNotSet", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="TweetsFetched", unit=MetricUnit.Count, value=summary.tweets_fetched)
    metrics.add_metric(name="FetchesFailed", unit=MetricUnit.Count, value=summary.fetches_failed)
    metrics.add_metric(
        name="AllFetchesFailed", unit=MetricUnit.Count, value=int(summary.all_fetches_failed)
    )
    metrics.add_metric(name="RecordsPut", unit=MetricUnit.Count, value=summary.records_put)
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=summary.records_retried)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=summary.records_failed)
    metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=summary.rate_limited)
    if summary.records_failed:
        logger.error("Records were not delivered", extra={"errors": summary.errors})
    if summary.all_fetches_failed:
        logger.error("Every X API fetch of this run failed", extra={"errors": summary.errors})
