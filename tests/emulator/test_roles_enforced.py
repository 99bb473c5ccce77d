"""The deployed stack runs as its roles: one action taken from a role fails exactly that call.

IAM User Guide, "Policy evaluation logic": a request from a role session is allowed only when
an identity-based policy of the role allows the action on the resource; "AccessDenied" names
both. Lambda Developer Guide, "Defining Lambda function permissions with an execution role":
the function's code gets the execution role's temporary credentials; the Kinesis event source
mapping reads the stream with that role. Firehose Developer Guide, "Controlling access with
Amazon Data Firehose": the delivery stream's role reads the source stream, invokes the
transformation function and writes the destination bucket.

The whole Terraform stack (the real zips, the replay source) is applied once to the emulator;
each test removes one action from one role's policy, runs the local pipeline, and restores it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.clock import ManualClock
from local_aws.eventbridge import scheduled_event
from local_aws.lambda_service import InvocationResult
from local_aws.moto_server import ACCOUNT_ID, REGION, EmulatorHandle
from local_aws.runtime import LocalRuntime
from trendstream_cli import stack

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("roles-stack"),  # its own stack, beside the others
]

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
ENVIRONMENT = "roles"
EVENTS = ROOT / "tests" / "events"
_DENIAL = re.compile(r"AccessDenied: .* is not authorized to perform: (\S+) on resource: (\S+)")


def admin(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def deployed(emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not (BUILD / "producer.zip").is_file():
        pytest.fail("build/*.zip missing: run `make build` (make test does)")
    paths = stack.StackPaths(tmp_path_factory.mktemp("roles-stack"))
    return stack.apply_stack(
        emulator.endpoint,
        paths,
        extra_vars={
            "environment": ENVIRONMENT,
            "alarm_notifications_disabled": "true",
            "tweet_source": "replay",
            "lambda_artifacts_dir": str(BUILD),
        },
    )
    # Not destroyed: its names are its own, and the session's emulator goes with the session.


class Denials:
    """The refusals the emulator logged (one line each, with action and resource) since `mark`."""

    def __init__(self, log: Path) -> None:
        self._log = log
        self._offset = 0

    def mark(self) -> None:
        self._offset = self._log.stat().st_size

    def since_mark(self) -> set[tuple[str, str]]:
        with self._log.open(encoding="utf-8", errors="replace") as log:
            log.seek(self._offset)
            return {match.groups() for match in _DENIAL.finditer(log.read())}


@pytest.fixture
def denials(emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Denials:
    """The session emulator's log (tests/conftest.py keeps it as emulator0/emulator.log)."""
    log = tmp_path_factory.getbasetemp() / "emulator0" / "emulator.log"
    assert log.is_file(), f"no emulator log at {log}"
    recorder = Denials(log)
    recorder.mark()
    return recorder


@contextlib.contextmanager
def without_action(endpoint: str, role: str, action: str) -> Iterator[None]:
    """The role's inline policies minus one action; restored afterwards."""
    iam = admin(endpoint, "iam")
    originals = {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    removed = False
    for name, document in originals.items():
        statements = []
        for statement in document["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            kept = [a for a in actions if a != action]
            removed = removed or len(kept) < len(actions)
            if kept:
                statements.append({**statement, "Action": kept})
        iam.put_role_policy(
            RoleName=role,
            PolicyName=name,
            PolicyDocument=json.dumps({**document, "Statement": statements}),
        )
    assert removed, f"{role} has no {action} to remove"
    try:
        yield
    finally:
        for name, document in originals.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


def denial(action: str, resource: str) -> str:
    return f"is not authorized to perform: {action} on resource: {resource}"


def runtime_for(
    deployed: dict[str, Any], endpoint: str, state: Path, *names: str
) -> tuple[LocalRuntime, ManualClock]:
    """The local runtime over part of the stack (no schedule: tests invoke the producer)."""
    clock = ManualClock(time.time())
    outputs = {name: deployed[name] for name in names}
    return LocalRuntime(outputs, endpoint, BUILD, state, clock=clock), clock


def wait_for(condition: Callable[[], bool], describe: Callable[[], str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(describe())
        time.sleep(0.05)


def tweet_record() -> bytes:
    event = json.loads((EVENTS / "kinesis_tweets.json").read_text(encoding="utf-8"))
    return base64.b64decode(event["Records"][0]["kinesis"]["data"])


def role_name(endpoint: str, function_name: str) -> str:
    configuration = admin(endpoint, "lambda").get_function_configuration(FunctionName=function_name)
    return str(configuration["Role"].rsplit("/", 1)[-1])


def test_producer_without_put_records_is_denied_exactly_that(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    producer = deployed["producer_function_name"]
    runtime, _ = runtime_for(deployed, endpoint, tmp_path, "producer_function_name")
    event = scheduled_event(
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/x", ACCOUNT_ID, REGION, time.time()
    )
    with without_action(endpoint, role_name(endpoint, producer), "kinesis:PutRecords"), runtime:
        assert runtime.lambda_service is not None
        result = runtime.lambda_service.invoke(producer, event)

    assert denials.since_mark() == {("kinesis:PutRecords", deployed["stream_arn"])}
    assert "not delivered to Kinesis: {'AccessDeniedException'" in json.dumps(result.payload)


def test_producer_with_its_whole_role_puts_tweets(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """The same run with the role as Terraform deployed it: nothing is denied."""
    producer = deployed["producer_function_name"]
    runtime, _ = runtime_for(deployed, emulator.endpoint, tmp_path, "producer_function_name")
    event = scheduled_event(
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/x", ACCOUNT_ID, REGION, time.time()
    )
    with runtime:
        assert runtime.lambda_service is not None
        result = runtime.lambda_service.invoke(producer, event)
        log = (tmp_path / "logs" / f"{producer}.log").read_text(encoding="utf-8")

    assert result.function_error is None, result.payload
    assert "AccessDenied" not in log + json.dumps(result.payload)
    assert denials.since_mark() == set()


def test_consumer_without_put_item_is_denied_exactly_that(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    consumer = deployed["consumer_function_name"]
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{deployed['table_name']}"
    runtime, clock = runtime_for(deployed, endpoint, tmp_path, "consumer_function_name")
    log_path = tmp_path / "logs" / f"{consumer}.log"
    action = "dynamodb:PutItem"  # the conditional put of the tweet item
    with without_action(endpoint, role_name(endpoint, consumer), action), runtime:
        admin(endpoint, "kinesis").put_record(
            StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
        )

        # One record does not fill a batch: move the clock past the batching window until the
        # mapping invokes. The refusal reaches the emulator's log before the consumer's own
        # warning: wait for both.
        def denied_and_logged() -> bool:
            clock.advance(2.0)
            return bool(denials.since_mark()) and "AccessDeniedException" in log_path.read_text(
                encoding="utf-8"
            )

        wait_for(
            denied_and_logged,
            lambda: f"nothing denied and logged: {runtime.stats()}",
            timeout=60,
        )
        consumed = runtime.stats()["consumed"]

    assert denials.since_mark() == {(action, table_arn)}
    assert consumed == 0
    assert "AccessDeniedException" in log_path.read_text(encoding="utf-8")


def test_event_source_mapping_reads_with_the_consumer_role(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    consumer = deployed["consumer_function_name"]
    runtime, _ = runtime_for(deployed, endpoint, tmp_path, "consumer_function_name")
    with without_action(endpoint, role_name(endpoint, consumer), "kinesis:GetRecords"):
        runtime.start()
        try:
            with pytest.raises(Exception, match="AccessDenied") as denied:
                runtime.mappings[0].pollers[0].poll_once()
        finally:
            runtime.stop()

    assert denial("kinesis:GetRecords", deployed["stream_arn"]) in str(denied.value)
    assert denials.since_mark() == {("kinesis:GetRecords", deployed["stream_arn"])}


def delivery_role(endpoint: str, delivery_stream: str) -> str:
    description = admin(endpoint, "firehose").describe_delivery_stream(
        DeliveryStreamName=delivery_stream
    )["DeliveryStreamDescription"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    return str(destination["RoleARN"].rsplit("/", 1)[-1])


def lake_objects_written_without(
    deployed: dict[str, Any], endpoint: str, tmp_path: Path, action: str
) -> dict[str, bytes]:
    """Put one tweet while the delivery role lacks `action`; the lake objects Firehose wrote."""
    bucket = deployed["lake_bucket"]
    runtime, _ = runtime_for(
        deployed, endpoint, tmp_path, "transformer_function_name", "delivery_stream_name"
    )
    role = delivery_role(endpoint, deployed["delivery_stream_name"])
    s3 = admin(endpoint, "s3")
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    with without_action(endpoint, role, action), runtime:
        admin(endpoint, "kinesis").put_record(
            StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
        )
        runtime.flush()
    return {
        o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if o["Key"] not in before
    }


def test_firehose_without_invoke_fails_processing_as_firehose_does(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """Firehose Developer Guide, "Data transformation failure handling": a record the function
    could not be invoked for is written under the error prefix with its error code."""
    endpoint = emulator.endpoint
    transformer_arn = admin(endpoint, "lambda").get_function_configuration(
        FunctionName=deployed["transformer_function_name"]
    )["FunctionArn"]

    written = lake_objects_written_without(deployed, endpoint, tmp_path, "lambda:InvokeFunction")

    assert [key.split("/")[0:2] for key in written] == [["errors", "processing-failed"]]
    failure = json.loads(next(iter(written.values())).splitlines()[0])
    assert failure["errorCode"] == "Lambda.InvokeAccessDenied"
    assert denial("lambda:InvokeFunction", transformer_arn) in failure["errorMessage"]
    assert denials.since_mark() == {("lambda:InvokeFunction", transformer_arn)}


def test_firehose_without_put_object_cannot_write_the_lake(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    runtime, _ = runtime_for(
        deployed, endpoint, tmp_path, "transformer_function_name", "delivery_stream_name"
    )
    role = delivery_role(endpoint, deployed["delivery_stream_name"])
    with without_action(endpoint, role, "s3:PutObject"), runtime:
        admin(endpoint, "kinesis").put_record(
            StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
        )
        with pytest.raises(Exception, match="AccessDenied") as denied:
            runtime.flush()

    resource = f"arn:aws:s3:::{deployed['lake_bucket']}/tweets/"
    assert denial("s3:PutObject", resource) in str(denied.value)
    assert {action for action, _ in denials.since_mark()} == {"s3:PutObject"}
    assert all(key.startswith(resource) for _, key in denials.since_mark())


# --- the KMS calls services make for the roles --------------------------------------------
#
# AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS"
# (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html): DynamoDB
# decrypts the table key as the principal who accesses the table. Kinesis Data Streams Developer
# Guide, "Permissions to use user-generated KMS keys"
# (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html): producers need
# kms:GenerateDataKey, consumers (the event source mapping's role) kms:Decrypt.


@contextlib.contextmanager
def without_statement(endpoint: str, role: str, sid: str) -> Iterator[None]:
    """The role's inline policies minus the statement `sid`; restored afterwards."""
    iam = admin(endpoint, "iam")
    originals = {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    removed = False
    for name, document in originals.items():
        kept = [statement for statement in document["Statement"] if statement.get("Sid") != sid]
        removed = removed or len(kept) < len(document["Statement"])
        iam.put_role_policy(
            RoleName=role,
            PolicyName=name,
            PolicyDocument=json.dumps({**document, "Statement": kept}),
        )
    assert removed, f"{role} has no statement {sid}"
    try:
        yield
    finally:
        for name, document in originals.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


TABLE_KEY_STATEMENT = "DecryptEventDataTableKey"


def run_producer(deployed: dict[str, Any], endpoint: str, tmp_path: Path) -> tuple[Any, str]:
    """One producer run as Terraform deployed it; its result and its log."""
    producer = deployed["producer_function_name"]
    runtime, _ = runtime_for(deployed, endpoint, tmp_path, "producer_function_name")
    event = scheduled_event(
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/x", ACCOUNT_ID, REGION, time.time()
    )
    with runtime:
        assert runtime.lambda_service is not None
        result = runtime.lambda_service.invoke(producer, event)
    log = (tmp_path / "logs" / f"{producer}.log").read_text(encoding="utf-8")
    return result, log + json.dumps(result.payload)


def test_producer_without_the_table_key_grant_is_refused_at_the_table(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """The stack before the table key grant: every checkpoint read fails on AWS."""
    endpoint = emulator.endpoint
    role = role_name(endpoint, deployed["producer_function_name"])
    with without_statement(endpoint, role, TABLE_KEY_STATEMENT):
        _, output = run_producer(deployed, endpoint, tmp_path)

    assert denials.since_mark() == {("kms:Decrypt", deployed["kms_key_arn"])}
    assert "KMS key access denied error" in output


def forget_checkpoints(deployed: dict[str, Any], endpoint: str) -> None:
    """Delete the producer's since_id checkpoints, so its next run puts the replay tweets again."""
    dynamodb = admin(endpoint, "dynamodb")
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=deployed["table_name"],
        FilterExpression="begins_with(pk, :checkpoint)",
        ExpressionAttributeValues={":checkpoint": {"S": "CHECKPOINT#"}},
        ProjectionExpression="pk, sk",
    ):
        for item in page["Items"]:
            dynamodb.delete_item(TableName=deployed["table_name"], Key=item)


def test_producer_without_the_stream_key_grant_gets_kms_access_denied(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    forget_checkpoints(deployed, endpoint)
    role = role_name(endpoint, deployed["producer_function_name"])
    with without_statement(endpoint, role, "EncryptStreamRecords"):
        _, output = run_producer(deployed, endpoint, tmp_path)

    assert denials.since_mark() == {("kms:GenerateDataKey", deployed["kms_key_arn"])}
    assert "KMSAccessDeniedException" in output


def consume_one_record(
    deployed: dict[str, Any], endpoint: str, tmp_path: Path, denials: Denials
) -> tuple[int, str]:
    """Put one tweet and let the mapping deliver it: records consumed, and the consumer's log."""
    consumer = deployed["consumer_function_name"]
    runtime, clock = runtime_for(deployed, endpoint, tmp_path, "consumer_function_name")
    log_path = tmp_path / "logs" / f"{consumer}.log"
    with runtime:
        admin(endpoint, "kinesis").put_record(
            StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
        )

        def delivered() -> bool:
            clock.advance(2.0)
            refused = (
                bool(denials.since_mark())
                and log_path.is_file()
                and ("AccessDeniedException" in log_path.read_text(encoding="utf-8"))
            )
            return refused or runtime.stats()["consumed"] > 0

        wait_for(delivered, lambda: f"nothing consumed or refused: {runtime.stats()}", timeout=60)
        consumed = int(runtime.stats()["consumed"])
    return consumed, log_path.read_text(encoding="utf-8") if log_path.is_file() else ""


def test_consumer_without_the_table_key_grant_is_refused_at_the_table(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """The stack before the table key grant: every consumer write fails on AWS."""
    endpoint = emulator.endpoint
    role = role_name(endpoint, deployed["consumer_function_name"])
    with without_statement(endpoint, role, TABLE_KEY_STATEMENT):
        consumed, log = consume_one_record(deployed, endpoint, tmp_path, denials)

    assert denials.since_mark() == {("kms:Decrypt", deployed["kms_key_arn"])}
    assert consumed == 0
    assert "KMS key access denied error" in log


def test_consumer_with_its_whole_role_is_refused_nothing(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """The control run: reading the encrypted stream and writing the encrypted table."""
    consumed, _ = consume_one_record(deployed, emulator.endpoint, tmp_path, denials)

    assert consumed >= 1  # with what earlier tests left on the stream (TRIM_HORIZON)
    assert denials.since_mark() == set()


def test_event_source_mapping_without_the_stream_key_grant_cannot_read(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    endpoint = emulator.endpoint
    consumer = deployed["consumer_function_name"]
    admin(endpoint, "kinesis").put_record(
        StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
    )
    runtime, _ = runtime_for(deployed, endpoint, tmp_path, "consumer_function_name")
    with without_statement(endpoint, role_name(endpoint, consumer), "DecryptStreamRecords"):
        runtime.start()
        try:
            with pytest.raises(Exception, match="KMSAccessDeniedException"):
                for _ in range(20):  # from TRIM_HORIZON: the first reads may be empty pages
                    runtime.mappings[0].pollers[0].poll_once()
        finally:
            runtime.stop()

    assert denials.since_mark() == {("kms:Decrypt", deployed["kms_key_arn"])}


def query_api(deployed: dict[str, Any], endpoint: str, tmp_path: Path) -> InvocationResult:
    api = deployed["api_function_name"]
    runtime, _ = runtime_for(deployed, endpoint, tmp_path, "api_function_name")
    event = json.loads((EVENTS / "apigw_v2_topics.json").read_text(encoding="utf-8"))
    with runtime:
        assert runtime.lambda_service is not None
        return runtime.lambda_service.invoke(api, event)


def test_api_without_the_table_key_grant_fails_every_query(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """The stack before the table key grant: the function fails, so API Gateway answers every
    call with 500."""
    endpoint = emulator.endpoint
    role = role_name(endpoint, deployed["api_function_name"])
    with without_statement(endpoint, role, TABLE_KEY_STATEMENT):
        result = query_api(deployed, endpoint, tmp_path)

    assert result.function_error == "Unhandled"
    assert "KMS key access denied error" in result.payload["errorMessage"]
    assert denials.since_mark() == {("kms:Decrypt", deployed["kms_key_arn"])}


def test_api_with_its_whole_role_is_refused_nothing(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    result = query_api(deployed, emulator.endpoint, tmp_path)

    assert result.function_error is None, result.payload
    assert result.payload["statusCode"] == 200
    assert denials.since_mark() == set()


def test_firehose_without_its_key_grant_cannot_read_the_stream(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """Firehose Developer Guide, "Controlling access with Amazon Data Firehose" (Grant Firehose
    access to a Kinesis data stream source): the delivery role needs kms:Decrypt on the stream's
    key, through Kinesis."""
    endpoint = emulator.endpoint
    runtime, _ = runtime_for(
        deployed, endpoint, tmp_path, "transformer_function_name", "delivery_stream_name"
    )
    role = delivery_role(endpoint, deployed["delivery_stream_name"])
    with without_statement(endpoint, role, "UseStackKey"), runtime:
        admin(endpoint, "kinesis").put_record(
            StreamName=deployed["stream_name"], Data=tweet_record(), PartitionKey="1"
        )
        with pytest.raises(Exception, match="KMSAccessDeniedException"):
            runtime.flush()

    assert denials.since_mark() == {("kms:Decrypt", deployed["kms_key_arn"])}


def test_firehose_without_glue_get_table_cannot_convert_and_keeps_the_records(
    deployed: dict[str, Any], emulator: EmulatorHandle, tmp_path: Path, denials: Denials
) -> None:
    """Firehose Developer Guide, "Convert input data format in Amazon Data Firehose": the
    delivery role reads the schema from the Glue table; "Handling errors for data format
    conversion": records that cannot be converted are written under the error prefix
    (format-conversion-failed) with their raw data, never dropped."""
    endpoint = emulator.endpoint

    written = lake_objects_written_without(deployed, endpoint, tmp_path, "glue:GetTable")

    assert [key.split("/")[0:2] for key in written] == [["errors", "format-conversion-failed"]]
    failure = json.loads(next(iter(written.values())))
    assert failure["lastErrorCode"] == "DataFormatConversion.AccessDenied"
    assert json.loads(base64.b64decode(failure["rawData"]))["tweet_id"]
    catalog = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:catalog"
    assert denials.since_mark() == {("glue:GetTable", catalog)}
