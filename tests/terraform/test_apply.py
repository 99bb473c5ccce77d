"""The whole stack applied to the emulator: every resource checked through boto3, the functions
run from their zips to check what the dashboard and alarms read, the operator's secrets kept
through a later apply and out of the state, and a second plan with no changes. Tests share the
applied stack and leave it as they need it, in any order (the destroy that leaves nothing behind
is tests/emulator/test_stack.py's, on a stack of its own)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.stack_plan import plan_has_changes, refresh_stack, show_state
from tests.terraform.iam_policies import identity_policies, policy_violations
from tests.terraform.metric_sources import (
    Dimensions,
    alarm_metrics,
    dashboard_metrics,
    emitted_metrics,
    undocumented,
)

from local_aws.lambda_service import LambdaService
from local_aws.moto_server import EmulatorHandle
from trendstream_cli import stack
from tweet_record.activity import ACTIVITY_INDEX

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("terraform-apply"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
ZIP_NAMES = ("producer.zip", "consumer.zip", "firehose_transformer.zip", "api.zip")
EVENTS = REPO_ROOT / "tests" / "events"
# Names of their own, so this stack never collides with another one on the shared emulator.
ENVIRONMENT = "tfapply"
HOT_TOPIC_KEY_PARTS = {"#WorldCup": 4}
APPLY_VARS = {
    "environment": ENVIRONMENT,
    "alarm_notifications_disabled": "true",
    # The stacks of the other emulator tests keep the on-demand default.
    "table_billing_mode": "PROVISIONED",
    "hot_topic_key_parts": json.dumps(HOT_TOPIC_KEY_PARTS),
}
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
    build_dir: Path

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
    """The stack applied once for the module, with a private copy of the built zips (the
    functions run from them; a `make build` elsewhere must not change the code under the
    stack); destroyed at the end."""
    root = tmp_path_factory.mktemp("terraform-apply")
    build_dir = root / "build"
    build_dir.mkdir()
    for name in ZIP_NAMES:
        source = REPO_ROOT / "build" / name
        assert source.is_file(), f"build/{name} missing: run `make build` (make test does)"
        shutil.copyfile(source, build_dir / name)
    paths = stack.StackPaths(root / "state")
    outputs = stack.apply_stack(
        emulator.endpoint,
        paths,
        extra_vars={**APPLY_VARS, "lambda_artifacts_dir": str(build_dir)},
    )
    yield AppliedStack(emulator.endpoint, paths, outputs, build_dir)
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
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == ACTIVITY_INDEX
    assert [(key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]] == [
        ("active_hour", "HASH"),
        ("sk", "RANGE"),
    ]
    assert index["Projection"]["ProjectionType"] == "KEYS_ONLY"


def test_a_provisioned_table_scales_reads_and_writes_by_target_tracking(
    applied: AppliedStack,
) -> None:
    """Provisioned capacity with Application Auto Scaling on both dimensions, starting at the
    minimums ("Managing throughput capacity automatically with DynamoDB auto scaling",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html)."""
    table_name = applied.outputs["table_name"]
    table = applied.client("dynamodb").describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    throughput = table["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (5, 5)
    assert applied.outputs["table_billing_mode"] == "PROVISIONED"

    autoscaling = applied.client("application-autoscaling")
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{table_name}"]
    )["ScalableTargets"]
    assert {(t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets} == {
        ("dynamodb:table:ReadCapacityUnits", 5, 1000),
        ("dynamodb:table:WriteCapacityUnits", 5, 4000),
    }
    policies = autoscaling.describe_scaling_policies(
        ServiceNamespace="dynamodb", ResourceId=f"table/{table_name}"
    )["ScalingPolicies"]
    tracked = {
        policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for policy in policies
        if policy["PolicyType"] == "TargetTrackingScaling"
    }
    assert tracked == {
        "DynamoDBReadCapacityUtilization": 70.0,
        "DynamoDBWriteCapacityUtilization": 70.0,
    }


def test_hot_topic_key_parts_reach_the_writer_and_the_readers(applied: AppliedStack) -> None:
    functions = applied.client("lambda")
    for name in ("consumer_function_name", "api_function_name"):
        configuration = functions.get_function_configuration(FunctionName=applied.outputs[name])
        variables = configuration["Environment"]["Variables"]
        assert json.loads(variables["HOT_TOPIC_KEY_PARTS"]) == HOT_TOPIC_KEY_PARTS
    assert applied.outputs["hot_topic_key_parts"] == HOT_TOPIC_KEY_PARTS


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
    shown = show_state(applied.endpoint, applied.paths)

    documents = identity_policies(json.loads(shown))

    assert len(documents) == 5, sorted(documents)  # four functions (api included) and Firehose
    violations = {address: policy_violations(doc) for address, doc in documents.items()}
    assert violations == {address: [] for address in documents}


FUNCTION_ZIPS = {
    "producer_function_name": "producer.zip",
    "consumer_function_name": "consumer.zip",
    "transformer_function_name": "firehose_transformer.zip",
    "api_function_name": "api.zip",
}
INVOCATIONS = (
    ("producer_function_name", "eventbridge_scheduled.json"),
    ("consumer_function_name", "kinesis_tweets.json"),
    ("consumer_function_name", "kinesis_poison.json"),
    ("transformer_function_name", "firehose_tweets.json"),
    ("api_function_name", "apigw_v2_topics.json"),
)
DYNAMODB_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "Query"})
"""The table operations the functions call: the values a DynamoDB `Operation` dimension may take."""


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@contextlib.contextmanager
def producer_waiting_for_credentials(applied: AppliedStack) -> Iterator[None]:
    """The producer on the X source with every credential still the placeholder, as on a fresh
    stack; its configuration and the parameters are put back afterwards."""
    lambda_client, ssm = applied.client("lambda"), applied.client("ssm")
    producer = applied.outputs["producer_function_name"]
    variables = lambda_client.get_function_configuration(FunctionName=producer)["Environment"][
        "Variables"
    ]
    saved = {key: value for key, (value, _, _) in current_secrets(applied).items()}

    def put(values: dict[str, str]) -> None:
        for key, value in values.items():
            ssm.put_parameter(
                Name=f"{SSM_PREFIX}{key}",
                Value=value,
                Type="SecureString",
                KeyId=applied.outputs["kms_key_arn"],
                Overwrite=True,
            )

    lambda_client.update_function_configuration(
        FunctionName=producer, Environment={"Variables": {**variables, "TWEET_SOURCE": "x"}}
    )
    put(dict.fromkeys(CREDENTIALS, variables["TWITTER_SECRET_PLACEHOLDER"]))
    try:
        yield
    finally:
        put(saved)
        lambda_client.update_function_configuration(
            FunctionName=producer, Environment={"Variables": variables}
        )


@pytest.fixture(scope="module")
def emitted(
    applied: AppliedStack, tmp_path_factory: pytest.TempPathFactory
) -> set[tuple[str, str, Dimensions]]:
    """What the deployed functions publish: each runs from its zip with the environment
    Terraform gave it (the local Lambda stand-in) on the repository's AWS event fixtures, and
    Powertools' EMF lines are read from its log. The producer runs as deployed (the replay
    source: a run's figures) and once more waiting for its X credentials (CredentialsNotSet)."""
    work_dir = tmp_path_factory.mktemp("functions")
    service = LambdaService(applied.endpoint, work_dir)
    try:
        for key, zip_name in FUNCTION_ZIPS.items():
            service.register(applied.outputs[key], applied.build_dir / zip_name)
        runs = [
            (applied.outputs[key], service.invoke(applied.outputs[key], load_event(event)))
            for key, event in INVOCATIONS
        ]
        producer = applied.outputs["producer_function_name"]
        with producer_waiting_for_credentials(applied):
            service.register(producer, applied.build_dir / FUNCTION_ZIPS["producer_function_name"])
            runs.append(
                (producer, service.invoke(producer, load_event("eventbridge_scheduled.json")))
            )
    finally:
        service.stop()
    assert [(name, run.payload) for name, run in runs if run.function_error] == []
    logs = "".join(log.read_text(encoding="utf-8") for log in (work_dir / "logs").glob("*.log"))
    return emitted_metrics(logs)


def stack_resources(applied: AppliedStack) -> dict[str, set[str]]:
    """This stack's resources by the CloudWatch dimension that names them."""
    outputs = applied.outputs
    stages = applied.client("apigatewayv2").get_stages(ApiId=outputs["api_id"])["Items"]
    return {
        "FunctionName": {outputs[key] for key in FUNCTION_ZIPS},
        "StreamName": {outputs["stream_name"]},
        "DeliveryStreamName": {outputs["delivery_stream_name"]},
        "TableName": {outputs["table_name"]},
        "Operation": set(DYNAMODB_OPERATIONS),
        "QueueName": {
            outputs[key].rsplit("/", 1)[-1]
            for key in ("on_failure_queue_url", "producer_dead_letter_queue_url")
        },
        "ApiId": {outputs["api_id"]},
        "Stage": {stage["StageName"] for stage in stages},
        "RuleName": {outputs["schedule_rule_name"]},
    }


def test_dashboard_and_alarms_read_what_their_sources_publish(
    applied: AppliedStack, emitted: set[tuple[str, str, Dimensions]]
) -> None:
    """Every metric the dashboard and the alarms read, from the applied stack: the functions'
    own must be one their handlers emit (namespace, name and dimensions, as captured), AWS's one
    the service documents for this stack's sources, with the documented dimensions naming this
    stack's resources (the documented list and its pages: tests/terraform/metric_sources.py)."""
    cloudwatch = applied.client("cloudwatch")
    dashboard = applied.outputs["dashboard_url"].rsplit("name=", 1)[-1]
    body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    alarms = [
        alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"trendstream-{ENVIRONMENT}-"
        )
        for alarm in page["MetricAlarms"]
    ]
    references = [*dashboard_metrics(dashboard, body), *alarm_metrics(alarms)]
    own = [r for r in references if not r.namespace.startswith("AWS/")]
    services = [r for r in references if r.namespace.startswith("AWS/")]
    resources = stack_resources(applied)

    assert alarms
    assert own
    assert {r.namespace for r in own} == {applied.outputs["metrics_namespace"]}
    assert [r for r in own if (r.namespace, r.name, r.dimensions) not in emitted] == []
    assert [problem for r in services if (problem := undocumented(r))] == []
    assert [
        f"{r.where}: {r.namespace} {r.name} {dimension}={value}"
        for r in services
        for dimension, value in sorted(r.dimensions)
        if value not in resources.get(dimension, set())
    ] == []


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


def paste_readme_secret_commands(
    applied: AppliedStack, workdir: Path, shell: str, values: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The README's block pasted into `shell`, with each of `values` in its file as the README
    says. Only `make` is stood in for, to read this stack's outputs instead of a deployed one's."""
    assert shutil.which(shell), f"{shell} is not installed: `make test` installs it"
    home = workdir / "home"
    secrets = home / ".x-credentials"
    secrets.mkdir(parents=True)
    for key, value in values.items():
        (secrets / key).write_text(value + "\n", encoding="utf-8")  # as an editor saves it
    shim = workdir / "bin"
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
    return subprocess.run(  # noqa: S603 - the README's block, run by the shell under test
        [shell, "-c", readme_secret_commands()],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def current_secrets(applied: AppliedStack) -> dict[str, tuple[str, str, int]]:
    """Each credential parameter's (value, key id, version), read by the account's admin."""
    ssm = applied.client("ssm")
    secrets: dict[str, tuple[str, str, int]] = {}
    for key in CREDENTIALS:
        name = f"{SSM_PREFIX}{key}"
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        [described] = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
            "Parameters"
        ]
        secrets[key] = (parameter["Value"], described["KeyId"], parameter["Version"])
    return secrets


@pytest.fixture
def secrets_restored(applied: AppliedStack) -> Iterator[None]:
    """The credentials' parameters put back as Terraform created them (placeholder, stack key)
    after a test that sets them, so no other test depends on running before it."""
    ssm = applied.client("ssm")
    names = [f"{SSM_PREFIX}{name}" for name in CREDENTIALS]
    before = {
        name: ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        for name in names
    }
    yield
    for name, value in before.items():
        ssm.put_parameter(
            Name=name,
            Value=value,
            Type="SecureString",
            KeyId=applied.outputs["kms_key_arn"],
            Overwrite=True,
        )


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@pytest.mark.usefixtures("secrets_restored")
def test_readme_secret_commands_keep_the_stack_key_and_the_next_plan_empty(
    applied: AppliedStack, tmp_path: Path, shell: str
) -> None:
    """The README's own commands, pasted into bash or zsh, with the stock AWS CLI.

    AWS: a SecureString created or overwritten without a key id is encrypted with the AWS
    managed key alias/aws/ssm (SSM PutParameter, `KeyId`), so a command without --key-id would
    move the parameter off the stack's key and the next apply would fail on every parameter.
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    """
    values = {"bearer_token": f"bearer-{shell}", "consumer_key": f"key-{shell} with & and spaces"}

    pasted = paste_readme_secret_commands(applied, tmp_path, shell, values)

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
    assert plan_has_changes(applied.endpoint, applied.paths) is False


@pytest.fixture(scope="module")
def operator_secrets(
    applied: AppliedStack, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """All five credentials set once with the README's commands (bash), as an operator does."""
    values = {key: f"{key}-of-the-operator-{key[::-1]}" for key in CREDENTIALS}
    pasted = paste_readme_secret_commands(
        applied, tmp_path_factory.mktemp("operator"), "bash", values
    )
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    return values


def test_a_new_placeholder_applies_and_leaves_the_operators_secrets_alone(
    applied: AppliedStack, operator_secrets: dict[str, str]
) -> None:
    """A legal change of `twitter_secret_placeholder` once the secrets are set: the apply
    succeeds and no parameter gets a new version.

    The parameters' values are write-only (`value_wo`): Terraform keeps none, and updating any
    argument of a parameter is a PutParameter that must carry a value (SSM PutParameter,
    `Value` required), so each argument is Terraform's at creation only.
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    """
    before = current_secrets(applied)
    assert {key: value for key, (value, _, _) in before.items()} == operator_secrets

    stack.apply_stack(
        applied.endpoint,
        applied.paths,
        extra_vars={
            **APPLY_VARS,
            "lambda_artifacts_dir": str(applied.build_dir),
            "twitter_secret_placeholder": "NOT_SET_YET",
        },
    )

    assert current_secrets(applied) == before
    producer = applied.client("lambda").get_function_configuration(
        FunctionName=applied.outputs["producer_function_name"]
    )
    assert producer["Environment"]["Variables"]["TWITTER_SECRET_PLACEHOLDER"] == "NOT_SET_YET"
    assert plan_has_changes(applied.endpoint, applied.paths) is False


def test_no_secret_reaches_the_state_outputs_or_logs_after_a_refresh(
    applied: AppliedStack, operator_secrets: dict[str, str]
) -> None:
    """After the operator set the secrets, a refresh-only apply reads every parameter back
    from SSM; none of the values may then be anywhere in what Terraform keeps or prints."""
    secrets = [value for value, _, _ in current_secrets(applied).values()]
    assert sorted(secrets) == sorted(operator_secrets.values())

    refresh_stack(applied.endpoint, applied.paths)

    shown = show_state(applied.endpoint, applied.paths)
    assert any(
        resource["type"] == "aws_ssm_parameter"
        for module in json.loads(shown)["values"]["root_module"].get("child_modules", [])
        for resource in module.get("resources", [])
    ), "the state must hold the parameters for this search to mean anything"
    kept = {
        "terraform show -json": shown,
        "the state file": applied.paths.tfstate.read_text(encoding="utf-8"),
        "the outputs": applied.paths.outputs_file.read_text(encoding="utf-8"),
        "Terraform's log": applied.paths.terraform_log.read_text(encoding="utf-8"),
    }
    leaks = [
        (where, secret) for where, text in kept.items() for secret in secrets if secret in text
    ]
    assert leaks == []
