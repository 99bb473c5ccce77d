"""What a dashboard or an alarm reads, and where each metric comes from.

A CloudWatch metric is its namespace, its name and its whole set of dimensions (Amazon CloudWatch
concepts, "Metrics" and "Dimensions": each unique combination of dimensions is a separate metric):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html
A widget or an alarm naming anything else reads a metric nobody publishes, and shows or judges
nothing. The functions' own metrics are whatever their Powertools EMF lines declare (the embedded
metric format specification: `_aws.CloudWatchMetrics[]` with `Namespace`, `Dimensions` and
`Metrics`), https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
AWS's metrics are those the services document, below, for the sources this stack has.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Dimensions = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class MetricReference:
    """One metric a widget line or an alarm reads; `where` says which, for the failure message."""

    namespace: str
    name: str
    dimensions: Dimensions
    where: str

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)


@dataclass(frozen=True)
class DocumentedNamespace:
    """An AWS namespace: the metrics its page documents for this stack's kind of source, each
    with the dimension sets it is published with."""

    page: str
    url: str
    metrics: Mapping[str, tuple[frozenset[str], ...]]


def _each(
    names: Iterable[str], *dimension_sets: Iterable[str]
) -> dict[str, tuple[frozenset[str], ...]]:
    sets = tuple(frozenset(dimensions) for dimensions in dimension_sets)
    return dict.fromkeys(names, sets)


AWS_METRICS: dict[str, DocumentedNamespace] = {
    "AWS/Lambda": DocumentedNamespace(
        page="Types of metrics for Lambda functions; Viewing metrics in the CloudWatch console "
        "(dimensions FunctionName, Resource, ExecutedVersion)",
        url="https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
        metrics=_each(
            (
                "Invocations",
                "Errors",
                "DeadLetterErrors",
                "DestinationDeliveryFailures",
                "Throttles",
                "RecursiveInvocationsDropped",
                "Duration",
                "PostRuntimeExtensionsDuration",
                "IteratorAge",
                "ConcurrentExecutions",
                "UnreservedConcurrentExecutions",
                "AsyncEventsReceived",
                "AsyncEventAge",
                "AsyncEventsDropped",
            ),
            {"FunctionName"},
            {"FunctionName", "Resource"},
            {"FunctionName", "ExecutedVersion"},
        ),
    ),
    # Stream-level metrics only: the stack does not enable enhanced (shard-level) monitoring.
    "AWS/Kinesis": DocumentedNamespace(
        page="Monitor the Amazon Kinesis Data Streams service with Amazon CloudWatch, "
        "basic stream-level metrics (dimension StreamName)",
        url="https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html",
        metrics=_each(
            (
                "GetRecords.Bytes",
                "GetRecords.IteratorAgeMilliseconds",
                "GetRecords.Latency",
                "GetRecords.Records",
                "GetRecords.Success",
                "IncomingBytes",
                "IncomingRecords",
                "PutRecords.Bytes",
                "PutRecords.Latency",
                "PutRecords.Success",
                "PutRecords.TotalRecords",
                "PutRecords.SuccessfulRecords",
                "PutRecords.FailedRecords",
                "PutRecords.ThrottledRecords",
                "ReadProvisionedThroughputExceeded",
                "WriteProvisionedThroughputExceeded",
            ),
            {"StreamName"},
        ),
    ),
    # The delivery stream reads a Kinesis data stream, transforms with Lambda and delivers to S3:
    # the "Data ingestion through Kinesis Data Streams", "Delivery to Amazon S3" and "Data
    # transformation" tables. The Direct PUT ingestion metrics (IncomingRecords, IncomingBytes,
    # IncomingPutRequests, ThrottledRecords, the *PerSecondLimit quotas) and the server-side
    # encryption ones (KMSKey*) are about streams that producers put to: none of them is listed.
    "AWS/Firehose": DocumentedNamespace(
        page="Monitor Amazon Data Firehose with CloudWatch metrics (dimension DeliveryStreamName)",
        url="https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html",
        metrics=_each(
            (
                "DataReadFromKinesisStream.Bytes",
                "DataReadFromKinesisStream.Records",
                "KinesisMillisBehindLatest",
                "ThrottledDescribeStream",
                "ThrottledGetRecords",
                "ThrottledGetShardIterator",
                "DeliveryToS3.Bytes",
                "DeliveryToS3.DataFreshness",
                "DeliveryToS3.Records",
                "DeliveryToS3.Success",
                "DeliveryToS3.ObjectCount",
                "ExecuteProcessing.Duration",
                "ExecuteProcessing.Success",
                "SucceedProcessing.Records",
                "SucceedProcessing.Bytes",
            ),
            {"DeliveryStreamName"},
        ),
    ),
    # HTTP APIs (not the REST API's 4XXError/5XXError); per-route dimensions need detailed
    # metrics, which the stage does not enable.
    "AWS/ApiGateway": DocumentedNamespace(
        page="Monitor CloudWatch metrics for HTTP APIs in API Gateway",
        url="https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html",
        metrics=_each(
            ("4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"),
            {"ApiId"},
            {"ApiId", "Stage"},
        ),
    ),
    "AWS/SQS": DocumentedNamespace(
        page="Available CloudWatch metrics for Amazon SQS (dimension QueueName)",
        url="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
        metrics=_each(
            (
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesVisible",
                "NumberOfEmptyReceives",
                "NumberOfMessagesDeleted",
                "NumberOfMessagesReceived",
                "NumberOfMessagesSent",
                "SentMessageSize",
            ),
            {"QueueName"},
        ),
    ),
    # Per table, or per table and operation: the page lists each metric's valid dimensions.
    "AWS/DynamoDB": DocumentedNamespace(
        page="DynamoDB Metrics and dimensions",
        url="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html",
        metrics={
            **_each(
                (
                    "ConsumedReadCapacityUnits",
                    "ConsumedWriteCapacityUnits",
                    "ReadThrottleEvents",
                    "WriteThrottleEvents",
                ),
                {"TableName"},
                {"TableName", "GlobalSecondaryIndexName"},
            ),
            **_each(
                ("ConditionalCheckFailedRequests", "TimeToLiveDeletedItemCount"), {"TableName"}
            ),
            **_each(
                (
                    "ThrottledRequests",
                    "SuccessfulRequestLatency",
                    "SystemErrors",
                    "ReturnedItemCount",
                ),
                {"TableName", "Operation"},
            ),
        },
    ),
    "AWS/Events": DocumentedNamespace(
        page="Monitoring Amazon EventBridge (dimension RuleName)",
        url="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html",
        metrics=_each(
            (
                "Invocations",
                "FailedInvocations",
                "TriggeredRules",
                "MatchedEvents",
                "ThrottledRules",
                "InvocationsSentToDlq",
                "InvocationsFailedToBeSentToDlq",
            ),
            {"RuleName"},
        ),
    ),
}


def emitted_metrics(log_text: str) -> set[tuple[str, str, Dimensions]]:
    """(namespace, metric name, dimensions) of every EMF line in a function's log."""
    metrics: set[tuple[str, str, Dimensions]] = set()
    for line in log_text.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, str(document[name])) for name in dimension_set)
                for metric in directive["Metrics"]:
                    metrics.add((directive["Namespace"], metric["Name"], dimensions))
    return metrics


def dashboard_metrics(dashboard_name: str, body: Mapping[str, Any]) -> Iterator[MetricReference]:
    """Each line of each metric widget: `[namespace, name, dimension, value, ..., {options}]`,
    where "." repeats the previous line's item at that position (CloudWatch's "Dashboard body
    structure and syntax", metrics array)."""
    for widget in body.get("widgets", []):
        if widget.get("type") != "metric":
            continue
        previous: list[Any] = []
        for line in widget["properties"].get("metrics", []):
            items = [item for item in line if not isinstance(item, dict)]
            if not items:
                continue  # a math expression: it reads the lines it names
            items = [
                previous[index] if item == "." and index < len(previous) else item
                for index, item in enumerate(items)
            ]
            previous = items
            namespace, name, *pairs = items
            yield MetricReference(
                namespace,
                name,
                frozenset(zip(pairs[0::2], pairs[1::2], strict=True)),
                f"dashboard {dashboard_name}, widget {widget['properties'].get('title')!r}",
            )


def alarm_metrics(alarms: Iterable[Mapping[str, Any]]) -> Iterator[MetricReference]:
    """The metric of each alarm, or each metric of a metric-math alarm (`DescribeAlarms`)."""
    for alarm in alarms:
        where = f"alarm {alarm['AlarmName']}"
        if "MetricName" in alarm:
            yield MetricReference(
                alarm["Namespace"], alarm["MetricName"], _dimensions(alarm["Dimensions"]), where
            )
        for query in alarm.get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                yield MetricReference(
                    metric["Namespace"],
                    metric["MetricName"],
                    _dimensions(metric.get("Dimensions", [])),
                    where,
                )


def _dimensions(dimensions: Iterable[Mapping[str, str]]) -> Dimensions:
    return frozenset((dimension["Name"], dimension["Value"]) for dimension in dimensions)


def undocumented(reference: MetricReference) -> str | None:
    """Why an AWS metric reference is not one AWS documents for this stack's sources, or None."""
    documented = AWS_METRICS.get(reference.namespace)
    if documented is None:
        return f"{reference.where}: no source of this stack publishes to {reference.namespace}"
    dimension_sets = documented.metrics.get(reference.name)
    if dimension_sets is None:
        return (
            f"{reference.where}: {reference.namespace} {reference.name} is not published for this"
            f" stack's sources ({documented.page}, {documented.url})"
        )
    if reference.dimension_names not in dimension_sets:
        return (
            f"{reference.where}: {reference.namespace} {reference.name} is published with"
            f" {sorted(sorted(s) for s in dimension_sets)}, not {sorted(reference.dimension_names)}"
            f" ({documented.url})"
        )
    return None
