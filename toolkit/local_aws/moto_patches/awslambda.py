"""Lambda: functions keep their whole configuration, and other services never invoke them.

Configuration: moto 5.2.5 drops `DeadLetterConfig` on CreateFunction and ignores it (and
`KMSKeyArn`, `TracingConfig`) on UpdateFunctionConfiguration, so a function with a DLQ plans an
in-place change after every apply. They are stored and answered here.

Invocation: other services never invoke functions inside moto; the local runtime does.

moto runs a function in Docker whenever a service it emulates would trigger it: on every Kinesis
PutRecord(s) for an event source mapping, on DynamoDB stream writes and SQS sends with a mapping,
on SNS deliveries, log subscription filters, S3 notifications and S3-to-EventBridge rules. There is
no Docker here, and the stack's own runtime (`local_aws.runtime`) implements event source mapping,
schedule and Firehose semantics itself, so inside moto these triggers simply do not fire. S3
notifications and EventBridge rules reach Lambda through moto's private `_invoke_awslambda` and
`_invoke_lambda` functions, the only place those triggers pass through, so those are replaced.

Event source mappings stay fully manageable through the API (create, get, list, update, delete);
they are only detached from the source object moto would fan out from.

Listing: moto 5.2.5 filters `ListEventSourceMappings` by comparing `FunctionName` with the string
the mapping was created with, so a mapping created with the function's ARN (as Terraform does) is
not found by the function's name. AWS accepts a name, an ARN or a partial ARN for either.

Concurrency: AWS refuses a reservation (`PutFunctionConcurrency`, Terraform's
`reserved_concurrent_executions`) that leaves the account's unreserved concurrency below its
minimum: 100, or the whole account concurrency where that is lower, as in a new account (10).
moto 5.2.5 accepts any reservation unless `MOTO_LAMBDA_CONCURRENCY_QUOTA` is set, and then
always keeps 100 free. Here the account concurrency is `LOCAL_AWS_LAMBDA_CONCURRENCY`
(default 10, a new account's), so a stack that reserves concurrency fails locally where it
would fail on a new account.

DryRun: an `Invoke` with `InvocationType=DryRun` checks the parameters and the caller's
permission and runs nothing (answer 204); moto 5.2.5 runs the function. Firehose checks its
role's `lambda:InvokeFunction` that way before the local runtime invokes the transformer.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import unquote

import moto.events.notifications
import moto.s3.notifications
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import EventSourceMapping, LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.sqs.models import sqs_backends

logger = logging.getLogger(__name__)

_original_create_event_source_mapping = LambdaBackend.create_event_source_mapping
_original_list_event_source_mappings = LambdaBackend.list_event_source_mappings
_original_init = LambdaFunction.__init__
_original_get_configuration = LambdaFunction.get_configuration
_original_update_configuration = LambdaFunction.update_configuration
_original_put_function_concurrency = LambdaBackend.put_function_concurrency
_original_invoke = LambdaResponse.invoke

ACCOUNT_CONCURRENCY_VARIABLE = "LOCAL_AWS_LAMBDA_CONCURRENCY"
NEW_ACCOUNT_CONCURRENCY = 10
"""A new account's Lambda concurrency quota, the local default."""
MINIMUM_UNRESERVED_CONCURRENCY = 100
_UPDATABLE_SETTINGS = {
    "DeadLetterConfig": "dead_letter_config",
    "KMSKeyArn": "kms_key_arn",
    "TracingConfig": "tracing_config",
}


def function_init(self: LambdaFunction, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    spec: dict[str, Any] = kwargs["spec"] if "spec" in kwargs else args[1]
    setattr(self, "dead_letter_config", spec.get("DeadLetterConfig"))  # noqa: B010 - new attribute


def get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = _original_get_configuration(self, on_create)
    dead_letter_config = getattr(self, "dead_letter_config", None)
    if dead_letter_config and dead_letter_config.get("TargetArn"):
        config["DeadLetterConfig"] = dead_letter_config
    return config


def update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    for key, attribute in _UPDATABLE_SETTINGS.items():
        if key in config_updates:
            setattr(self, attribute, config_updates[key])
    result: dict[str, Any] = _original_update_configuration(self, config_updates)
    return result


def create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    mapping = _original_create_event_source_mapping(self, spec)
    for registry in _fan_out_registries(self.account_id, self.region_name):
        for key in [key for key, value in registry.items() if value is mapping]:
            del registry[key]
    return mapping


def _function_name(name_or_arn: str) -> str:
    """`my-function`, `123456789012:function:my-function` or a full (qualified) ARN -> the name."""
    if ":function:" in name_or_arn:
        return name_or_arn.split(":function:", 1)[1].split(":", 1)[0]
    return name_or_arn


def list_event_source_mappings(
    self: LambdaBackend, event_source_arn: str, function_name: str
) -> list[EventSourceMapping]:
    mappings: list[EventSourceMapping] = list(
        _original_list_event_source_mappings(self, event_source_arn, "")
    )
    if function_name:
        wanted = _function_name(function_name)
        mappings = [m for m in mappings if _function_name(m.function_name) == wanted]
    return mappings


def account_concurrency() -> int:
    """The modelled account's concurrent executions quota."""
    configured = os.environ.get(ACCOUNT_CONCURRENCY_VARIABLE, "").strip()
    return int(configured) if configured else NEW_ACCOUNT_CONCURRENCY


def put_function_concurrency(
    self: LambdaBackend, function_name: str, reserved_concurrency: str
) -> str:
    quota = account_concurrency()
    minimum = min(MINIMUM_UNRESERVED_CONCURRENCY, quota)
    target = self.get_function(function_name)
    reserved_elsewhere = sum(
        int(function.reserved_concurrency)
        for function in self.list_functions()
        if function.reserved_concurrency and function.function_name != target.function_name
    )
    if quota - reserved_elsewhere - int(reserved_concurrency) < minimum:
        raise InvalidParameterValueException(
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
        )
    target.reserved_concurrency = reserved_concurrency
    return target.reserved_concurrency


def invoke(self: LambdaResponse) -> Any:
    if self.headers.get("X-Amz-Invocation-Type") != "DryRun":
        return _original_invoke(self)
    function_name = unquote(self.path.rsplit("/", 2)[-2])
    self.backend.get_function(function_name, self._get_param("qualifier"))
    return 204, {"status": "204"}, ""


def _fan_out_registries(account_id: str, region: str) -> list[dict[str, Any]]:
    """The per-source mapping tables moto walks to invoke functions on new data."""
    sources: list[Any] = [
        *sqs_backends[account_id][region].queues.values(),
        *dynamodb_backends[account_id][region].tables.values(),
        *kinesis_backends[account_id][region].streams.values(),
    ]
    return [source.lambda_event_source_mappings for source in sources]


def _not_delivered(*args: Any, **kwargs: Any) -> None:
    del args, kwargs
    logger.debug("service-triggered Lambda invocation skipped: the local runtime delivers it")


def apply() -> None:
    LambdaFunction.__init__ = function_init  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    LambdaBackend.list_event_source_mappings = list_event_source_mappings  # type: ignore[method-assign]
    LambdaBackend.put_function_concurrency = put_function_concurrency  # type: ignore[method-assign]
    LambdaResponse.invoke = invoke  # type: ignore[method-assign]
    LambdaBackend.send_sns_message = _not_delivered  # type: ignore[method-assign]
    LambdaBackend.send_log_event = _not_delivered  # type: ignore[method-assign]
    moto.s3.notifications._invoke_awslambda = _not_delivered
    moto.events.notifications._invoke_lambda = _not_delivered
