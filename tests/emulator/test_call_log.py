"""The emulator's call log: every request's IAM actions and resources, as a policy must allow them.

It is what proves terraform/deployer-policy.json complete (tests/cli/test_verify_stack.py), so it
must name the IAM action, not the API operation or moto's guess, and the permission-only actions
a request implies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws import call_log
from local_aws.moto_server import EmulatorHandle, start_emulator, stop_emulator

pytestmark = [pytest.mark.emulator]

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ts-log-fn"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorHandle, Path]]:
    root = tmp_path_factory.mktemp("call-log")
    path = root / "calls.jsonl"
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv(call_log.CALL_LOG_VARIABLE, str(path))
        handle = start_emulator(0, log_file=root / "emulator.log")
    try:
        yield handle, path
    finally:
        stop_emulator(handle)


def client(handle: EmulatorHandle, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=handle.endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIACALLLOGTEST",
        aws_secret_access_key="test",
    )


def calls_of(path: Path, start: int) -> list[tuple[str, str]]:
    return [call for request in call_log.read(path, start) for call in request.calls]


def test_creating_a_function_needs_pass_role_on_its_role(
    logged: tuple[EmulatorHandle, Path],
) -> None:
    """ "Granting a user permissions to pass a role to an AWS service": creating a function with
    an execution role needs iam:PassRole on that role.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
    """
    handle, path = logged
    client(handle, "iam").create_role(RoleName="ts-log-fn", AssumeRolePolicyDocument=TRUST)
    start = call_log.size(path)
    client(handle, "lambda").create_function(
        FunctionName="ts-log-fn",
        Runtime="python3.11",
        Role=ROLE_ARN,
        Handler="app.lambda_handler",
        Code={"ZipFile": (REPO_ROOT / "terraform/tests/fixtures/lambda/producer.zip").read_bytes()},
    )

    calls = calls_of(path, start)
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ts-log-fn"
    assert ("lambda:CreateFunction", function_arn) in calls
    assert ("iam:PassRole", ROLE_ARN) in calls
    without_pass_role = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": function_arn}
        ],
    }
    refused = call_log.not_allowed(call_log.read(path, start), [without_pass_role])
    assert [(action, resource) for action, resource, _ in refused] == [("iam:PassRole", ROLE_ARN)]


def test_registering_a_table_for_auto_scaling_needs_its_service_linked_role(
    logged: tuple[EmulatorHandle, Path],
) -> None:
    """Application Auto Scaling User Guide, "Permissions required to create a service-linked
    role": the first RegisterScalableTarget for a service creates its service-linked role, so the
    caller needs iam:CreateServiceLinkedRole on it (for DynamoDB,
    AWSServiceRoleForApplicationAutoScaling_DynamoDBTable).
    https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
    """
    handle, path = logged
    start = call_log.size(path)
    client(handle, "application-autoscaling").register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/ts-log-table",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=5,
        MaxCapacity=10,
    )

    role = (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/dynamodb.application-autoscaling"
        ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )
    assert ("iam:CreateServiceLinkedRole", role) in calls_of(path, start)


def test_bucket_configuration_reads_are_named_as_iam_names_them(
    logged: tuple[EmulatorHandle, Path],
) -> None:
    """moto 5.2.5 calls GetBucketEncryption `ListBucket`; IAM authorises
    s3:GetEncryptionConfiguration ("Actions, resources, and condition keys for Amazon S3").
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    """
    handle, path = logged
    s3 = client(handle, "s3")
    s3.create_bucket(Bucket="ts-log-bucket")
    s3.put_bucket_encryption(
        Bucket="ts-log-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    start = call_log.size(path)
    s3.get_bucket_encryption(Bucket="ts-log-bucket")
    s3.put_object(Bucket="ts-log-bucket", Key="a/1", Body=b"1")
    s3.delete_objects(Bucket="ts-log-bucket", Delete={"Objects": [{"Key": "a/1"}]})

    calls = calls_of(path, start)
    assert ("s3:GetEncryptionConfiguration", "arn:aws:s3:::ts-log-bucket") in calls
    assert ("s3:DeleteObject", "arn:aws:s3:::ts-log-bucket/a/1") in calls
    assert ("s3:ListBucket", "arn:aws:s3:::ts-log-bucket") not in calls


def test_each_request_is_logged_with_the_key_that_signed_it(
    logged: tuple[EmulatorHandle, Path],
) -> None:
    handle, path = logged
    start = call_log.size(path)
    client(handle, "sqs").create_queue(QueueName="ts-log-queue")

    [request] = call_log.read(path, start)
    assert request.principal == call_log.ADMIN
    assert request.key == "AKIACALLLOGTEST"
    assert request.calls == (("sqs:CreateQueue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:ts-log-queue"),)


def test_a_request_is_in_the_log_before_its_answer_reaches_the_client(tmp_path: Path) -> None:
    """A client reads the log as soon as it has its answer (the deployer-policy proof does), so
    the line must be written before the first byte of the body is handed to the server."""
    path = tmp_path / "calls.jsonl"

    def answer(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        call_log.record("admin", [("s3:PutObject", "arn:aws:s3:::bucket/key")], key="AKIA1")
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first "
        yield b"second"

    middleware = call_log.CallLogMiddleware(answer, path)
    environ = {"PATH_INFO": "/key", "REQUEST_METHOD": "PUT", "HTTP_HOST": "bucket"}
    body = iter(middleware(environ, lambda status, headers: None))

    assert next(body) == b"first "
    assert call_log.read(path) == [
        call_log.LoggedRequest(
            "admin", "PUT bucket/key", (("s3:PutObject", "arn:aws:s3:::bucket/key"),), "AKIA1"
        )
    ]
    assert list(body) == [b"second"]
