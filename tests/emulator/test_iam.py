"""The IAM patch: requests signed with a role's session are authorised against its policies.

IAM User Guide, "Policy evaluation logic": within an account, a request is allowed when an
identity-based policy allows the action on the resource and no policy explicitly denies it; the
refusal names the principal, the action and the resource. Each emulator test runs against the
patched emulator and, as a strict xfail, against plain moto 5.2.5, which authorises nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from tests.emulator.support import Aws

from local_aws.moto_patches.iam import PolicyDecision, evaluate

# Plain moto authorises everything: each refusal these tests expect is pytest's "DID NOT RAISE".
pytestmark = [pytest.mark.emulator, pytest.mark.plain_moto_raises(raises=pytest.fail.Exception)]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"


def create_table(aws: Aws) -> str:
    name = unique("table")
    aws.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def role_session(aws: Aws, *statements: dict[str, Any]) -> tuple[Any, str]:
    """A boto3 session with temporary credentials of a new role holding `statements`."""
    iam = aws.client("iam")
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="policy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )
    credentials = aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="session")[
        "Credentials"
    ]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=aws.endpoint)  # type: ignore[call-overload]

    return client, f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{name}/session"


def allow(actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def item(key: str) -> dict[str, Any]:
    return {"pk": {"S": key}}


def test_denied_request_names_principal_action_and_resource(aws: Aws) -> None:
    name = create_table(aws)
    client, principal = role_session(aws, allow(["dynamodb:GetItem"], [table_arn(name)]))

    with pytest.raises(ClientError) as denied:
        client("dynamodb").put_item(TableName=name, Item=item("a"))

    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: {principal} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{table_arn(name)} because no identity-based policy allows the dynamodb:PutItem action"
    )


def test_grant_on_one_table_does_not_reach_another(aws: Aws) -> None:
    granted, other = create_table(aws), create_table(aws)
    client, _ = role_session(aws, allow(["dynamodb:PutItem"], [table_arn(granted)]))
    dynamodb = client("dynamodb")

    dynamodb.put_item(TableName=granted, Item=item("a"))
    with pytest.raises(ClientError, match=f"on resource: {table_arn(other)} "):
        dynamodb.put_item(TableName=other, Item=item("a"))


def test_glue_table_reads_need_the_catalog_database_and_table(aws: Aws) -> None:
    """AWS Glue Developer Guide, "Specifying AWS Glue resource ARNs"
    (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html): GetTable
    needs the permission on the catalog, the database and the table; Firehose's record format
    conversion reads its schema so ("Grant Firehose access to AWS Glue for data format
    conversion", Amazon Data Firehose developer guide). A grant on another table is refused."""
    database = unique("db").replace("-", "_")
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": database})
    for table in ("tweets", "other"):
        glue.create_table(DatabaseName=database, TableInput={"Name": table})
    catalog = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}"
    granted = [f"{catalog}:catalog", f"{catalog}:database/{database}"]
    client, _ = role_session(
        aws, allow(["glue:GetTable"], [*granted, f"{catalog}:table/{database}/tweets"])
    )

    assert client("glue").get_table(DatabaseName=database, Name="tweets")["Table"]["Name"] == (
        "tweets"
    )
    with pytest.raises(ClientError) as denied:
        client("glue").get_table(DatabaseName=database, Name="other")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"glue:GetTable on resource: {catalog}:table/{database}/other " in str(denied.value)


def test_explicit_deny_wins_over_an_allow(aws: Aws) -> None:
    name = create_table(aws)
    client, _ = role_session(
        aws,
        allow(["dynamodb:*"], [table_arn(name)]),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
    )

    with pytest.raises(ClientError, match="with an explicit deny in an identity-based policy"):
        client("dynamodb").delete_item(TableName=name, Key=item("a"))


def test_kms_grant_conditioned_on_via_service_refuses_a_direct_call(aws: Aws) -> None:
    """KMS Developer Guide, "kms:ViaService": the key is set only when a service calls KMS on the
    principal's behalf, so a direct call does not match the condition and is refused."""
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    client, _ = role_session(
        aws,
        allow(
            ["kms:GenerateDataKey"],
            [key],
            Condition={"StringEquals": {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}},
        ),
    )

    with pytest.raises(ClientError, match=f"kms:GenerateDataKey on resource: {key} "):
        client("kms").generate_data_key(KeyId=key, KeySpec="AES_256")


def test_s3_refusal_is_s3s_access_denied_for_the_object(aws: Aws) -> None:
    bucket = unique("bucket")
    aws.client("s3").create_bucket(Bucket=bucket)
    client, _ = role_session(aws, allow(["s3:PutObject"], [f"arn:aws:s3:::{bucket}/quarantine/*"]))
    s3 = client("s3")

    s3.put_object(Bucket=bucket, Key="quarantine/a", Body=b"x")
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="tweets/a", Body=b"x")

    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f"s3:PutObject on resource: arn:aws:s3:::{bucket}/tweets/a " in str(denied.value)


def test_batch_send_is_authorised_as_send_message_on_the_queue(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=unique("queue"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client, _ = role_session(aws, allow(["sqs:ReceiveMessage"], [arn]))

    with pytest.raises(ClientError, match=f"sqs:SendMessage on resource: {arn} "):
        client("sqs").send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x"}])


def test_admin_credentials_are_not_restricted(patched: Aws) -> None:
    name = create_table(patched)

    patched.client("dynamodb").put_item(TableName=name, Item=item("a"))

    assert patched.client("dynamodb").get_item(TableName=name, Key=item("a"))["Item"] == item("a")


# --- the evaluator alone -----------------------------------------------------------------


def policy(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def test_actions_match_case_insensitively_and_resources_by_wildcard() -> None:
    documents = policy(allow(["Kinesis:Get*"], ["arn:aws:kinesis:*:*:stream/tweets-?"]))

    assert evaluate(documents, "kinesis:GetRecords", "arn:aws:kinesis:r:1:stream/tweets-a") == (
        PolicyDecision.ALLOW
    )
    assert evaluate(documents, "kinesis:GetRecords", "arn:aws:kinesis:r:1:stream/tweets-ab") == (
        PolicyDecision.IMPLICIT_DENY
    )
    assert evaluate(documents, "kinesis:PutRecords", "arn:aws:kinesis:r:1:stream/tweets-a") == (
        PolicyDecision.IMPLICIT_DENY
    )


def test_a_failed_condition_makes_an_allow_not_apply_rather_than_deny() -> None:
    documents = policy(
        allow(["kms:Decrypt"], ["*"], Condition={"StringEquals": {"kms:ViaService": "x"}}),
        allow(["kms:Decrypt"], ["*"]),
    )

    assert evaluate(documents, "kms:Decrypt", "arn:aws:kms:r:1:key/k") == PolicyDecision.ALLOW


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        ("StringEqualsIfExists", {}, PolicyDecision.ALLOW),
        ("StringEquals", {}, PolicyDecision.IMPLICIT_DENY),
        ("StringNotEquals", {}, PolicyDecision.ALLOW),
        ("StringLike", {"aws:SourceAccount": "123456789012"}, PolicyDecision.ALLOW),
        ("StringNotLike", {"aws:SourceAccount": "123456789012"}, PolicyDecision.IMPLICIT_DENY),
    ],
)
def test_condition_keys_missing_from_the_request(
    operator: str, context: dict[str, str], expected: str
) -> None:
    """IAM User Guide, "Condition operators": a key absent from the request context matches
    only ...IfExists and the negated operators."""
    documents = policy(
        allow(["s3:GetObject"], ["*"], Condition={operator: {"aws:SourceAccount": ACCOUNT_ID}})
    )

    assert evaluate(documents, "s3:GetObject", "arn:aws:s3:::b/k", context) == expected
