"""The whole stack applied to the emulator: every resource checked through boto3, a second plan
with no changes, and a destroy that leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.terraform.iam_policies import identity_policies, policy_violations

from local_aws.moto_server import EmulatorHandle
from trendstream_cli import stack

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("terraform-apply"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_ZIPS = REPO_ROOT / "terraform" / "tests" / "fixtures" / "lambda"
# Names of their own, so this stack never collides with another one on the shared emulator.
ENVIRONMENT = "tfapply"
SSM_PREFIX = f"/trendstream/{ENVIRONMENT}/twitter/"
CREDENTIALS = (
    "consumer_key",
    "consumer_secret",
    "access_token_key",
    "access_token_secret",
    "bearer_token",
)


@dataclass
class AppliedStack:
    endpoint: str
    paths: stack.StackPaths
    outputs: dict[str, Any]
    destroyed: bool = field(default=False)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def applied(
    emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppliedStack]:
    """The stack applied once for the module; destroyed at the end unless a test already did."""
    paths = stack.StackPaths(tmp_path_factory.mktemp("terraform-apply"))
    outputs = stack.apply_stack(
        emulator.endpoint,
        paths,
        extra_vars={
            "environment": ENVIRONMENT,
            "alarm_notifications_disabled": "true",
            "lambda_artifacts_dir": str(FIXTURE_ZIPS),
        },
    )
    applied_stack = AppliedStack(emulator.endpoint, paths, outputs)
    yield applied_stack
    if not applied_stack.destroyed:
        stack.destroy_stack(emulator.endpoint, paths)


def test_outputs_name_everything_as_the_contract_says(applied: AppliedStack) -> None:
    outputs = applied.outputs

    assert outputs["stream_name"] == f"trendstream-{ENVIRONMENT}-tweets"
    assert outputs["table_name"] == f"trendstream-{ENVIRONMENT}-EventData"
    assert outputs["lake_bucket"] == f"trendstream-{ENVIRONMENT}-lake-123456789012"
    assert outputs["producer_function_name"] == f"trendstream-{ENVIRONMENT}-producer"
    assert outputs["consumer_function_name"] == f"trendstream-{ENVIRONMENT}-consumer"
    assert outputs["transformer_function_name"] == f"trendstream-{ENVIRONMENT}-firehose-transformer"
    for name in ("athena_workgroup", "glue_database", "glue_table", "alarm_topic_arn"):
        assert outputs[name]


def test_stream_is_active_and_encrypted_with_the_stack_key(applied: AppliedStack) -> None:
    summary = applied.client("kinesis").describe_stream_summary(
        StreamName=applied.outputs["stream_name"]
    )["StreamDescriptionSummary"]

    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == applied.outputs["stream_arn"]
    assert summary["EncryptionType"] == "KMS"
    assert summary["KeyId"] == applied.outputs["kms_key_arn"]


def test_table_has_the_contract_keys_ttl_and_encryption(applied: AppliedStack) -> None:
    dynamodb = applied.client("dynamodb")
    table_name = applied.outputs["table_name"]

    table = dynamodb.describe_table(TableName=table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=table_name)

    assert {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_firehose_reads_the_stream_through_the_transformer(applied: AppliedStack) -> None:
    lambda_client = applied.client("lambda")
    transformer_arn = lambda_client.get_function_configuration(
        FunctionName=applied.outputs["transformer_function_name"]
    )["FunctionArn"]

    description = applied.client("firehose").describe_delivery_stream(
        DeliveryStreamName=applied.outputs["delivery_stream_name"]
    )["DeliveryStreamDescription"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    processor = destination["ProcessingConfiguration"]["Processors"][0]

    source = description["Source"]["KinesisStreamSourceDescription"]
    assert source["KinesisStreamARN"] == applied.outputs["stream_arn"]
    assert destination["BucketARN"] == f"arn:aws:s3:::{applied.outputs['lake_bucket']}"
    assert destination["Prefix"] == (
        "tweets/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert processor["Type"] == "Lambda"
    parameters = {item["ParameterName"]: item["ParameterValue"] for item in processor["Parameters"]}
    assert parameters["LambdaArn"] == transformer_arn
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    parquet = conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]
    assert parquet["Compression"] == "GZIP"
    schema = conversion["SchemaConfiguration"]
    assert (schema["DatabaseName"], schema["TableName"]) == (
        applied.outputs["glue_database"],
        applied.outputs["glue_table"],
    )
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    assert destination["BufferingHints"]["SizeInMBs"] >= 64


def test_glue_table_projects_the_firehose_partitions(applied: AppliedStack) -> None:
    table = applied.client("glue").get_table(
        DatabaseName=applied.outputs["glue_database"], Name=applied.outputs["glue_table"]
    )["Table"]
    bucket = applied.outputs["lake_bucket"]

    assert [key["Name"] for key in table["PartitionKeys"]] == ["year", "month", "day", "hour"]
    assert table["Parameters"]["projection.enabled"] == "true"
    assert table["Parameters"]["storage.location.template"] == (
        f"s3://{bucket}/tweets/year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/"
    )
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/tweets/"
    serde = table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert table["StorageDescriptor"]["InputFormat"] == (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    )


def test_athena_workgroup_enforces_encrypted_results(applied: AppliedStack) -> None:
    athena = applied.client("athena")
    workgroup = athena.get_work_group(WorkGroup=applied.outputs["athena_workgroup"])["WorkGroup"]
    configuration = workgroup["Configuration"]
    query_ids = applied.outputs["athena_named_query_ids"]

    assert configuration["EnforceWorkGroupConfiguration"] is True
    result = configuration["ResultConfiguration"]
    assert result["OutputLocation"] == f"s3://{applied.outputs['lake_bucket']}/athena-results/"
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert set(query_ids) == {
        "top-topics-last-hour",
        "sentiment-by-topic",
        "top-hashtags",
        "most-engaged-tweets",
    }
    query = athena.get_named_query(NamedQueryId=query_ids["top-hashtags"])["NamedQuery"]
    assert "UNNEST(hashtags)" in query["QueryString"]


def test_event_source_mapping_isolates_poison_records(applied: AppliedStack) -> None:
    mapping = applied.client("lambda").get_event_source_mapping(
        UUID=applied.outputs["event_source_mapping_uuid"]
    )
    queue_arn = applied.client("sqs").get_queue_attributes(
        QueueUrl=applied.outputs["on_failure_queue_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    assert mapping["EventSourceArn"] == applied.outputs["stream_arn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 604800
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn


def test_functions_are_traced_with_the_contract_environment(applied: AppliedStack) -> None:
    configuration = applied.client("lambda").get_function_configuration(
        FunctionName=applied.outputs["producer_function_name"]
    )

    assert configuration["TracingConfig"]["Mode"] == "Active"
    assert configuration["Handler"] == "app.lambda_handler"
    assert configuration["Runtime"] == "python3.11"
    variables = configuration["Environment"]["Variables"]
    assert variables["STREAM_NAME"] == applied.outputs["stream_name"]
    assert variables["TABLE_NAME"] == applied.outputs["table_name"]
    assert variables["TWITTER_SSM_PREFIX"] == SSM_PREFIX
    assert variables["TWEET_SOURCE"] == "replay"


def test_credentials_are_secure_string_placeholders(applied: AppliedStack) -> None:
    ssm = applied.client("ssm")
    parameters = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Path", "Values": [SSM_PREFIX.rstrip("/")]}]
    )["Parameters"]
    placeholder = ssm.get_parameter(Name=f"{SSM_PREFIX}consumer_key", WithDecryption=True)

    assert {parameter["Name"] for parameter in parameters} == {
        f"{SSM_PREFIX}{name}" for name in CREDENTIALS
    }
    assert {parameter["Type"] for parameter in parameters} == {"SecureString"}
    assert placeholder["Parameter"]["Value"] == applied.outputs["twitter_secret_placeholder"]


def test_lake_bucket_is_encrypted_private_and_tls_only(applied: AppliedStack) -> None:
    s3 = applied.client("s3")
    bucket = applied.outputs["lake_bucket"]

    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    public_access = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])

    rule = encryption["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert public_access == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert any(
        statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in policy["Statement"]
    )


def test_every_identity_policy_is_scoped(applied: AppliedStack) -> None:
    shown = subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
        [
            str(stack.TERRAFORM_WRAPPER),
            f"-chdir={stack.TERRAFORM_DIR}",
            "show",
            "-json",
            str(applied.paths.tfstate),
        ],
        env={**os.environ, "TF_DATA_DIR": str(applied.paths.tf_data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )

    documents = identity_policies(json.loads(shown.stdout))

    assert len(documents) == 5, sorted(documents)  # four functions (api included) and Firehose
    violations = {address: policy_violations(doc) for address, doc in documents.items()}
    assert violations == {address: [] for address in documents}


def readme_secret_commands() -> str:
    """The README's block that sets the X credentials, exactly as a user would copy it."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [
        block
        for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
        if "ssm put-parameter" in block
    ]
    assert len(blocks) == 1, "the README must give one block of secret commands"
    return blocks[0]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_readme_secret_commands_keep_the_stack_key_and_the_next_plan_empty(
    applied: AppliedStack, tmp_path: Path, shell: str
) -> None:
    """The README's own commands, pasted into bash or zsh, with the stock AWS CLI.

    AWS: a SecureString created or overwritten without a key id is encrypted with the AWS
    managed key alias/aws/ssm (SSM PutParameter, `KeyId`), so a command without --key-id would
    move the parameter off the stack's key and the next apply would fail on every parameter.
    Only `make` is stood in for, to read this stack's outputs instead of a deployed one's.
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    """
    assert shutil.which(shell), f"{shell} is not installed: `make test` installs it"
    home = tmp_path / "home"
    secrets = home / ".x-credentials"
    secrets.mkdir(parents=True)
    values = {"bearer_token": f"bearer-{shell}", "consumer_key": f"key-{shell} with & and spaces"}
    for key, value in values.items():
        (secrets / key).write_text(value + "\n", encoding="utf-8")  # as an editor saves it
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "make").write_text(
        "#!/bin/sh\n"
        f'TF_DATA_DIR="{applied.paths.tf_data_dir}" exec "{stack.TERRAFORM_WRAPPER}" '
        f'-chdir="{stack.TERRAFORM_DIR}" output -json -state="{applied.paths.tfstate}"\n',
        encoding="utf-8",
    )
    (shim / "make").chmod(0o755)
    environment = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(shim), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "AWS_ENDPOINT_URL": applied.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }

    pasted = subprocess.run(  # noqa: S603 - the README's block, run by the shell under test
        [shell, "-c", readme_secret_commands()],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert sorted(pasted.stdout.split("\n")) == sorted(
        ["", *(f"set {SSM_PREFIX}{key}" for key in values)]
    ), pasted.stdout + pasted.stderr
    ssm = applied.client("ssm")
    for key, value in values.items():
        parameter = ssm.get_parameter(Name=f"{SSM_PREFIX}{key}", WithDecryption=True)["Parameter"]
        assert parameter["Value"] == value
        [described] = ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": [f"{SSM_PREFIX}{key}"]}]
        )["Parameters"]
        assert described["KeyId"] == applied.outputs["kms_key_arn"]
    assert stack.plan_has_changes(applied.endpoint, applied.paths) is False


def test_destroy_removes_the_stack(applied: AppliedStack) -> None:
    stack.destroy_stack(applied.endpoint, applied.paths)
    applied.destroyed = True

    streams = applied.client("kinesis").list_streams()["StreamNames"]
    tables = applied.client("dynamodb").list_tables()["TableNames"]
    functions = applied.client("lambda").list_functions()["Functions"]
    assert applied.outputs["stream_name"] not in streams
    assert applied.outputs["table_name"] not in tables
    assert not [
        function
        for function in functions
        if function["FunctionName"].startswith(f"trendstream-{ENVIRONMENT}-")
    ]
