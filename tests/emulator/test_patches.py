"""One test per moto patch: each asserts what AWS does, and fails against plain moto 5.2.5."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import uuid
import zipfile
from pathlib import Path

import moto
import pytest
from botocore.exceptions import ClientError
from tests.emulator.support import Aws
from tests.event_table import create_event_table

from local_aws.moto_patches import MotoVersionError, apply_all
from local_aws.moto_patches.awslambda import ACCOUNT_CONCURRENCY_VARIABLE
from local_aws.moto_server import emulator_environment, start_emulator, stop_emulator

pytestmark = pytest.mark.emulator

ACCOUNT_ID = "123456789012"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_function(aws: Aws, name: str, **settings: object) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    function = aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.lambda_handler",
        Code={"ZipFile": function_zip()},
        **settings,
    )
    return str(function["FunctionArn"])


def log_events_of(aws: Aws, function_name: str) -> list[str]:
    """Whatever moto wrote into the function's log group (it logs failed Docker runs there)."""
    logs = aws.client("logs")
    group = f"/aws/lambda/{function_name}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    messages = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        messages += [event["message"] for event in events["events"]]
    return messages


# --- Application Auto Scaling ---------------------------------------------------------------


@pytest.mark.plain_moto_raises(raises=ClientError)
def test_a_scalable_targets_tags_are_listed_by_its_arn(aws: Aws) -> None:
    """Application Auto Scaling API reference, "ListTagsForResource": the tags of a scalable
    target, by its ARN, including those given to RegisterScalableTarget
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html).
    The AWS provider reads them after creating `aws_appautoscaling_target`."""
    table = unique("table")
    aws.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    autoscaling = aws.client("application-autoscaling")
    target = {
        "ServiceNamespace": "dynamodb",
        "ResourceId": f"table/{table}",
        "ScalableDimension": "dynamodb:table:WriteCapacityUnits",
    }
    arn = autoscaling.register_scalable_target(
        **target, MinCapacity=5, MaxCapacity=100, Tags={"Project": "trendstream"}
    )["ScalableTargetARN"]

    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Project": "trendstream"}
    autoscaling.tag_resource(ResourceARN=arn, Tags={"Component": "event-table"})
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Project"])
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {
        "Component": "event-table"
    }
    autoscaling.deregister_scalable_target(**target)


# --- Athena ---------------------------------------------------------------------------------


@pytest.mark.plain_moto_raises(raises=ClientError)
def test_delete_named_query_removes_it(aws: Aws) -> None:
    athena = aws.client("athena")
    workgroup = unique("wg")
    athena.create_work_group(Name=workgroup)
    query_id = athena.create_named_query(
        Name="top", Database="default", QueryString="SELECT 1", WorkGroup=workgroup
    )["NamedQueryId"]

    athena.delete_named_query(NamedQueryId=query_id)

    assert athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"] == []
    with pytest.raises(ClientError) as raised:
        athena.get_named_query(NamedQueryId=query_id)
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


@pytest.mark.plain_moto_raises(raises=ClientError)
def test_untagged_workgroup_lists_no_tags(aws: Aws) -> None:
    athena = aws.client("athena")
    workgroup = unique("wg")
    athena.create_work_group(Name=workgroup)
    arn = f"arn:aws:athena:us-east-1:{ACCOUNT_ID}:workgroup/{workgroup}"

    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


@pytest.mark.plain_moto_raises(raises=ClientError)
def test_workgroup_tags_read_through_the_account_less_arn(aws: Aws) -> None:
    athena = aws.client("athena")
    workgroup = unique("wg")
    athena.create_work_group(Name=workgroup, Tags=[{"Key": "Project", "Value": "trendstream"}])
    provider_arn = f"arn:aws:athena:us-east-1::workgroup/{workgroup}"

    tags = athena.list_tags_for_resource(ResourceARN=provider_arn)["Tags"]

    assert tags == [{"Key": "Project", "Value": "trendstream"}]


def test_tags_of_a_missing_workgroup_are_still_an_error(patched: Aws) -> None:
    athena = patched.client("athena")
    arn = f"arn:aws:athena:us-east-1:{ACCOUNT_ID}:workgroup/{unique('absent')}"

    with pytest.raises(ClientError) as raised:
        athena.list_tags_for_resource(ResourceARN=arn)
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


# --- Glue -----------------------------------------------------------------------------------


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_glue_database_tags_read_through_the_account_less_arn(aws: Aws) -> None:
    glue = aws.client("glue")
    database = unique("db").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": database}, Tags={"Component": "lake"})

    tags = glue.get_tags(ResourceArn=f"arn:aws:glue:us-east-1::database/{database}")["Tags"]

    assert tags == {"Component": "lake"}


# --- Kinesis --------------------------------------------------------------------------------


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_create_stream_applies_its_tags(aws: Aws) -> None:
    kinesis = aws.client("kinesis")
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1, Tags={"Component": "stream"})

    tags = kinesis.list_tags_for_stream(StreamName=stream)["Tags"]

    assert tags == [{"Key": "Component", "Value": "stream"}]


# --- S3 -------------------------------------------------------------------------------------


def secure_transport_policy(bucket: str, denied_when: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": denied_when}},
                }
            ],
        }
    )


@pytest.mark.plain_moto_raises(raises=ClientError)
def test_deny_non_tls_policy_lets_loopback_requests_through(aws: Aws) -> None:
    s3 = aws.client("s3")
    bucket = unique("lake")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=secure_transport_policy(bucket, "false"))

    s3.put_object(Bucket=bucket, Key="tweets/a.json", Body=b"{}")

    assert s3.get_object(Bucket=bucket, Key="tweets/a.json")["Body"].read() == b"{}"


def test_secure_transport_condition_is_evaluated_not_dropped(patched: Aws) -> None:
    """A statement that applies to secure requests still denies: the condition is evaluated."""
    s3 = patched.client("s3")
    bucket = unique("lake")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=secure_transport_policy(bucket, "true"))

    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="tweets/a.json", Body=b"{}")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- Lambda ---------------------------------------------------------------------------------


@pytest.mark.plain_moto_raises(raises=KeyError)
def test_function_keeps_its_dead_letter_config(aws: Aws) -> None:
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:{unique('dlq')}"
    name = unique("fn")
    create_function(aws, name, DeadLetterConfig={"TargetArn": queue_arn})

    configuration = aws.client("lambda").get_function_configuration(FunctionName=name)

    assert configuration["DeadLetterConfig"] == {"TargetArn": queue_arn}


def test_dead_letter_config_can_be_updated(patched: Aws) -> None:
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:{unique('dlq')}"
    name = unique("fn")
    create_function(patched, name)
    lambda_client = patched.client("lambda")

    lambda_client.update_function_configuration(
        FunctionName=name, DeadLetterConfig={"TargetArn": queue_arn}
    )

    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert configuration["DeadLetterConfig"] == {"TargetArn": queue_arn}


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_kinesis_put_never_invokes_the_mapped_function(aws: Aws) -> None:
    kinesis = aws.client("kinesis")
    lambda_client = aws.client("lambda")
    name = unique("consumer")
    create_function(aws, name)
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )

    kinesis.put_record(StreamName=stream, Data=b'{"id": "1"}', PartitionKey="1")

    assert log_events_of(aws, name) == []
    listed = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [entry["UUID"] for entry in listed] == [mapping["UUID"]]


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_mapping_created_with_the_function_arn_is_listed_by_name_and_arn(aws: Aws) -> None:
    """Terraform creates the mapping with the function's ARN; AWS lists it by name or ARN."""
    kinesis = aws.client("kinesis")
    lambda_client = aws.client("lambda")
    name = unique("consumer")
    function_arn = create_function(aws, name)
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=function_arn, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )

    for function in (name, function_arn):
        listed = lambda_client.list_event_source_mappings(FunctionName=function)
        assert [entry["UUID"] for entry in listed["EventSourceMappings"]] == [mapping["UUID"]]
    others = lambda_client.list_event_source_mappings(FunctionName=unique("other"))
    assert others["EventSourceMappings"] == []


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_sns_delivery_never_invokes_a_subscribed_function(aws: Aws) -> None:
    sns = aws.client("sns")
    name = unique("subscriber")
    function_arn = create_function(aws, name)
    topic_arn = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn)

    sns.publish(TopicArn=topic_arn, Message="alarm")

    assert log_events_of(aws, name) == []


# --- DynamoDB -------------------------------------------------------------------------------


def create_table(aws: Aws) -> str:
    name = unique("table")
    create_event_table(aws.client("dynamodb"), name)
    return name


def test_writes_racing_scans_all_succeed(patched: Aws) -> None:
    """Concurrent conditional puts and updates (the consumer's writes, from several threads) and
    scans (the CLI's reads) never fail with a server error: AWS answers every one of them."""
    dynamodb = patched.client("dynamodb")
    table = create_table(patched)
    errors: list[BaseException] = []

    def writes(worker: int) -> None:
        try:
            for n in range(150):
                dynamodb.put_item(
                    TableName=table,
                    Item={"pk": {"S": "TOPIC#t"}, "sk": {"S": f"TWEET#{worker}-{n}"}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": {"S": "TOPIC#t"}, "sk": {"S": f"MINUTE#{worker}"}},
                    UpdateExpression="ADD tweet_count :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    def scans() -> None:
        try:
            for _ in range(40):
                dynamodb.scan(TableName=table, Select="COUNT")
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writes, args=(w,)) for w in range(3)]
    threads.append(threading.Thread(target=scans))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 3 * 150 + 3


# --- Kinesis reads and writes ---------------------------------------------------------------


def test_paged_get_records_returns_every_record_once_in_order(patched: Aws) -> None:
    """The direct-lookup GetRecords pages through a shard exactly as a scan would."""
    kinesis = patched.client("kinesis")
    stream = unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    sent = [f"record-{n}".encode() for n in range(1_200)]
    for start in range(0, len(sent), 400):
        kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": data, "PartitionKey": "k"} for data in sent[start : start + 400]],
        )
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    received: list[dict[str, object]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=500)
        if not page["Records"]:
            break
        assert len(page["Records"]) <= 500
        received += page["Records"]
        iterator = page["NextShardIterator"]

    assert [record["Data"] for record in received] == sent
    sequences = [int(str(record["SequenceNumber"])) for record in received]
    assert sequences == sorted(set(sequences))
    middle = str(received[700]["SequenceNumber"])
    after = kinesis.get_shard_iterator(
        StreamName=stream,
        ShardId=shard_id,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=middle,
    )["ShardIterator"]
    rest = kinesis.get_records(ShardIterator=after, Limit=10_000)["Records"]
    assert [record["Data"] for record in rest] == sent[701:]


# --- SSM key semantics ----------------------------------------------------------------------


def key_id_of(aws: Aws, name: str) -> str:
    parameters = aws.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [name]}]
    )["Parameters"]
    return str(parameters[0]["KeyId"])


PINNED_AWS_CLI = Path(sys.executable).parent / "aws"


def stock_cli(aws: Aws, *arguments: str) -> None:
    """The AWS CLI as a user runs it, pointed at the emulator with the admin's credentials.

    The pinned CLI of requirements/dev.txt, beside the interpreter running the tests: never
    whatever `aws` comes first on PATH (another version, or none on a CI machine).
    """
    cli = PINNED_AWS_CLI
    assert cli.is_file(), f"{cli} missing: `make venv` installs the pinned AWS CLI"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **emulator_environment(aws.endpoint),
    }
    environment.pop("AWS_ENDPOINT_URL")
    subprocess.run(  # noqa: S603 - the installed CLI with fixed arguments
        [str(cli), "--endpoint-url", aws.endpoint, *arguments],
        env=environment,
        check=True,
        capture_output=True,
    )


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_secure_string_overwritten_without_key_id_is_rekeyed_to_the_default_key(aws: Aws) -> None:
    """SSM API reference, PutParameter `KeyId`: "If you don't specify a key ID, the system uses
    the default key associated with your Amazon Web Services account" (alias/aws/ssm), on an
    overwrite as on a create: the CLI command the README gives operators re-keys a parameter
    Terraform created with the stack's key."""
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    name = f"/{unique('twitter')}/bearer_token"
    aws.client("ssm").put_parameter(Name=name, Value="placeholder", Type="SecureString", KeyId=key)

    stock_cli(
        aws, "ssm", "put-parameter", "--name", name, "--type", "SecureString", "--value",
        "secret", "--overwrite",
    )  # fmt: skip

    assert key_id_of(aws, name) == "alias/aws/ssm"
    value = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    assert value == "secret"


def test_secure_string_put_with_key_id_uses_that_key(patched: Aws) -> None:
    key = patched.client("kms").create_key()["KeyMetadata"]["Arn"]
    name = f"/{unique('twitter')}/bearer_token"
    patched.client("ssm").put_parameter(Name=name, Value="a", Type="SecureString")

    stock_cli(
        patched, "ssm", "put-parameter", "--name", name, "--type", "SecureString", "--value",
        "b", "--key-id", key, "--overwrite",
    )  # fmt: skip

    assert key_id_of(patched, name) == key


# --- Lambda concurrency and DryRun -----------------------------------------------------------

NEW_ACCOUNT_REFUSAL = (
    "Specified ReservedConcurrentExecutions for function decreases account's "
    "UnreservedConcurrentExecution below its minimum value of [10]."
)


@pytest.mark.plain_moto_raises(raises=pytest.fail.Exception)
def test_a_new_account_refuses_any_reserved_concurrency(aws: Aws) -> None:
    """Lambda Developer Guide, "Configuring reserved concurrency": an account keeps at least 100
    units (all of them where its quota is lower: new accounts start at 10) unreserved; AWS
    answers InvalidParameterValueException with the text below (the producer's former
    `reserved_concurrent_executions = 1` met it on new accounts)."""
    function = create_function(aws, unique("fn"))

    with pytest.raises(ClientError) as refused:
        aws.client("lambda").put_function_concurrency(
            FunctionName=function, ReservedConcurrentExecutions=1
        )

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == NEW_ACCOUNT_REFUSAL


def test_the_modelled_account_concurrency_is_configurable(tmp_path: Path) -> None:
    """With a 1,000 quota, 900 can be reserved and the 100 left stay unreserved."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv(ACCOUNT_CONCURRENCY_VARIABLE, "1000")
        handle = start_emulator(0, log_file=tmp_path / "emulator.log")
    try:
        aws = Aws(handle.endpoint)
        first, second = create_function(aws, "first"), create_function(aws, "second")
        lambda_client = aws.client("lambda")
        lambda_client.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=900)
        with pytest.raises(ClientError, match=r"below its minimum value of \[100\]"):
            lambda_client.put_function_concurrency(
                FunctionName=second, ReservedConcurrentExecutions=1
            )
    finally:
        stop_emulator(handle)


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_dry_run_invocation_runs_nothing(aws: Aws) -> None:
    """Lambda API reference, Invoke `InvocationType`: "DryRun - Validate parameter values and
    verify that the user or role has permission to invoke the function." Status 204."""
    name = unique("fn")
    create_function(aws, name)

    response = aws.client("lambda").invoke(FunctionName=name, InvocationType="DryRun")

    assert response["StatusCode"] == 204
    assert log_events_of(aws, name) == []


# --- moto version --------------------------------------------------------------------------


def test_patches_refuse_a_moto_they_were_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.3.0")

    with pytest.raises(MotoVersionError, match=r"moto 5\.2\.5.*moto 5\.3\.0 is installed"):
        apply_all()


# --- CloudWatch alarm state ------------------------------------------------------------------
# PutMetricAlarm: "When this operation creates an alarm, the alarm state is immediately set to
# INSUFFICIENT_DATA ... When you update an existing alarm, its state is left unchanged."
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html


def put_alarm(aws: Aws, name: str, threshold: float) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
    )


def alarm_state(aws: Aws, name: str) -> str:
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_a_new_alarm_has_insufficient_data(aws: Aws) -> None:
    name = unique("alarm")
    put_alarm(aws, name, 0)

    assert alarm_state(aws, name) == "INSUFFICIENT_DATA"


@pytest.mark.plain_moto_raises(raises=AssertionError)
def test_updating_an_alarm_keeps_its_state(aws: Aws) -> None:
    name = unique("alarm")
    put_alarm(aws, name, 0)
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="3 errors"
    )

    put_alarm(aws, name, 5)

    assert alarm_state(aws, name) == "ALARM"
    alarm = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert (alarm["Threshold"], alarm["StateReason"]) == (5.0, "3 errors")
