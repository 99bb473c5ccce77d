"""The KMS patch: the KMS calls a service makes for a role session are authorised as KMS does.

Per service, a role holding everything the call needs is refused nothing, and the same role
without its KMS statement is refused exactly that call with the service's own error. Each
refusal test also runs against plain moto 5.2.5 as a strict xfail: moto makes no KMS call, so
nothing is refused there and the test's assertion fails.

AWS KMS Developer Guide, "Determining access to an AWS KMS key" and "Key policies in AWS KMS"
(https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html): the key policy
is the primary authority; IAM policies count only where the key policy allows the account
(the default key policy's "Enable IAM User Permissions" statement). "kms:ViaService" and
"kms:CallerAccount" (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html):
set when a service calls KMS on the principal's behalf.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.emulator.support import Aws
from tests.emulator.test_iam import allow, role_session, unique

from local_aws.moto_patches.iam import Principal
from local_aws.moto_patches.kms import Caller, key_policy_decision
from local_aws.moto_server import EmulatorHandle

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.plain_moto_raises(raises=AssertionError),  # plain moto makes no KMS call
]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
ENABLE_IAM = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.fixture
def patched(emulator: EmulatorHandle) -> Aws:
    return Aws(emulator.endpoint)


def create_key(aws: Aws, *statements: dict[str, Any]) -> str:
    policy = {"Version": "2012-10-17", "Statement": list(statements or [ENABLE_IAM])}
    return str(aws.client("kms").create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def via(service: str, **conditions: str) -> dict[str, Any]:
    return {"StringEquals": {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", **conditions}}


def refusal(call: Callable[[], Any]) -> dict[str, Any]:
    """The error of a call that must be refused (an AssertionError when it is not)."""
    try:
        call()
    except ClientError as error:
        return dict(error.response)
    raise AssertionError("the call was not refused")


def kms_denial(action: str, key: str) -> str:
    return f"is not authorized to perform: {action} on resource: {key} "


# --- DynamoDB -------------------------------------------------------------------------------


def encrypted_table(aws: Aws, key: str) -> tuple[str, str]:
    name = unique("table")
    arn = aws.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
    )["TableDescription"]["TableArn"]
    return name, str(arn)


def table_roles(aws: Aws, key: str, table: str, table_arn: str, **conditions: str) -> Any:
    kms = allow(
        ["kms:Decrypt"],
        [key],
        Condition=via(
            "dynamodb",
            **{
                "kms:CallerAccount": ACCOUNT_ID,
                "kms:EncryptionContext:aws:dynamodb:tableName": table,
            },
            **conditions,
        ),
    )
    data = allow(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"], [table_arn])
    return role_session(aws, data, kms)[0], role_session(aws, data)[0]


def test_dynamodb_control_run_with_the_table_key_is_refused_nothing(patched: Aws) -> None:
    """AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS"
    (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html): DynamoDB
    decrypts the table key as the principal who accesses the table, with the encryption context
    aws:dynamodb:tableName and aws:dynamodb:subscriberId."""
    key = create_key(patched)
    table, table_arn = encrypted_table(patched, key)
    granted, _ = table_roles(patched, key, table, table_arn)
    dynamodb = granted("dynamodb")

    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["pk"]["S"] == "a"
    assert (
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "a"}},
        )["Count"]
        == 1
    )


def test_dynamodb_without_the_key_grant_refuses_every_table_call(aws: Aws) -> None:
    """AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS"
    (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html). DynamoDB
    answers a KMS refusal with its own AccessDeniedException naming the KMS failure, as seen in
    aws/aws-cdk#10010 ("KMS key access denied error: ... (Service: AWSKMS; ... Error Code:
    AccessDeniedException)")."""
    key = create_key(aws)
    table, table_arn = encrypted_table(aws, key)
    _, ungranted = table_roles(aws, key, table, table_arn)
    dynamodb = ungranted("dynamodb")

    refused = [
        refusal(lambda: dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})),
        refusal(lambda: dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})),
        refusal(
            lambda: dynamodb.query(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "a"}},
            )
        ),
    ]

    for error in refused:
        assert error["Error"]["Code"] == "AccessDeniedException"
        assert error["Error"]["Message"].startswith("KMS key access denied error: ")
        assert kms_denial("kms:Decrypt", key) in error["Error"]["Message"]
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Item" not in aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "a"}})


def test_dynamodb_grant_for_another_table_does_not_decrypt_this_one(aws: Aws) -> None:
    """The grant's kms:EncryptionContext:aws:dynamodb:tableName names another table: DynamoDB's
    context names this one ("How Amazon DynamoDB uses AWS KMS", DynamoDB encryption context)."""
    key = create_key(aws)
    table, table_arn = encrypted_table(aws, key)
    other, _ = encrypted_table(aws, key)
    client, _ = role_session(
        aws,
        allow(["dynamodb:PutItem"], [table_arn]),
        allow(
            ["kms:Decrypt"],
            [key],
            Condition=via("dynamodb", **{"kms:EncryptionContext:aws:dynamodb:tableName": other}),
        ),
    )

    error = refusal(lambda: client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "a"}}))

    assert kms_denial("kms:Decrypt", key) in error["Error"]["Message"]


def test_key_policy_without_the_account_statement_makes_iam_grants_count_for_nothing(
    aws: Aws,
) -> None:
    """AWS KMS Developer Guide, "Default key policy" (Allows access to the AWS account and enables
    IAM policies): without that statement, IAM policies cannot give access to the key."""
    key = create_key(
        aws,
        {
            "Sid": "AdministratorsOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/administrator"},
            "Action": "kms:*",
            "Resource": "*",
        },
    )
    table, table_arn = encrypted_table(aws, key)
    granted, _ = table_roles(aws, key, table, table_arn)

    error = refusal(lambda: granted("dynamodb").put_item(TableName=table, Item={"pk": {"S": "a"}}))

    assert (
        f"{kms_denial('kms:Decrypt', key)}because no resource-based policy allows the kms:Decrypt"
        in error["Error"]["Message"]
    )


def test_key_policy_naming_the_role_needs_no_iam_grant(patched: Aws) -> None:
    """ "Key policies in AWS KMS": a key policy statement naming a principal allows it by itself."""
    iam = patched.client("iam")
    role = unique("role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    key = create_key(
        patched,
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": via("dynamodb"),
        },
    )
    table, table_arn = encrypted_table(patched, key)
    iam.put_role_policy(
        RoleName=role,
        PolicyName="table",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [allow(["dynamodb:PutItem"], [table_arn])]}
        ),
    )
    credentials = patched.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="session")[
        "Credentials"
    ]
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=patched.endpoint,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})


# --- Kinesis --------------------------------------------------------------------------------


def encrypted_stream(aws: Aws, key: str) -> str:
    kinesis = aws.client("kinesis")
    name = unique("stream")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key)
    return str(
        kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    )


def test_kinesis_producer_without_generate_data_key_gets_kms_access_denied(aws: Aws) -> None:
    """Kinesis Data Streams Developer Guide, "Permissions to use user-generated KMS keys"
    (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html): producers
    need kms:GenerateDataKey, consumers kms:Decrypt; the encryption context is aws:kinesis:arn.
    Kinesis API Reference, PutRecords and GetRecords: KMSAccessDeniedException (HTTP 400)."""
    key = create_key(aws)
    stream = encrypted_stream(aws, key)
    context = {"kms:EncryptionContext:aws:kinesis:arn": stream}
    data = allow(["kinesis:PutRecords", "kinesis:GetShardIterator", "kinesis:GetRecords"], [stream])
    producer, _ = role_session(
        aws, data, allow(["kms:Decrypt"], [key], Condition=via("kinesis", **context))
    )
    consumer, _ = role_session(
        aws, data, allow(["kms:GenerateDataKey"], [key], Condition=via("kinesis", **context))
    )
    name = stream.rsplit("/", 1)[-1]
    aws.client("kinesis").put_record(StreamName=name, Data=b"x", PartitionKey="1")
    iterator = consumer("kinesis").get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    put = refusal(
        lambda: producer("kinesis").put_records(
            StreamName=name, Records=[{"Data": b"x", "PartitionKey": "1"}]
        )
    )
    get = refusal(lambda: consumer("kinesis").get_records(ShardIterator=iterator))

    assert put["Error"]["Code"] == get["Error"]["Code"] == "KMSAccessDeniedException"
    assert kms_denial("kms:GenerateDataKey", key) in put["Error"]["Message"]
    assert kms_denial("kms:Decrypt", key) in get["Error"]["Message"]


def test_kinesis_with_both_grants_is_refused_nothing(patched: Aws) -> None:
    key = create_key(patched)
    stream = encrypted_stream(patched, key)
    context = {"kms:EncryptionContext:aws:kinesis:arn": stream}
    client, _ = role_session(
        patched,
        allow(["kinesis:PutRecords", "kinesis:GetShardIterator", "kinesis:GetRecords"], [stream]),
        allow(["kms:GenerateDataKey", "kms:Decrypt"], [key], Condition=via("kinesis", **context)),
    )
    name = stream.rsplit("/", 1)[-1]
    kinesis = client("kinesis")

    kinesis.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "1"}])
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"x"]


# --- S3 -------------------------------------------------------------------------------------


def encrypted_bucket(aws: Aws, key: str) -> str:
    s3 = aws.client("s3")
    bucket = unique("bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return bucket


def test_s3_with_a_bucket_key_needs_the_grant_for_the_bucket_arn(aws: Aws) -> None:
    """Amazon S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html): uploading
    needs kms:GenerateDataKey, downloading kms:Decrypt; with an S3 Bucket Key the encryption
    context is the bucket's ARN, without one the object's."""
    key = create_key(aws)
    bucket = encrypted_bucket(aws, key)
    objects = allow(["s3:PutObject", "s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"])
    by_bucket, _ = role_session(
        aws,
        objects,
        allow(
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [key],
            Condition=via("s3", **{"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}"}),
        ),
    )
    by_object, _ = role_session(
        aws,
        objects,
        allow(
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [key],
            Condition=via("s3", **{"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}/a"}),
        ),
    )
    without_decrypt, _ = role_session(
        aws, objects, allow(["kms:GenerateDataKey"], [key], Condition=via("s3"))
    )

    by_bucket("s3").put_object(Bucket=bucket, Key="a", Body=b"x")
    assert by_bucket("s3").get_object(Bucket=bucket, Key="a")["Body"].read() == b"x"
    without_decrypt("s3").put_object(Bucket=bucket, Key="b", Body=b"y")
    put = refusal(lambda: by_object("s3").put_object(Bucket=bucket, Key="a", Body=b"x"))
    get = refusal(lambda: without_decrypt("s3").get_object(Bucket=bucket, Key="b"))

    assert put["Error"]["Code"] == get["Error"]["Code"] == "AccessDenied"
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert kms_denial("kms:GenerateDataKey", key) in put["Error"]["Message"]
    assert kms_denial("kms:Decrypt", key) in get["Error"]["Message"]


# --- SQS ------------------------------------------------------------------------------------


def test_sqs_producer_needs_generate_data_key_and_decrypt(aws: Aws) -> None:
    """Amazon SQS Developer Guide, "Key management" (Configure KMS permissions for producers,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html):
    SendMessage triggers kms:GenerateDataKey and kms:Decrypt, ReceiveMessage kms:Decrypt. SQS API
    Reference, SendMessage: KmsAccessDenied (KMS.AccessDeniedException)."""
    key = create_key(aws)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=unique("queue"), Attributes={"KmsMasterKeyId": key})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    send = allow(["sqs:SendMessage"], [arn])
    context = {"kms:EncryptionContext:aws:sqs:arn": arn}
    full, _ = role_session(
        aws,
        send,
        allow(["kms:GenerateDataKey", "kms:Decrypt"], [key], Condition=via("sqs", **context)),
    )
    without_decrypt, _ = role_session(
        aws, send, allow(["kms:GenerateDataKey"], [key], Condition=via("sqs", **context))
    )

    full("sqs").send_message(QueueUrl=url, MessageBody="x")
    error = refusal(lambda: without_decrypt("sqs").send_message(QueueUrl=url, MessageBody="x"))

    assert error["Error"]["Code"] == "KMS.AccessDeniedException"
    assert kms_denial("kms:Decrypt", key) in error["Error"]["Message"]


# --- SSM ------------------------------------------------------------------------------------


def test_ssm_secure_string_needs_encrypt_to_write_and_decrypt_to_read(aws: Aws) -> None:
    """AWS KMS Developer Guide, "How AWS Systems Manager Parameter Store uses AWS KMS"
    (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html): a
    standard SecureString needs kms:Encrypt to write and kms:Decrypt to read, with the
    encryption context PARAMETER_ARN."""
    key = create_key(aws)
    name = f"/{unique('secret')}/token"
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{name}"
    aws.client("ssm").put_parameter(Name=name, Value="v", Type="SecureString", KeyId=key)
    parameter = allow(["ssm:GetParameter", "ssm:PutParameter"], [arn])
    context = {"kms:EncryptionContext:PARAMETER_ARN": arn}
    reader, _ = role_session(
        aws, parameter, allow(["kms:Decrypt"], [key], Condition=via("ssm", **context))
    )
    writer, _ = role_session(
        aws, parameter, allow(["kms:Encrypt"], [key], Condition=via("ssm", **context))
    )

    assert reader("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "v"
    writer("ssm").put_parameter(
        Name=name, Value="w", Type="SecureString", KeyId=key, Overwrite=True
    )
    get = refusal(lambda: writer("ssm").get_parameter(Name=name, WithDecryption=True))
    put = refusal(
        lambda: reader("ssm").put_parameter(
            Name=name, Value="x", Type="SecureString", KeyId=key, Overwrite=True
        )
    )

    assert get["Error"]["Code"] == put["Error"]["Code"] == "AccessDeniedException"
    assert kms_denial("kms:Decrypt", key) in get["Error"]["Message"]
    assert kms_denial("kms:Encrypt", key) in put["Error"]["Message"]
    assert (
        aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "w"
    )


# --- SNS ------------------------------------------------------------------------------------


def test_sns_publisher_needs_generate_data_key_and_decrypt(aws: Aws) -> None:
    """Amazon SNS Developer Guide, "Managing Amazon SNS encryption keys" (Allow a user to send
    messages to a topic with SSE,
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html): kms:GenerateDataKey and
    kms:Decrypt. SNS API Reference, Publish: KMSAccessDenied (HTTP 400)."""
    key = create_key(aws)
    topic = aws.client("sns").create_topic(
        Name=unique("topic"), Attributes={"KmsMasterKeyId": key}
    )["TopicArn"]
    publish = allow(["sns:Publish"], [topic])
    full, _ = role_session(
        aws, publish, allow(["kms:GenerateDataKey", "kms:Decrypt"], [key], Condition=via("sns"))
    )
    without, _ = role_session(aws, publish)

    full("sns").publish(TopicArn=topic, Message="x")
    error = refusal(lambda: without("sns").publish(TopicArn=topic, Message="x"))

    assert error["Error"]["Code"] == "KMSAccessDenied"
    assert kms_denial("kms:GenerateDataKey", key) in error["Error"]["Message"]


# --- Lambda ---------------------------------------------------------------------------------


def test_lambda_creator_needs_create_grant_and_encrypt_for_a_customer_managed_key(
    aws: Aws,
) -> None:
    """AWS Lambda Developer Guide, "Securing environment variables" (Managing permissions to your
    server-side encryption KMS key,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html):
    kms:CreateGrant and kms:Encrypt to configure a customer managed key on a function."""
    key = create_key(aws)
    iam = aws.client("iam")
    execution_role = iam.create_role(RoleName=unique("fn"), AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    creator, _ = role_session(
        aws,
        allow(["lambda:CreateFunction"], ["*"]),
        allow(["iam:PassRole"], [execution_role]),  # Lambda's own requirement, not KMS's
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")

    error = refusal(
        lambda: creator("lambda").create_function(
            FunctionName=unique("fn"),
            Runtime="python3.11",
            Role=execution_role,
            Handler="app.lambda_handler",
            Code={"ZipFile": buffer.getvalue()},
            KMSKeyArn=key,
            Environment={"Variables": {"A": "b"}},
        )
    )

    assert kms_denial("kms:CreateGrant", key) in error["Error"]["Message"]


# --- CloudWatch Logs ------------------------------------------------------------------------


def test_logs_writes_need_the_key_policy_to_allow_cloudwatch_logs(aws: Aws) -> None:
    """Amazon CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the
    key policy must allow the service principal logs.<region>.amazonaws.com, and the encryption
    context is aws:logs:arn, the log group's ARN; this holds whoever writes the events."""
    group = f"/aws/lambda/{unique('fn')}"
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}"
    logs_statement = {
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": group_arn}},
    }
    key = create_key(aws, ENABLE_IAM, logs_statement)
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=group, kmsKeyId=key)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": 1, "message": "a"}]
    )
    aws.client("kms").put_key_policy(
        KeyId=key,
        PolicyName="default",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [ENABLE_IAM]}),
    )

    error = refusal(
        lambda: logs.put_log_events(
            logGroupName=group, logStreamName="s", logEvents=[{"timestamp": 2, "message": "b"}]
        )
    )
    other = refusal(
        lambda: logs.create_log_group(logGroupName=f"/other/{unique('g')}", kmsKeyId=key)
    )

    assert error["Error"]["Code"] == other["Error"]["Code"] == "AccessDeniedException"
    assert group_arn in error["Error"]["Message"]


# --- KMS itself -----------------------------------------------------------------------------


def test_a_direct_kms_call_is_decided_by_the_key_policy_too(aws: Aws) -> None:
    """AWS KMS Developer Guide, "Default key policy": without the statement that allows the
    account, an IAM policy allowing kms:Encrypt on the key does not let the role use it."""
    open_key = create_key(aws)
    closed_key = create_key(
        aws,
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/administrator"},
            "Action": "kms:*",
            "Resource": "*",
        },
    )
    client, _ = role_session(aws, allow(["kms:Encrypt"], [open_key, closed_key]))
    kms = client("kms")

    kms.encrypt(KeyId=open_key, Plaintext=b"x")
    error = refusal(lambda: kms.encrypt(KeyId=closed_key, Plaintext=b"x"))

    assert error["Error"]["Code"] == "AccessDeniedException"
    assert (
        f"{kms_denial('kms:Encrypt', closed_key)}because no resource-based policy allows"
        in error["Error"]["Message"]
    )


# --- the key policy alone ---------------------------------------------------------------------


def decide(policy: list[dict[str, Any]], identity: list[dict[str, Any]]) -> tuple[bool, str]:
    caller = Caller(Principal(ACCOUNT_ID, "worker", "s"), None, REGION, ACCOUNT_ID)
    return key_policy_decision(
        caller,
        key_policy={"Statement": policy},
        identity_policies=[{"Statement": identity}],
        action="kms:Decrypt",
        key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
        context={"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"},
    )


def test_an_explicit_deny_in_the_key_policy_wins_over_every_allow() -> None:
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}

    assert decide([ENABLE_IAM, deny], [allow(["kms:Decrypt"], ["*"])]) == (
        False,
        "with an explicit deny in a resource-based policy",
    )


def test_the_account_statement_alone_grants_nothing_without_an_iam_allow() -> None:
    assert decide([ENABLE_IAM], []) == (
        False,
        "because no identity-based policy allows the kms:Decrypt action",
    )
    assert decide([ENABLE_IAM], [allow(["kms:Decrypt"], ["*"])]) == (True, "")
