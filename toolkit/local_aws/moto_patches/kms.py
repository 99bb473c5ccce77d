"""KMS: the calls AWS services make to KMS for their callers are authorised as KMS authorises them.

A service that stores data under a customer managed key asks KMS for a data key when a caller
writes and to decrypt one when a caller reads, with the caller's own permissions, through the
service (so with `kms:ViaService`), and with the service's encryption context. moto 5.2.5 makes
none of those calls: a role whose policy lacks the KMS grant, or a key policy that does not let
IAM policies count, works locally and fails on AWS. Here, after the `iam` patch has allowed a
role session's request, every KMS call the service would make for it is authorised too:

* DynamoDB: every item read or write (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan,
  the batches and transactions) -> Decrypt, context `aws:dynamodb:tableName` and
  `aws:dynamodb:subscriberId`; CreateTable/UpdateTable naming a key -> DescribeKey, CreateGrant;
* Kinesis: PutRecord(s) -> GenerateDataKey, GetRecords -> Decrypt, context `aws:kinesis:arn`;
* S3: PutObject and CreateMultipartUpload -> GenerateDataKey, GetObject -> Decrypt, context
  `aws:s3:arn` (the bucket's ARN with a bucket key, else the object's);
* SQS: SendMessage(Batch) -> GenerateDataKey and Decrypt, ReceiveMessage -> Decrypt, context
  `aws:sqs:arn`;
* SSM: PutParameter of a SecureString -> Encrypt (GenerateDataKey when Advanced), GetParameter(s)
  and GetParametersByPath WithDecryption -> Decrypt, context `PARAMETER_ARN`;
* SNS: Publish(Batch) -> GenerateDataKey and Decrypt (no documented context);
* Lambda: CreateFunction/UpdateFunctionConfiguration naming a key -> CreateGrant and Encrypt;
* KMS itself: a role's own call naming a key is decided by the key policy too (no
  `kms:ViaService`; `kms:EncryptionContext:*` from the request).

A call is allowed as KMS allows it: an explicit Deny in the key policy or the role's policies
refuses it; else the key policy must allow the role itself, or allow the account (its root
principal) *and* the role's policies must allow the action (so a key policy without the
account-root statement makes IAM grants count for nothing). Statements are evaluated by the
`iam` patch's evaluator with the KMS condition keys `kms:ViaService`, `kms:CallerAccount` and
`kms:EncryptionContext:<key>` set as the service sets them.

CloudWatch Logs uses a log group's key as its service principal (`logs.<region>.amazonaws.com`),
whoever writes: PutLogEvents needs GenerateDataKey and GetLogEvents/FilterLogEvents Decrypt, and
associating a key (CreateLogGroup with `kmsKeyId`, AssociateKmsKey) needs both, all allowed by the
key policy alone with the context `aws:logs:arn`. A refusal answers as the service does
(DynamoDB `AccessDeniedException` naming the KMS failure, Kinesis `KMSAccessDeniedException`, S3
`AccessDenied`, SQS `KMS.AccessDeniedException`, SSM `AccessDeniedException`, SNS
`KMSAccessDenied`, CloudWatch Logs `AccessDeniedException`) and is logged as the IAM patch logs
its refusals, naming the KMS action and the key.

Not checked, and why: AWS managed keys (`aws/<service>`), whose key policies AWS writes to allow
exactly these calls; the administrator's `test` credentials, as in the `iam` patch; grants
(moto does not apply them to authorisation), so what a service does later with the grant it
created (DynamoDB's background work, Lambda decrypting a function's environment at start-up) is
not checked; the caches AWS keeps (DynamoDB's table key and SQS's data key for up to five
minutes, S3's bucket key), so a revoked permission is refused here at once, on AWS within
minutes; the multi-valued `kms:EncryptionContextKeys` and `kms:GrantOperations` keys (the
evaluator compares single values); CopyObject and the parts of a multipart upload.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.kms.models import kms_backends

from local_aws.moto_patches import iam
from local_aws.moto_patches.iam import PARTITION, PolicyDecision, Principal, evaluate

logger = logging.getLogger(__name__)

_DYNAMODB_ITEM_ACTIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


@dataclass(frozen=True)
class KeyUse:
    """The KMS calls a service makes for one request: actions on one key, with their context."""

    service: str
    actions: tuple[str, ...]
    key_arn: str
    encryption_context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    """Who the KMS call is made for: a role session through a service, or a service principal."""

    principal: Principal | None
    service_principal: str | None
    region: str
    account_id: str

    @property
    def arn(self) -> str:
        if self.principal is not None:
            return self.principal.arn
        return str(self.service_principal)


class KeyUseDeniedError(Exception):
    """KMS refused one action on one key; `message` is KMS's wording."""

    def __init__(self, use: KeyUse, action: str, message: str) -> None:
        super().__init__(message)
        self.use = use
        self.action = action
        self.message = message


# --- the key policy -----------------------------------------------------------------------


def _customer_managed_key(account_id: str, region: str, key_id: str | None) -> Any | None:
    """The moto key behind any key identifier, if it is a customer managed key."""
    if not key_id:
        return None
    backend = kms_backends[account_id][region]
    try:
        key = backend.keys[backend.any_id_to_key_id(str(key_id))]
    except Exception:  # noqa: BLE001 - unknown or AWS managed (alias/aws/...): nothing to check
        return None
    return key if getattr(key, "key_manager", "CUSTOMER") == "CUSTOMER" else None


def _principal_entries(statement: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The AWS and Service principals a key policy statement names ("*" is an AWS principal)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"], []
    if not isinstance(principal, Mapping):
        return [], []
    aws = [str(entry) for entry in iam._as_list(principal.get("AWS"))]
    services = [str(entry) for entry in iam._as_list(principal.get("Service"))]
    return aws, services


def _names_role(entry: str, principal: Principal) -> bool:
    role = re.compile(
        rf"^arn:{PARTITION}:iam::{principal.account_id}:role/(?:.*/)?{re.escape(principal.role_name)}$"
    )
    return entry in {"*", principal.arn} or bool(role.match(entry))


def _names_account(entry: str, account_id: str) -> bool:
    return entry in {account_id, f"arn:{PARTITION}:iam::{account_id}:root"}


def _statements(
    policy: Mapping[str, Any], applies: Callable[[list[str], list[str]], bool]
) -> list[dict[str, Any]]:
    """The statements whose Principal `applies`; NotPrincipal statements never apply here."""
    return [
        dict(statement)
        for statement in iam._as_list(policy.get("Statement"))
        if "Principal" in statement and applies(*_principal_entries(statement))
    ]


def key_policy_decision(
    caller: Caller,
    *,
    key_policy: Mapping[str, Any],
    identity_policies: Iterable[Mapping[str, Any]],
    action: str,
    key_arn: str,
    context: Mapping[str, str],
) -> tuple[bool, str]:
    """Whether KMS allows `action` for `caller`, and the reason KMS gives when it does not.

    AWS KMS Developer Guide, "Determining access to AWS KMS keys": the key policy is the primary
    authority; identity policies count only where the key policy allows the account.
    """
    if caller.principal is not None:
        principal = caller.principal
        direct = _statements(
            key_policy, lambda aws, _: any(_names_role(entry, principal) for entry in aws)
        )
        account = _statements(
            key_policy, lambda aws, _: any(_names_account(e, principal.account_id) for e in aws)
        )
        identity = list(identity_policies)
    else:
        service = str(caller.service_principal)
        direct = _statements(key_policy, lambda _, services: service in services)
        account, identity = [], []
    decisions = {
        "resource": evaluate([{"Statement": direct}], action, key_arn, context),
        "account": evaluate([{"Statement": account}], action, key_arn, context),
        "identity": evaluate(identity, action, key_arn, context),
    }
    if decisions["resource"] == PolicyDecision.EXPLICIT_DENY or (
        decisions["account"] == PolicyDecision.EXPLICIT_DENY
    ):
        return False, "with an explicit deny in a resource-based policy"
    if decisions["identity"] == PolicyDecision.EXPLICIT_DENY:
        return False, "with an explicit deny in an identity-based policy"
    if decisions["resource"] == PolicyDecision.ALLOW:
        return True, ""
    if decisions["account"] != PolicyDecision.ALLOW:
        return False, f"because no resource-based policy allows the {action} action"
    if decisions["identity"] != PolicyDecision.ALLOW:
        return False, f"because no identity-based policy allows the {action} action"
    return True, ""


def _kms_context(caller: Caller, use: KeyUse) -> dict[str, str]:
    context = {f"kms:EncryptionContext:{k}": v for k, v in use.encryption_context.items()}
    if caller.principal is not None:
        if use.service != "kms":  # a direct call carries no kms:ViaService
            context["kms:ViaService"] = f"{use.service}.{caller.region}.amazonaws.com"
        context.update(
            {
                "kms:CallerAccount": caller.principal.account_id,
                "aws:PrincipalArn": f"arn:{PARTITION}:iam::{caller.principal.account_id}:role/"
                f"{caller.principal.role_name}",
                "aws:PrincipalAccount": caller.principal.account_id,
            }
        )
    else:
        context["aws:SourceAccount"] = caller.account_id
    context.update({"aws:SecureTransport": "true", "aws:RequestedRegion": caller.region})
    if "CreateGrant" in " ".join(use.actions):
        context["kms:GrantIsForAWSResource"] = "true"
    return context


@lru_cache(maxsize=4096)
def _decision(
    caller: Caller,
    *,
    key_policy: str,
    identity_policies: tuple[str, ...],
    action: str,
    key_arn: str,
    context: frozenset[tuple[str, str]],
) -> tuple[bool, str]:
    """`key_policy_decision` on the documents' texts: a pure function of them, so remembered
    (a service's every call on one table or stream asks the same question)."""
    return key_policy_decision(
        caller,
        key_policy=iam.parsed_document(key_policy),
        identity_policies=[iam.parsed_document(text) for text in identity_policies],
        action=action,
        key_arn=key_arn,
        context=dict(context),
    )


def authorise_key_use(caller: Caller, use: KeyUse) -> None:
    """Raise `KeyUseDenied` for the first of `use`'s actions KMS would refuse `caller`."""
    key = _customer_managed_key(caller.account_id, caller.region, use.key_arn)
    if key is None:
        return
    policy = key.policy if isinstance(key.policy, str) else json.dumps(key.policy)
    identity = (
        iam._role_policy_texts(caller.principal.account_id, caller.principal.role_name)
        if caller.principal is not None
        else ()
    )
    context = frozenset(_kms_context(caller, use).items())
    for action in use.actions:
        allowed, reason = _decision(
            caller,
            key_policy=policy,
            identity_policies=identity,
            action=action,
            key_arn=key.arn,
            context=context,
        )
        if allowed:
            continue
        kind = "User" if caller.principal is not None else "Service"
        message = (
            f"{kind}: {caller.arn} is not authorized to perform: {action} on resource: "
            f"{key.arn} {reason}"
        )
        logger.warning("AccessDenied: %s (KMS call made by %s)", message, use.service)
        raise KeyUseDeniedError(use, action, message)


# --- what each service asks KMS for --------------------------------------------------------


def _key_of(account_id: str, region: str, key_id: str | None) -> str | None:
    key = _customer_managed_key(account_id, region, key_id)
    return None if key is None else str(key.arn)


def _dynamodb(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - moto internals

    backend = dynamodb_backends[caller.account_id][caller.region]
    if action in {"CreateTable", "UpdateTable"}:
        key = _key_of(
            caller.account_id,
            caller.region,
            (body.get("SSESpecification") or {}).get("KMSMasterKeyId"),
        )
        return [KeyUse("dynamodb", ("kms:DescribeKey", "kms:CreateGrant"), key)] if key else []
    if action not in _DYNAMODB_ITEM_ACTIONS:
        return []
    names = set(body.get("RequestItems", {}))
    names |= {
        operation.get("TableName", "")
        for item in body.get("TransactItems", [])
        for operation in item.values()
    }
    if body.get("TableName"):
        names.add(body["TableName"])
    uses = []
    for name in sorted(names):
        table_name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
        sse = _table_encryption(backend, table_name)
        key = _key_of(caller.account_id, caller.region, sse.get("KMSMasterKeyId"))
        if sse.get("Enabled") and key:
            context = {
                "aws:dynamodb:tableName": table_name,
                "aws:dynamodb:subscriberId": caller.account_id,
            }
            uses.append(KeyUse("dynamodb", ("kms:Decrypt",), key, context))
    return uses


def _table_encryption(backend: Any, table_name: str) -> Mapping[str, Any]:
    try:
        return backend.get_table(table_name).sse_specification or {}
    except Exception:  # noqa: BLE001 - no such table: DynamoDB's own error follows
        return {}


def _kinesis(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    from moto.kinesis.models import kinesis_backends  # noqa: PLC0415 - moto internals

    kms_action = {
        "PutRecord": "kms:GenerateDataKey",
        "PutRecords": "kms:GenerateDataKey",
        "GetRecords": "kms:Decrypt",
    }.get(action)
    if kms_action is None:
        return []
    ctx = iam.RequestContext("kinesis", caller.region, caller.account_id)
    stream_arn = iam._kinesis(ctx, action, body)[0][1]
    try:
        stream = kinesis_backends[caller.account_id][caller.region].describe_stream(
            stream_arn=stream_arn, stream_name=None
        )
    except Exception:  # noqa: BLE001 - no such stream: Kinesis's own error follows
        return []
    key = _key_of(caller.account_id, caller.region, stream.key_id)
    if stream.encryption_type != "KMS" or key is None:
        return []
    return [KeyUse("kinesis", (kms_action,), key, {"aws:kinesis:arn": stream.arn})]


def _s3(caller: Caller, action: str, response: Any, target: str) -> list[KeyUse]:
    bucket_name, _, key_name = target.removeprefix(f"arn:{PARTITION}:s3:::").partition("/")
    if not key_name:
        return []
    backend = response.backend
    try:
        bucket = backend.get_bucket(bucket_name)
    except Exception:  # noqa: BLE001 - no such bucket: S3's own error follows
        return []
    if action in {"PutObject", "CreateMultipartUpload"}:
        headers = response.headers
        rule = (bucket.encryption or {}).get("Rule", {})
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        algorithm = headers.get("x-amz-server-side-encryption") or default.get("SSEAlgorithm")
        key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id") or default.get(
            "KMSMasterKeyID"
        )
        bucket_key = headers.get("x-amz-server-side-encryption-bucket-key-enabled") or rule.get(
            "BucketKeyEnabled"
        )
        kms_action = "kms:GenerateDataKey"
    elif action == "GetObject":
        stored = bucket.keys.get(unquote(key_name))
        if stored is None:
            return []
        algorithm, key_id, bucket_key = (
            stored.encryption,
            stored.kms_key_id,
            stored.bucket_key_enabled,
        )
        kms_action = "kms:Decrypt"
    else:
        return []
    key = _key_of(caller.account_id, caller.region, key_id)
    if algorithm != "aws:kms" or key is None:
        return []
    with_bucket_key = str(bucket_key).lower() == "true"
    arn = f"arn:{PARTITION}:s3:::{bucket_name}" + ("" if with_bucket_key else f"/{key_name}")
    return [KeyUse("s3", (kms_action,), key, {"aws:s3:arn": arn})]


def _sqs(caller: Caller, action: str, queue_arn: str) -> list[KeyUse]:
    from moto.sqs.models import sqs_backends  # noqa: PLC0415 - moto internals

    actions = {
        "SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
        "SendMessageBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
        "ReceiveMessage": ("kms:Decrypt",),
    }.get(action)
    if actions is None or not queue_arn.startswith("arn:"):
        return []
    try:
        queue = sqs_backends[caller.account_id][caller.region].get_queue(queue_arn.split(":")[5])
    except Exception:  # noqa: BLE001 - no such queue: SQS's own error follows
        return []
    key = _key_of(caller.account_id, caller.region, getattr(queue, "kms_master_key_id", None))
    return [KeyUse("sqs", actions, key, {"aws:sqs:arn": queue_arn})] if key else []


def _ssm(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    from moto.ssm.models import ssm_backends  # noqa: PLC0415 - moto internals

    backend = ssm_backends[caller.account_id][caller.region]

    def arn(name: str) -> str:
        return (
            f"arn:{PARTITION}:ssm:{caller.region}:{caller.account_id}:parameter/{name.lstrip('/')}"
        )

    if action == "PutParameter":
        if body.get("Type") != "SecureString":
            return []
        key = _key_of(caller.account_id, caller.region, body.get("KeyId"))
        kms_action = "kms:GenerateDataKey" if body.get("Tier") == "Advanced" else "kms:Encrypt"
        name = str(body.get("Name", ""))
        return [KeyUse("ssm", (kms_action,), key, {"PARAMETER_ARN": arn(name)})] if key else []
    if action not in {"GetParameter", "GetParameters", "GetParametersByPath"}:
        return []
    if not body.get("WithDecryption"):
        return []
    if action == "GetParametersByPath":
        path = str(body.get("Path", "/")).rstrip("/") + "/"
        recursive = bool(body.get("Recursive"))
        names = [
            name
            for name in backend._parameters
            if name.startswith(path) and (recursive or "/" not in name[len(path) :])
        ]
    else:
        names = [str(name) for name in iam._as_list(body.get("Names") or body.get("Name"))]
    uses = []
    for name in names:
        parameter = backend.get_parameter(name.split(":")[0])
        if parameter is None or parameter.parameter_type != "SecureString":
            continue
        key = _key_of(caller.account_id, caller.region, parameter.keyid)
        if key:
            uses.append(KeyUse("ssm", ("kms:Decrypt",), key, {"PARAMETER_ARN": arn(name)}))
    return uses


def _sns(caller: Caller, action: str, data: Mapping[str, Any]) -> list[KeyUse]:
    from moto.sns.models import sns_backends  # noqa: PLC0415 - moto internals

    if action not in {"Publish", "PublishBatch"}:
        return []
    topics = iam._as_list(data.get("TopicArn"))
    if not topics:
        return []
    try:
        topic = sns_backends[caller.account_id][caller.region].get_topic(str(topics[0]))
    except Exception:  # noqa: BLE001 - no such topic: SNS's own error follows
        return []
    key = _key_of(caller.account_id, caller.region, topic.kms_master_key_id)
    return [KeyUse("sns", ("kms:GenerateDataKey", "kms:Decrypt"), key)] if key else []


def _lambda(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    if not action.startswith(("CreateFunction", "UpdateFunctionConfiguration")):
        return []
    key = _key_of(caller.account_id, caller.region, body.get("KMSKeyArn"))
    return [KeyUse("lambda", ("kms:CreateGrant", "kms:Encrypt"), key)] if key else []


def _kms(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    """A role's own call to KMS naming a key: the key policy decides as well."""
    key = _key_of(caller.account_id, caller.region, body.get("KeyId"))
    if key is None:
        return []
    context = body.get("EncryptionContext") or {}
    return [KeyUse("kms", (f"kms:{action}",), key, {str(k): str(v) for k, v in context.items()})]


def _logs(caller: Caller, action: str, body: Mapping[str, Any]) -> list[KeyUse]:
    """CloudWatch Logs uses the group's key as its own service principal, for any writer."""
    from moto.logs.models import logs_backends  # noqa: PLC0415 - moto internals

    group_name = str(body.get("logGroupName", ""))
    if action in {"CreateLogGroup", "AssociateKmsKey"}:
        key_id = body.get("kmsKeyId")
        actions: tuple[str, ...] = ("kms:GenerateDataKey", "kms:Decrypt")
    elif action in {"PutLogEvents", "GetLogEvents", "FilterLogEvents"}:
        group = logs_backends[caller.account_id][caller.region].groups.get(group_name)
        key_id = getattr(group, "kms_key_id", None)
        actions = ("kms:GenerateDataKey",) if action == "PutLogEvents" else ("kms:Decrypt",)
    else:
        return []
    key = _key_of(caller.account_id, caller.region, key_id)
    group_arn = f"arn:{PARTITION}:logs:{caller.region}:{caller.account_id}:log-group:{group_name}"
    return [KeyUse("logs", actions, key, {"aws:logs:arn": group_arn})] if key else []


# --- the answer ---------------------------------------------------------------------------


class _JsonError(JsonRESTError):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message)
        self.code = status


class _XmlError(_RESTError):
    code = 400


def service_error(service: str, denied: KeyUseDeniedError, resource: str) -> Exception:
    """The error the service answers a refused KMS call with."""
    kms = f"{denied.message} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)"
    errors: dict[str, Callable[[], Exception]] = {
        "dynamodb": lambda: _JsonError(
            "AccessDeniedException", f"KMS key access denied error: {kms}", 400
        ),
        "kinesis": lambda: _JsonError("KMSAccessDeniedException", denied.message, 400),
        "s3": lambda: iam._S3AccessDeniedError(denied.message),
        # SQS's JSON protocol answers KmsAccessDenied with the query-compatible code
        # KMS.AccessDeniedException, the code SDKs report; moto's authorisation hook can set
        # the body only, so the body names that code.
        "sqs": lambda: _JsonError("KMS.AccessDeniedException", denied.message, 400),
        "sns": lambda: _XmlError("KMSAccessDenied", denied.message),
        "logs": lambda: _JsonError(
            "AccessDeniedException",
            f"The specified KMS key does not exist or is not allowed to be used with Arn "
            f"'{resource}'",
            400,
        ),
        "lambda": lambda: _JsonError("AccessDeniedException", denied.message, 403),
        "kms": lambda: _JsonError("AccessDeniedException", denied.message, 400),
    }
    build = errors.get(service)
    return build() if build else _JsonError("AccessDeniedException", kms, 400)


# --- the hook -----------------------------------------------------------------------------


def _uses(response: Any, caller: Caller, service: str, moto_resource: str) -> list[KeyUse]:
    action = response._get_action()
    if service == "logs":
        return _logs(caller, action, iam._json_body(response))
    if caller.principal is None:
        return []
    builders: dict[str, Callable[[], list[KeyUse]]] = {
        "dynamodb": lambda: _dynamodb(caller, action, iam._json_body(response)),
        "kinesis": lambda: _kinesis(caller, action, iam._json_body(response)),
        "ssm": lambda: _ssm(caller, action, iam._json_body(response)),
        "lambda": lambda: _lambda(caller, action, iam._json_body(response)),
        "kms": lambda: _kms(caller, action, iam._json_body(response)),
        "sqs": lambda: _sqs(caller, action, moto_resource),
        "sns": lambda: _sns(caller, action, response.querystring),
    }
    build = builders.get(service)
    return build() if build else []


def _caller(headers: Mapping[str, str], account_id: str, service: str) -> Caller | None:
    """Whom the service calls KMS for: the role session, or (CloudWatch Logs) itself."""
    found = iam._principal(headers, account_id)
    if service == "logs":
        signed = iam._CREDENTIAL.search(headers.get("Authorization", ""))
        region = found[1] if found else (signed.group(2) if signed else "us-east-1")
        return Caller(None, f"logs.{region}.amazonaws.com", region, account_id)
    if found is None:
        return None
    principal, region = found
    return Caller(principal, None, region, principal.account_id)


def _check(response: Any, moto_resource: str, s3_action: str | None = None) -> None:
    service = "s3" if s3_action is not None else iam._signing_service(response.headers)
    caller = _caller(response.headers, response.current_account, service)
    if caller is None:
        return
    if s3_action is not None:
        uses = _s3(caller, s3_action, response, moto_resource)
    else:
        uses = _uses(response, caller, service, moto_resource)
    for use in uses:
        try:
            authorise_key_use(caller, use)
        except KeyUseDeniedError as denied:
            resource = use.encryption_context.get("aws:logs:arn", use.key_arn)
            raise service_error(service, denied, resource) from None


def authorize_normal_action(self: Any, resource: str = "*") -> None:
    iam.authorize_normal_action(self, resource)
    _check(self, resource)


def authorize_s3_action(
    self: Any, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    iam.authorize_s3_action(self, bucket_name, key_name)
    if iam._principal(self.headers, self.current_account) is None:
        return
    target = f"arn:{PARTITION}:s3:::{bucket_name or '*'}/{key_name or ''}"
    _check(self, target, s3_action=str(self.data.get("Action")))


def apply() -> None:
    """Install after `iam`: these checks follow its identity-policy checks."""
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize_normal_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3_action  # type: ignore[method-assign]
