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
  SendMessageBatch, one `dynamodb:PutItem`/`UpdateItem`/... per item of a transaction);
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

Not checked, and why: requests signed with any other key (the administrator's `test`/`test`,
which Terraform, the CLI and the tests use) are not restricted, as an account's administrator
is not. Signatures are not verified (the emulator answers loopback only). Resource policies,
key policies, SCPs and permission boundaries are not evaluated. KMS calls that services make on
a caller's behalf (Kinesis, DynamoDB, S3, SQS, SSM encryption) are not made by moto at all, so
they are not checked either, and no request carries `kms:ViaService`: a direct KMS call from a
role whose KMS grant requires `kms:ViaService` is refused, as AWS refuses it.
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

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.exceptions import S3ClientError
from moto.sts.models import sts_backends

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
# What each item of a DynamoDB transaction is authorised as.
_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
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


def _role_policies(account_id: str, role_name: str) -> list[dict[str, Any]]:
    """The role's inline and attached policy documents; none for a role that no longer exists."""
    backend = iam_backends[account_id][PARTITION]
    try:
        role = backend.get_role(role_name)
    except Exception:  # noqa: BLE001 - moto's NotFoundException: a deleted role grants nothing
        return []
    documents: list[Any] = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents += [version.document for version in policy.versions if version.is_default]
    return [json.loads(doc) if isinstance(doc, str) else dict(doc) for doc in documents]


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
    """The request's JSON parameters, as sent (some handlers replace `body` with parsed ones)."""
    try:
        body = json.loads(getattr(response, "raw_body", None) or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _dynamodb(ctx: RequestContext, action: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    def table(name: str, index: str | None = None) -> str:
        if name.startswith("arn:"):
            arn = name
        else:
            arn = f"arn:{PARTITION}:dynamodb:{ctx.region}:{ctx.account_id}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if action in {"TransactWriteItems", "TransactGetItems"}:
        checks = []
        for item in body.get("TransactItems", []):
            kind, operation = next(iter(item.items()))
            item_action = _TRANSACTION_ITEM_ACTIONS.get(kind, kind)
            checks.append((f"dynamodb:{item_action}", table(operation.get("TableName", ""))))
        return checks
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
    return [(f"kinesis:{action}", str(arn or "*"))]


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


def requested(response: Any, ctx: RequestContext, moto_resource: str) -> list[tuple[str, str]]:
    """Every (IAM action, resource ARN) pair the request needs, per service."""
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
        checks = [(f"{ctx.service}:{action}", moto_resource or "*")]
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
    if found is None:
        return
    principal, region = found
    ctx = RequestContext(_signing_service(response.headers), region, principal.account_id)
    if s3_action is not None:
        checks = [(f"s3:{s3_action}", moto_resource)]
    else:
        checks = requested(response, ctx, moto_resource)
    documents = _role_policies(principal.account_id, principal.role_name)
    context = {
        "aws:SecureTransport": "true",  # loopback only: see the s3 patch
        "aws:PrincipalArn": f"arn:{PARTITION}:iam::{principal.account_id}:role/"
        f"{principal.role_name}",
        "aws:PrincipalAccount": principal.account_id,
        "aws:RequestedRegion": region,
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


def authorize_normal_action(self: Any, resource: str = "*") -> None:
    _authorise(self, resource)


def authorize_s3_action(
    self: Any, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    target = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    _authorise(self, f"arn:{PARTITION}:s3:::{target}", s3_action=str(self.data.get("Action")))


def apply() -> None:
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize_normal_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3_action  # type: ignore[method-assign]
