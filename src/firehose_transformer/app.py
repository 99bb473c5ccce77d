"""Firehose transformer Lambda: stream record → one flattened lake line per tweet.

Every ``recordId`` of the event is answered exactly once: ``Ok`` (the lake line), ``Dropped``
(configured filters) or ``ProcessingFailed`` (raw data returned for ``errors/``). Sentiment is the
producer's label (version 2 records); version 1 records are scored with the same engine as the
consumer (``SENTIMENT_ENGINE``) so the lake agrees with the table.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
)

from firehose_transformer.config import TransformerConfig
from firehose_transformer.transform import Transformation, transform
from function_support.gc_tuning import collect_less_often
from function_support.tracing import lambda_tracer
from tweet_record.sentiment import get_engine

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

collect_less_often()
logger = Logger()
tracer = lambda_tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "trendstream"))


@cache
def config() -> TransformerConfig:
    """Read once per execution environment, on the first invocation."""
    return TransformerConfig.from_environ()


def respond(outcome: Transformation) -> dict[str, Any]:
    """Powertools' response classes, plus logs and metrics of what was decided."""
    response = KinesisFirehoseDataTransformationResponse()
    for verdict in outcome.verdicts:
        response.add_record(
            KinesisFirehoseDataTransformationRecord(
                record_id=verdict.record_id, result=verdict.result, data=verdict.data
            )
        )
        if verdict.result == "ProcessingFailed":
            logger.warning(
                "record not transformed",
                extra={"record_id": verdict.record_id, "reason": verdict.reason},
            )
    metrics.add_metric(name="RecordsIn", unit=MetricUnit.Count, value=len(outcome.verdicts))
    metrics.add_metric(name="RecordsOk", unit=MetricUnit.Count, value=outcome.count("Ok"))
    metrics.add_metric(name="RecordsDropped", unit=MetricUnit.Count, value=outcome.count("Dropped"))
    metrics.add_metric(
        name="RecordsFailed", unit=MetricUnit.Count, value=outcome.count("ProcessingFailed")
    )
    if outcome.oversize_fallbacks:
        metrics.add_metric(
            name="OversizeFallbacks", unit=MetricUnit.Count, value=outcome.oversize_fallbacks
        )
    return response.asdict()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = ((r.record_id, r.data) for r in KinesisFirehoseEvent(event).records)
    settings = config()
    return respond(transform(records, get_engine(settings.sentiment_engine), settings.filters))
