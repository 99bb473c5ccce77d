"""The composed runtime: schedule -> producer -> stream -> consumer and Firehose -> lake."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.runtime.conftest import ROLE_ARN, EmulatorHandle, unique, zip_source

from local_aws.clock import ManualClock
from local_aws.runtime import LocalRuntime

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PRODUCER = """
import json, os, boto3

def lambda_handler(event, context):
    kinesis = boto3.client("kinesis")
    records = [{"Data": json.dumps({"n": i}).encode(), "PartitionKey": str(i)}
               for i in range(int(os.environ["COUNT"]))]
    for start in range(0, len(records), 500):
        chunk = records[start:start + 500]
        kinesis.put_records(StreamName=os.environ["STREAM_NAME"], Records=chunk)
    return {"produced": len(records)}
"""

CONSUMER = """
def lambda_handler(event, context):
    return {"batchItemFailures": []}
"""

TRANSFORMER = """
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
"""


def wait_for(condition: Callable[[], bool], runtime: LocalRuntime, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met before the deadline: {runtime.stats()}")
        time.sleep(0.05)


def deploy_stack(clients: Callable[[str], Any], build_dir: Path, count: int) -> dict[str, Any]:
    """A miniature of the Terraform stack, deployed with boto3."""
    build_dir.mkdir()
    kinesis, lambda_client = clients("kinesis"), clients("lambda")
    stream = unique("tweets")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    names: dict[str, str] = {}
    arns: dict[str, str] = {}
    for output, zip_name, source in (
        ("producer_function_name", "producer.zip", PRODUCER),
        ("consumer_function_name", "consumer.zip", CONSUMER),
        ("transformer_function_name", "firehose_transformer.zip", TRANSFORMER),
    ):
        body = zip_source(source)
        (build_dir / zip_name).write_bytes(body)
        name = unique(zip_name.removesuffix(".zip").replace("_", "-"))
        arns[output] = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE_ARN,
            Handler="app.lambda_handler",
            Code={"ZipFile": body},
            Timeout=30,
            Environment={"Variables": {"STREAM_NAME": stream, "COUNT": str(count)}},
        )["FunctionArn"]
        names[output] = name
    lambda_client.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=names["consumer_function_name"],
        StartingPosition="LATEST",
        BatchSize=500,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    bucket = unique("lake")
    clients("s3").create_bucket(Bucket=bucket)
    delivery = unique("delivery")
    clients("firehose").create_delivery_stream(
        DeliveryStreamName=delivery,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE_ARN},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE_ARN,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "tweets/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {
                                "ParameterName": "LambdaArn",
                                "ParameterValue": arns["transformer_function_name"],
                            },
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
                        ],
                    }
                ],
            },
        },
    )
    events = clients("events")
    rule = unique("schedule")
    events.put_rule(Name=rule, ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule=rule, Targets=[{"Id": "producer", "Arn": arns["producer_function_name"]}]
    )
    return {
        **names,
        "stream_name": stream,
        "stream_arn": stream_arn,
        "delivery_stream_name": delivery,
        "lake_bucket": bucket,
    }


def test_the_schedule_drives_records_through_consumer_and_firehose(
    clients: Callable[[str], Any], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """End to end on a manual clock: a daily schedule fires once and the producer puts 1,200
    records; the event source mapping delivers them all to the consumer, Firehose writes them
    all to the lake after its buffer intervals, and stopping the runtime leaves no worker
    process behind."""
    count = 1200
    outputs = deploy_stack(clients, tmp_path / "build", count)
    clock = ManualClock(time.time())

    with LocalRuntime(
        {k: {"value": v} for k, v in outputs.items()},
        emulator.endpoint,
        tmp_path / "build",
        tmp_path / "state",
        clock=clock,
    ) as runtime:
        clock.advance(86400)
        wait_for(lambda: runtime.stats()["consumed"] == count, runtime)
        clock.advance(60)
        wait_for(
            lambda: (
                runtime.stats()["functions"][outputs["transformer_function_name"]]["invocations"]
                > 0
            ),
            runtime,
        )
        clock.advance(60)
        wait_for(lambda: runtime.stats()["delivered"] == count, runtime)
        stats = runtime.stats()
        assert runtime.lambda_service is not None
        pids = runtime.lambda_service.worker_pids()

    assert stats["produced"] == count
    assert stats["scheduled_events"] == 1
    assert stats["consumer_discarded"] == 0
    assert set(stats["iterator_lag_ms"]["consumer"]) == {
        "shardId-000000000000",
        "shardId-000000000001",
    }
    assert stats["functions"][outputs["producer_function_name"]]["invocations"] == 1
    lake = clients("s3").list_objects_v2(Bucket=outputs["lake_bucket"], Prefix="tweets/")
    body = b"".join(
        clients("s3").get_object(Bucket=outputs["lake_bucket"], Key=o["Key"])["Body"].read()
        for o in lake["Contents"]
    )
    assert body.count(b'{"n": ') == count
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
