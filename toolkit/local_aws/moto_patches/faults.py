"""Emulator-side fault injection: DynamoDB throttling, Kinesis partial puts.

Installed only when ``TRENDSTREAM_FAULTS`` names a fault plan (see :mod:`local_aws.fault_plan` for
the plan and what each fault does); otherwise ``apply`` changes nothing. The faults answer
exactly as AWS does, so the clients' own retry paths are what gets exercised: a throttled
DynamoDB call is an HTTP 400 ``ProvisionedThroughputExceededException`` with nothing written,
and a failed ``PutRecords`` entry is really not put on the stream.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.kinesis.models import KinesisBackend

from local_aws import fault_plan
from local_aws.moto_server import ACCOUNT_ID

_DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_patched = False


class _ThrottledError(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            _DYNAMODB_ERROR_PREFIX + fault_plan.THROTTLE_CODE,
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
        )


def _injector() -> fault_plan.FaultInjector:
    return fault_plan.injector("emulator")


def _wrap_throttled(original: Any) -> Any:
    """A write call that is refused, nothing written, when the plan throttles it."""

    def throttled(self: DynamoHandler) -> Any:
        if _injector().dynamodb_throttle():
            raise _ThrottledError
        return original(self)

    return throttled


THROTTLED_WRITE_CALLS = ("put_item", "update_item")
"""The DynamoDB writes the stack makes (the consumer's and the producer's)."""


def _wrap_put_records(original: Any) -> Any:
    def put_records(
        self: KinesisBackend, stream_arn: str, stream_name: str, records: list[dict[str, Any]]
    ) -> dict[str, Any]:
        entries = [(str(r.get("PartitionKey", "")), str(r.get("Data", ""))) for r in records]
        failing = _injector().put_records_failures(entries)
        if not failing:
            response: dict[str, Any] = original(self, stream_arn, stream_name, records)
            return response
        kept = [record for index, record in enumerate(records) if index not in failing]
        written = original(self, stream_arn, stream_name, kept) if kept else {"Records": []}
        stream = stream_name or stream_arn.rsplit("/", 1)[-1]
        results = iter(written["Records"])
        merged = [
            {
                "ErrorCode": fault_plan.THROTTLE_CODE,
                "ErrorMessage": f"Rate exceeded for shard in stream {stream} "
                f"under account {ACCOUNT_ID}.",
            }
            if index in failing
            else next(results)
            for index in range(len(records))
        ]
        return {"FailedRecordCount": len(failing), "Records": merged}

    return put_records


def apply() -> None:
    """Install the fault wrappers once, and only when a fault plan is configured."""
    global _patched  # noqa: PLW0603 - the patch is process-wide by nature
    if _patched or fault_plan.plan_path_from_environment() is None:
        return
    fault_plan.injector("emulator")  # parse the plan now: a bad plan fails the server's start
    for name in THROTTLED_WRITE_CALLS:
        setattr(DynamoHandler, name, _wrap_throttled(getattr(DynamoHandler, name)))
    KinesisBackend.put_records = _wrap_put_records(  # type: ignore[method-assign]
        KinesisBackend.put_records
    )
    _patched = True
