"""The readers behind the dashboard and alarm test: EMF as Powertools prints it, the dashboard
body's metrics arrays, and the documented AWS metrics."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from tests.terraform.metric_sources import (
    MetricReference,
    alarm_metrics,
    dashboard_metrics,
    emitted_metrics,
    undocumented,
)


def test_emitted_metrics_read_powertools_emf(capsys: pytest.CaptureFixture[str]) -> None:
    with single_metric(
        name="RecordsIn", unit=MetricUnit.Count, value=3, namespace="trendstream/dev"
    ) as metric:
        metric.add_dimension(name="service", value="consumer")

    printed = capsys.readouterr().out

    assert emitted_metrics(printed) == {
        ("trendstream/dev", "RecordsIn", frozenset({("service", "consumer")}))
    }


def test_dashboard_lines_repeat_items_with_a_dot_and_skip_expressions() -> None:
    """CloudWatch API Reference, "Dashboard Body Structure and Syntax", metrics array: "." in a
    position repeats the previous line's value there; a line of only an object is an expression.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
    """
    body = {
        "widgets": [
            {"type": "text", "properties": {"markdown": "# notes"}},
            {
                "type": "metric",
                "properties": {
                    "title": "lag",
                    "metrics": [
                        ["AWS/Lambda", "IteratorAge", "FunctionName", "f", {"stat": "Maximum"}],
                        [".", "Errors", ".", "."],
                        [{"expression": "m1 / m2", "label": "ratio"}],
                    ],
                },
            },
        ]
    }

    references = list(dashboard_metrics("d", body))

    assert [(r.namespace, r.name, r.dimensions) for r in references] == [
        ("AWS/Lambda", "IteratorAge", frozenset({("FunctionName", "f")})),
        ("AWS/Lambda", "Errors", frozenset({("FunctionName", "f")})),
    ]


def test_alarm_metrics_read_single_and_metric_math_alarms() -> None:
    alarms = [
        {
            "AlarmName": "a",
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "q"}],
        },
        {
            "AlarmName": "b",
            "Metrics": [
                {"Id": "e", "Expression": "m - 1"},
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Kinesis",
                            "MetricName": "GetRecords.Records",
                            "Dimensions": [{"Name": "StreamName", "Value": "s"}],
                        }
                    },
                },
            ],
        },
    ]

    assert [(r.where, r.name) for r in alarm_metrics(alarms)] == [
        ("alarm a", "ApproximateNumberOfMessagesVisible"),
        ("alarm b", "GetRecords.Records"),
    ]


@pytest.mark.parametrize(
    ("namespace", "name", "dimensions", "problem"),
    [
        ("AWS/Firehose", "DataReadFromKinesisStream.Records", {"DeliveryStreamName"}, None),
        ("AWS/Firehose", "IncomingRecords", {"DeliveryStreamName"}, "is not published"),
        ("AWS/Lambda", "Errors", {"FunctionName", "Stage"}, "is published with"),
        ("AWS/EC2", "CPUUtilization", {"InstanceId"}, "no source of this stack"),
    ],
)
def test_only_documented_aws_metrics_of_this_stacks_sources_pass(
    namespace: str, name: str, dimensions: set[str], problem: str | None
) -> None:
    reference = MetricReference(
        namespace, name, frozenset((dimension, "x") for dimension in dimensions), "here"
    )

    found = undocumented(reference)

    assert found is None if problem is None else problem in (found or "")
