"""IAM: a request signed with a role's temporary credentials is authorised as AWS authorises it.

The local runtime gives every function, the event source mapping and Firehose the credentials of
the role AWS would use (`sts:AssumeRole` of the role Terraform created). moto 5.2.5 can evaluate
identity policies (`INITIAL_NO_AUTH_ACTION_COUNT`), but then it authenticates every request,
the administrator's `test` key included, checks every non-S3 request against the resource `*`
(so a least-privilege policy, which names its resources, allows nothing), treats an Allow whose
condition does not hold as an explicit Deny, and answers `AccessDenied` without the resource in
the IAM query API's XML whatever the service's protocol.

Here, for a request signed with an access key the emulator's STS issued:

* the action is the IAM action (`lambda:InvokeFunction` for Invoke, `sqs:SendMessage` for
  SendMessageBatch);
* the resource is the ARN of what the request acts on (table or index, stream, object, parameter,
  key, queue, topic, function, log stream, delivery stream, Glue catalog, database and table);
  a service without resource-level
  permissions, or an action not listed here, is checked against `*`;
* the role's inline and attached policies decide: an explicit Deny wins, else an Allow whose
  action, resource and conditions match is needed. Conditions support the String, Arn, Bool and
  Null operators (with `IfExists`); a key the request does not carry does not match, except for
  the negated operators, as in AWS;
* a refusal answers as the service does: `AccessDeniedException` in JSON (`AccessDenied` in XML
  for S3 and the query protocols), naming principal, action and resource.
* the same (action, resource) pairs, for every caller, go to the call log when one is kept
  (`local_aws.call_log`), with the permission-only actions a request implies (`iam:PassRole` for
  a function's or a delivery stream's role, the log-delivery actions of an API stage's access
  logs) and S3's IAM action names where moto's differ (`?encryption` is not `ListBucket`).

The check replaces moto's `ActionAuthenticatorMixin._authenticate_and_authorize_*_action`
(private, but the one place every moto response passes before it acts; moto has no public hook)
and reads the action with the response's `_get_action`, as moto's own check does.

Not checked, and why: requests signed with any other key (the administrator's `test`/`test`,
which Terraform, the CLI and the tests use) are not restricted, as an account's administrator
is not. Signatures are not verified (the emulator answers loopback only). Resource policies,
SCPs and permission boundaries are not evaluated here; key policies are, by the `kms` patch
that follows this one (a role's own KMS calls, and those a service makes on its behalf). A
direct KMS call carries no `kms:ViaService`, so one from a role whose KMS grant requires it is
refused, as AWS refuses it.
DynamoDB transactions are not authorised per item, as AWS does, because the stack makes none:
a role's `TransactWriteItems` is checked as that action on `*`, which no policy of the stack
grants, so it is refused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.exceptions import S3ClientError
from moto.sts.models import sts_backends

from local_aws import call_log

logger = logging.getLogger(__name__)

PARTITION = "aws"
SECURITY_TOKEN_HEADER = "X-Amz-Security-Token"  # noqa: S105 - a header name
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/")

# API operation -> IAM action, where they differ.
_IAM_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeAsync": "lambda:InvokeFunction",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
}
# Services whose protocols (REST-XML, query) answer errors in XML; the others in JSON.
_XML_SERVICES = frozenset({"s3", "sns", "sts", "iam", "cloudformation", "ec2", "elasticache"})
_FORBIDDEN_STATUS = {"lambda": 403, "s3": 403, "sqs": 403}


@dataclass(frozen=True)
class Principal:
    """The assumed-role session a request is signed with."""

    account_id: str
    role_name: str
    session_name: str

    @property
    def arn(self) -> str:
        return (
            f"arn:{PARTITION}:sts::{self.account_id}:assumed-role/"
            f"{self.role_name}/{self.session_name}"
        )


@dataclass(frozen=True)
class RequestContext:
    """Where the request comes from and goes to: what ARNs are built with."""

    service: str
    region: str
    account_id: str


class PolicyDecision:
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


# --- policy evaluation --------------------------------------------------------------------


@lru_cache(maxsize=512)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's `*` and `?` wildcards; everything else literal."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _matches_any(patterns: Iterable[str], value: str, *, ignore_case: bool) -> bool:
    return any(_wildcard(str(pattern), ignore_case).match(value) for pattern in patterns)


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    """One condition key of one operator, as the IAM policy evaluation logic defines it."""
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists").split(":")[-1]  # ForAnyValue:/ForAllValues: on scalars
    wanted = [str(value) for value in _as_list(expected)]
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if base == "Null":
        return (actual is None) == ("true" in {value.lower() for value in wanted})
    negated = "Not" in base
    if actual is None:
        return if_exists or negated
    comparisons: dict[str, Callable[[], bool]] = {
        "StringEquals": lambda: actual in wanted,
        "StringEqualsIgnoreCase": lambda: actual.lower() in {w.lower() for w in wanted},
        "StringLike": lambda: _matches_any(wanted, actual, ignore_case=False),
        "ArnEquals": lambda: _matches_any(wanted, actual, ignore_case=False),
        "ArnLike": lambda: _matches_any(wanted, actual, ignore_case=False),
        "Bool": lambda: actual.lower() in {w.lower() for w in wanted},
    }
    positive = base.replace("Not", "")
    compare = comparisons.get(positive)
    if compare is None:
        logger.warning("IAM condition operator %s is not evaluated: condition fails", operator)
        return False
    return compare() != negated


def _conditions_hold(conditions: Mapping[str, Any] | None, context: Mapping[str, str]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, entries in (conditions or {}).items()
        for key, expected in entries.items()
    )


def _statement_applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> bool:
    if "NotAction" in statement:
        if _matches_any(_as_list(statement["NotAction"]), action, ignore_case=True):
            return False
    elif not _matches_any(_as_list(statement.get("Action")), action, ignore_case=True):
        return False
    if "NotResource" in statement:
        if _matches_any(_as_list(statement["NotResource"]), resource, ignore_case=False):
            return False
    elif not _matches_any(_as_list(statement.get("Resource")), resource, ignore_case=False):
        return False
    return _conditions_hold(statement.get("Condition"), context)


def evaluate(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> str:
    """The decision identity policies give for one action on one resource."""
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement")):
            if not _statement_applies(statement, action, resource, context or {}):
                continue
            if statement.get("Effect") == "Deny":
                return PolicyDecision.EXPLICIT_DENY
            allowed = allowed or statement.get("Effect") == "Allow"
    return PolicyDecision.ALLOW if allowed else PolicyDecision.IMPLICIT_DENY


def _role_policy_texts(account_id: str, role_name: str) -> tuple[str, ...]:
    """The role's inline and attached policy documents as stored; none for a deleted role."""
    backend = iam_backends[account_id][PARTITION]
    try:
        role = backend.get_role(role_name)
    except Exception:  # noqa: BLE001 - moto's NotFoundException: a deleted role grants nothing
        return ()
    documents: list[Any] = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents += [version.document for version in policy.versions if version.is_default]
    return tuple(doc if isinstance(doc, str) else json.dumps(doc) for doc in documents)


@lru_cache(maxsize=1024)
def parsed_document(text: str) -> dict[str, Any]:
    """A policy document parsed once per text; read only (every request shares it)."""
    return dict(json.loads(text))


def _role_policies(account_id: str, role_name: str) -> list[dict[str, Any]]:
    """The role's inline and attached policy documents; none for a role that no longer exists."""
    return [parsed_document(text) for text in _role_policy_texts(account_id, role_name)]


# --- who is asking ------------------------------------------------------------------------


def _principal(headers: Mapping[str, str], account_id: str) -> tuple[Principal, str] | None:
    """The assumed-role session that signed the request (and the signing region), if any."""
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    if match is None:
        return None
    access_key_id, region = match.group(1), match.group(2)
    if not access_key_id.startswith("ASIA"):
        return None
    for assumed in sts_backends[account_id][PARTITION].assumed_roles:
        if assumed.access_key_id == access_key_id:
            if headers.get(SECURITY_TOKEN_HEADER) != assumed.session_token:
                return None
            arn_account = assumed.role_arn.split(":")[4] or account_id
            principal = Principal(
                arn_account, assumed.role_arn.split("/")[-1], assumed.session_name
            )
            return principal, region
    return None


# --- what is asked for --------------------------------------------------------------------


def _json_body(response: Any) -> dict[str, Any]:
    """The request's JSON parameters, as sent (some handlers replace `body` with parsed ones);
    parsed once per request (the `kms` patch reads them too)."""
    parsed = getattr(response, "_authorisation_json_body", None)
    if isinstance(parsed, dict):
        return parsed
    try:
        body = json.loads(getattr(response, "raw_body", None) or "{}")
    except (TypeError, ValueError):
        body = {}
    parsed = body if isinstance(body, dict) else {}
    response._authorisation_json_body = parsed
    return parsed


def _dynamodb(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    def table(name: str, index: str | None = None) -> str:
        if name.startswith("arn:"):
            arn = name
        else:
            arn = f"arn:{PARTITION}:dynamodb:{ctx.region}:{ctx.account_id}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if action in {"BatchWriteItem", "BatchGetItem"}:
        return [(f"dynamodb:{action}", table(name)) for name in body.get("RequestItems", {})]
    if "TableName" in body:
        return [(f"dynamodb:{action}", table(body["TableName"], body.get("IndexName")))]
    return [(f"dynamodb:{action}", "*")]


def _kinesis(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    arn = body.get("StreamARN")
    name = body.get("StreamName")
    if not arn and not name and body.get("ShardIterator"):
        name = _stream_of_iterator(str(body["ShardIterator"]))
    if not arn and name:
        arn = f"arn:{PARTITION}:kinesis:{ctx.region}:{ctx.account_id}:stream/{name}"
    checks = [(f"kinesis:{action}", str(arn or "*"))]
    if action in {"StartStreamEncryption", "StopStreamEncryption"} and body.get("KeyId"):
        # Authorised on the stream and on the key ("Actions, resources, and condition keys for
        # Amazon Kinesis Data Streams").
        checks += [(f"kinesis:{action}", key) for _, key in _kms(ctx, action, body)]
    return checks


def _stream_of_iterator(iterator: str) -> str | None:
    from moto.kinesis.utils import decompose_shard_iterator  # noqa: PLC0415 - moto private

    try:
        return decompose_shard_iterator(iterator)[0]
    except Exception:  # noqa: BLE001 - a malformed iterator: moto's handler rejects it
        return None


def _ssm(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    def parameter(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:{PARTITION}:ssm:{ctx.region}:{ctx.account_id}:parameter/{name.lstrip('/')}"

    names = _as_list(body.get("Names")) or _as_list(body.get("Name")) or _as_list(body.get("Path"))
    return [(f"ssm:{action}", parameter(str(name))) for name in names] or [(f"ssm:{action}", "*")]


def _kms(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    key_id = body.get("KeyId")
    if not key_id:
        return [(f"kms:{action}", "*")]
    backend = kms_backends[ctx.account_id][ctx.region]
    try:
        raw_id = backend.any_id_to_key_id(str(key_id))
    except Exception:  # noqa: BLE001 - unknown key: checked against its alias/ID ARN form
        raw_id = str(key_id).rsplit("/", 1)[-1]
    return [(f"kms:{action}", f"arn:{PARTITION}:kms:{ctx.region}:{ctx.account_id}:key/{raw_id}")]


def _logs(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    group = body.get("logGroupName")
    if not group:
        return [(f"logs:{action}", "*")]
    arn = f"arn:{PARTITION}:logs:{ctx.region}:{ctx.account_id}:log-group:{group}"
    if body.get("logStreamName"):
        arn += f":log-stream:{body['logStreamName']}"
    return [(f"logs:{action}", arn)]


def _firehose(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    name = body.get("DeliveryStreamName")
    arn = f"arn:{PARTITION}:firehose:{ctx.region}:{ctx.account_id}:deliverystream/{name}"
    return [(f"firehose:{action}", arn if name else "*")]


def _glue(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A Data Catalog read needs the catalog, the database and (for a table) the table: AWS Glue
    developer guide, "Specifying AWS Glue resource ARNs" (GetTable: catalog, database, table)."""
    database = body.get("DatabaseName") or (body.get("Name") if "Database" in action else None)
    if not database:
        return [(f"glue:{action}", "*")]
    catalog = f"arn:{PARTITION}:glue:{ctx.region}:{body.get('CatalogId') or ctx.account_id}"
    checks = [
        (f"glue:{action}", f"{catalog}:catalog"),
        (f"glue:{action}", f"{catalog}:database/{database}"),
    ]
    table = body.get("TableName") or (body.get("Name") if "Table" in action else None)
    if table:
        checks.append((f"glue:{action}", f"{catalog}:table/{database}/{table}"))
    return checks


def _lambda(ctx: RequestContext, action: str, path: str) -> list[tuple[str, str]]:
    mapping = re.search(r"/event-source-mappings/([^/?]+)", path)
    if mapping is not None:
        arn = f"arn:{PARTITION}:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:"
        return [(f"lambda:{action}", arn + mapping.group(1))]
    tagged = re.search(r"/tags/(arn[^?]+)", path)
    if tagged is not None:
        return [(f"lambda:{action}", unquote(tagged.group(1)))]
    match = re.search(r"/functions/([^/?]+)", path)
    if match is None:
        return [(f"lambda:{action}", "*")]
    name = unquote(match.group(1))
    if not name.startswith("arn:"):
        name = f"arn:{PARTITION}:lambda:{ctx.region}:{ctx.account_id}:function:{name}"
    return [(f"lambda:{action}", name)]


def _sns(ctx: RequestContext, action: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    topic = _as_list(data.get("TopicArn"))
    return [(f"sns:{action}", str(topic[0]) if topic else "*")]


def _apigateway(ctx: RequestContext, method: str, path: str) -> list[tuple[str, str]]:
    """API Gateway authorises the HTTP method on the resource path (`/v2` is not part of it)."""
    resource_path = path.removeprefix("/v2") or "/"
    return [(f"apigateway:{method}", f"arn:{PARTITION}:apigateway:{ctx.region}::{resource_path}")]


# What a request implies besides its own action: permissions AWS checks on the caller for
# something the request hands over to a service. Lambda and Firehose check iam:PassRole on the
# role they are given ("Granting a user permissions to pass a role to an AWS service",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html); API Gateway
# checks the log-delivery actions on the caller when a stage gets access logs ("Configure
# logging for HTTP APIs in API Gateway",
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html).
# Application Auto Scaling creates a target service's service-linked role on the first
# RegisterScalableTarget, with the caller's iam:CreateServiceLinkedRole ("Permissions required to
# create a service-linked role",
# https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html).
_ACCESS_LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:CreateLogGroup",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
)


_SCALING_ROLES = {
    "dynamodb": "aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
}
"""The service-linked role (path and name) of each namespace the stack scales ("Service-linked
roles for Application Auto Scaling")."""


def _passed_roles(value: Any) -> Iterable[str]:
    """Every role ARN in a request body (`Role`, `RoleARN`, ... at any depth)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in {"role", "rolearn"} and isinstance(item, str):
                yield item
            else:
                yield from _passed_roles(item)
    elif isinstance(value, list):
        for item in value:
            yield from _passed_roles(item)


def implied(response: Any, ctx: RequestContext, action: str) -> list[tuple[str, str]]:
    """The permission-only actions a request needs besides its own (see above)."""
    if (ctx.service, action) in {
        ("lambda", "CreateFunction"),
        ("lambda", "UpdateFunctionConfiguration"),
        ("firehose", "CreateDeliveryStream"),
        ("firehose", "UpdateDestination"),
    }:
        return [("iam:PassRole", role) for role in sorted(set(_passed_roles(_json_body(response))))]
    if (
        ctx.service == "apigateway"
        and response.method in {"POST", "PATCH"}
        and "/stages" in response.path
        and "accessLogSettings" in str(getattr(response, "body", ""))
    ):
        return [(log_action, "*") for log_action in _ACCESS_LOG_DELIVERY_ACTIONS]
    if (ctx.service, action) == ("application-autoscaling", "RegisterScalableTarget"):
        role = _SCALING_ROLES.get(_json_body(response).get("ServiceNamespace", ""))
        if role is not None:
            return [("iam:CreateServiceLinkedRole", f"arn:aws:iam::{ctx.account_id}:role/{role}")]
    return []


def _s3_action(method: str, query: Mapping[str, Any], is_object: bool, fallback: str) -> str:
    """The IAM action of an S3 request, where moto 5.2.5's names are not IAM's (it reads
    `?encryption`, `?publicAccessBlock`, `?ownershipControls`... as `ListBucket`)."""
    subresources = {
        "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration"),
        "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
        "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls"),
        "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration"),
        "replication": ("GetReplicationConfiguration", "PutReplicationConfiguration"),
        "requestPayment": ("GetBucketRequestPayment", "PutBucketRequestPayment"),
        "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration"),
        "policy": ("GetBucketPolicy", "PutBucketPolicy"),
        "versioning": ("GetBucketVersioning", "PutBucketVersioning"),
        "tagging": ("GetBucketTagging", "PutBucketTagging"),
        "acl": ("GetBucketAcl", "PutBucketAcl"),
        "cors": ("GetBucketCORS", "PutBucketCORS"),
        "website": ("GetBucketWebsite", "PutBucketWebsite"),
        "logging": ("GetBucketLogging", "PutBucketLogging"),
        "accelerate": ("GetAccelerateConfiguration", "PutAccelerateConfiguration"),
        "notification": ("GetBucketNotification", "PutBucketNotification"),
        "location": ("GetBucketLocation", "GetBucketLocation"),
        "versions": ("ListBucketVersions", "ListBucketVersions"),
    }
    if is_object:
        return _s3_object_action(method, query, fallback)
    named = [
        "DeleteBucketPolicy"
        if (method, name) == ("DELETE", "policy")
        else read
        if method in {"GET", "HEAD"}
        else write
        for name, (read, write) in subresources.items()
        if name in query
    ]
    if named:
        return named[0]
    if method == "POST" and "delete" in query:
        return "DeleteObject"
    return "ListBucket" if method in {"GET", "HEAD"} else fallback


def _s3_object_action(method: str, query: Mapping[str, Any], fallback: str) -> str:
    versioned = "versionId" in query
    if method == "DELETE":
        return "DeleteObjectVersion" if versioned else "DeleteObject"
    if method in {"GET", "HEAD"} and "tagging" not in query and "acl" not in query:
        return "GetObjectVersion" if versioned else "GetObject"
    return fallback


def _parameters(response: Any) -> dict[str, Any]:
    """The request's parameters, JSON body and query string (first values) together."""
    query = {
        str(name): values[0] if isinstance(values, list) and values else values
        for name, values in (getattr(response, "querystring", None) or {}).items()
    }
    return {**query, **_json_body(response)}


def _glue_named_arns(ctx: RequestContext, params: Mapping[str, Any]) -> list[str]:
    """Glue authorises the catalog, the database and the table a request names."""

    def arn(rest: str) -> str:
        return f"arn:{PARTITION}:glue:{ctx.region}:{ctx.account_id}:{rest}"

    database_input = params.get("DatabaseInput") or {}
    table_input = params.get("TableInput") or {}
    database = params.get("DatabaseName") or database_input.get("Name")
    table = params.get("TableName") or table_input.get("Name")
    if database is None:
        database = params.get("Name")
    elif table is None:
        table = params.get("Name")
    if database is None:
        return []
    resources = [arn("catalog"), arn(f"database/{database}")]
    return resources + ([arn(f"table/{database}/{table}")] if table else [])


# Per service, the parameters that name what a request acts on and the ARN each one makes; the
# first found decides, except where AWS authorises every resource named (all alarms, alias and key).
_NAME_PARAMETERS: dict[str, dict[str, str]] = {
    "iam": {
        "RoleName": "arn:{partition}:iam::{account}:role/{name}",
        "PolicyArn": "{name}",
        "UserName": "arn:{partition}:iam::{account}:user/{name}",
    },
    "events": {
        "Rule": "arn:{partition}:events:{region}:{account}:rule/{name}",
        "Name": "arn:{partition}:events:{region}:{account}:rule/{name}",
    },
    "athena": {"WorkGroup": "arn:{partition}:athena:{region}:{account}:workgroup/{name}"},
    "monitoring": {
        "AlarmName": "arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}",
        "AlarmNames": "arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}",
        "DashboardName": "arn:{partition}:cloudwatch::{account}:dashboard/{name}",
        "DashboardNames": "arn:{partition}:cloudwatch::{account}:dashboard/{name}",
    },
    "sns": {"Name": "arn:{partition}:sns:{region}:{account}:{name}"},
    "sqs": {
        "QueueName": "arn:{partition}:sqs:{region}:{account}:{name}",
        "QueueUrl": "arn:{partition}:sqs:{region}:{account}:{name}",
    },
    "kms": {
        "AliasName": "arn:{partition}:kms:{region}:{account}:{name}",
        "TargetKeyId": "arn:{partition}:kms:{region}:{account}:key/{name}",
    },
    "lambda": {"FunctionName": "arn:{partition}:lambda:{region}:{account}:function:{name}"},
    "ssm": {"ResourceId": "arn:{partition}:ssm:{region}:{account}:parameter/{name}"},
}
_EVERY_NAMED_RESOURCE = frozenset({"monitoring", "kms", "athena"})


def _parameter_values(params: Mapping[str, Any], name: str) -> list[str]:
    """A parameter's values: a JSON scalar or list, or the query protocol's `Name.member.N`."""
    members = [value for key, value in params.items() if key.startswith(f"{name}.member.")]
    return [str(value) for value in _as_list(params.get(name)) + members if value]


def _athena_workgroups(ctx: RequestContext, params: Mapping[str, Any]) -> list[str]:
    """The workgroups of the named queries or query executions a request names by id: Athena
    authorises those calls on the workgroup."""
    from moto.athena.models import athena_backends  # noqa: PLC0415 - only Athena requests need it

    backend = athena_backends[ctx.account_id][ctx.region]
    found = [
        objects[identifier].workgroup
        for name, objects in (
            ("NamedQueryId", backend.named_queries),
            ("QueryExecutionId", backend.executions),
        )
        for identifier in _parameter_values(params, name) + _parameter_values(params, name + "s")
        if identifier in objects
    ]
    return sorted({str(getattr(workgroup, "name", workgroup)) for workgroup in found})


def _resource_name(service: str, parameter: str, value: str) -> str:
    """The name an ARN template takes from a parameter's value."""
    if service == "ssm":
        return value.lstrip("/")
    if parameter == "QueueUrl":
        return value.rstrip("/").rsplit("/", 1)[-1]
    return value


def _named_resources(ctx: RequestContext, action: str, params: Mapping[str, Any]) -> list[str]:
    """The ARNs of what a request names, for the services and actions the builders above leave
    at `*` (creations, tags, IAM, EventBridge, Glue, Athena, CloudWatch)."""
    explicit = params.get("ResourceArn") or params.get("ResourceARN") or params.get("resourceArn")
    if explicit:
        return [str(explicit)]
    if ctx.service == "glue":
        return _glue_named_arns(ctx, params)
    if ctx.service == "athena" and not params.get("WorkGroup"):
        params = {**params, "WorkGroup": _athena_workgroups(ctx, params)}
    templates = dict(_NAME_PARAMETERS.get(ctx.service, {}))
    if ctx.service == "athena" and action.endswith("WorkGroup"):
        templates["Name"] = templates["WorkGroup"]
    resources = [
        template.format(
            partition=PARTITION,
            region=ctx.region,
            account=ctx.account_id,
            name=_resource_name(ctx.service, key, value),
        )
        for key, template in templates.items()
        for value in _parameter_values(params, key)
    ]
    return resources if ctx.service in _EVERY_NAMED_RESOURCE else resources[:1]


# Signing names that are not the IAM service prefix.
_IAM_PREFIXES = {"monitoring": "cloudwatch"}


def requested(response: Any, ctx: RequestContext, moto_resource: str) -> list[tuple[str, str]]:
    """Every (IAM action, resource ARN) pair the request needs, per service."""
    if ctx.service == "apigateway":
        return _apigateway(ctx, response.method, response.path) + implied(response, ctx, "")
    action = response._get_action()
    if ctx.service == "lambda":
        checks = _lambda(ctx, action, response.path)
    elif ctx.service in {"dynamodb", "kinesis", "ssm", "kms", "logs", "firehose", "glue"}:
        builders = {
            "glue": _glue,
            "dynamodb": _dynamodb,
            "kinesis": _kinesis,
            "ssm": _ssm,
            "kms": _kms,
            "logs": _logs,
            "firehose": _firehose,
        }
        checks = builders[ctx.service](ctx, action, _json_body(response))
    elif ctx.service == "sns":
        checks = _sns(ctx, action, response.querystring)
    else:  # sqs and sts name their resource to moto; other services are checked against "*"
        prefix = _IAM_PREFIXES.get(ctx.service, ctx.service)
        checks = [(f"{prefix}:{action}", moto_resource or "*")]
    if all(resource == "*" for _, resource in checks):
        named = _named_resources(ctx, action, _parameters(response))
        checks = [(name, resource) for name, _ in checks[:1] for resource in named] or checks
    checks += implied(response, ctx, action)
    return [(_IAM_ACTIONS.get(name, name), resource) for name, resource in checks]


# --- the answer ---------------------------------------------------------------------------


def denial_message(principal: Principal, action: str, resource: str, decision: str) -> str:
    """AWS's wording for an identity-policy refusal."""
    reason = (
        "with an explicit deny in an identity-based policy"
        if decision == PolicyDecision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"User: {principal.arn} is not authorized to perform: {action} on resource: "
        f"{resource} {reason}"
    )


class _JsonAccessDeniedError(JsonRESTError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__("AccessDeniedException", message)
        self.code = status


class _XmlAccessDeniedError(_RESTError):
    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


class _S3AccessDeniedError(S3ClientError):
    code = "AccessDenied"

    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


def _authorise(response: Any, moto_resource: str, *, s3_action: str | None = None) -> None:
    found = _principal(response.headers, response.current_account)
    if found is None and not call_log.is_recording():
        return
    if found is None:
        region = _signing_region(response.headers)
        ctx = RequestContext(_signing_service(response.headers), region, response.current_account)
    else:
        ctx = RequestContext(_signing_service(response.headers), found[1], found[0].account_id)
    if s3_action is not None:
        checks = [(f"s3:{s3_action}", moto_resource)]
    else:
        checks = requested(response, ctx, moto_resource)
    call_log.record(
        found[0].arn if found else call_log.ADMIN, checks, key=_access_key_id(response.headers)
    )
    if found is None:
        return
    principal = found[0]
    documents = _role_policies(principal.account_id, principal.role_name)
    context = {
        "aws:SecureTransport": "true",  # loopback only: see the s3 patch
        "aws:PrincipalArn": f"arn:{PARTITION}:iam::{principal.account_id}:role/"
        f"{principal.role_name}",
        "aws:PrincipalAccount": principal.account_id,
        "aws:RequestedRegion": ctx.region,
    }
    for action, resource in checks:
        decision = evaluate(documents, action, resource, context)
        if decision == PolicyDecision.ALLOW:
            continue
        message = denial_message(principal, action, resource, decision)
        logger.warning("AccessDenied: %s", message)
        if s3_action is not None:
            raise _S3AccessDeniedError(message)
        if ctx.service in _XML_SERVICES:
            raise _XmlAccessDeniedError(message)
        raise _JsonAccessDeniedError(message, _FORBIDDEN_STATUS.get(ctx.service, 400))


def _signing_service(headers: Mapping[str, str]) -> str:
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    return match.group(3) if match else ""


def _access_key_id(headers: Mapping[str, str]) -> str:
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    return match.group(1) if match else ""


def _signing_region(headers: Mapping[str, str]) -> str:
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    return match.group(2) if match else ""


def authorize_normal_action(self: Any, resource: str = "*") -> None:
    _authorise(self, resource)


def authorize_s3_action(
    self: Any, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    target = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    action = _s3_action(
        str(self.method), self.querystring, bool(key_name), str(self.data.get("Action"))
    )
    if bucket_name and not key_name and self.method == "POST" and "delete" in self.querystring:
        # DeleteObjects is authorised per object: s3:DeleteObject, or s3:DeleteObjectVersion for
        # an object named with its version ("DeleteObjects", Amazon S3 API Reference).
        for key, versioned in _objects_to_delete(getattr(self, "body", b"")):
            action = "DeleteObjectVersion" if versioned else "DeleteObject"
            _authorise(self, f"arn:{PARTITION}:s3:::{bucket_name}/{key}", s3_action=action)
        return
    _authorise(self, f"arn:{PARTITION}:s3:::{target}", s3_action=action)


def _objects_to_delete(body: bytes | str) -> list[tuple[str, bool]]:
    """The (key, has a version id) pairs of a DeleteObjects request body."""
    try:
        root = ElementTree.fromstring(body or b"<Delete/>")  # noqa: S314 - loopback client input
    except ElementTree.ParseError:
        return []
    objects = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "Object":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
        objects.append((fields.get("Key", ""), bool(fields.get("VersionId"))))
    return objects


def apply() -> None:
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize_normal_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3_action  # type: ignore[method-assign]
