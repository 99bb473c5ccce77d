"""The one way every function builds its AWS clients: botocore's standard retries, bounded time.

Every client is built by ``new_client`` with botocore's ``standard`` retry mode, which already
retries throttling, transient server errors and connection failures of a call, with its own
jittered backoff, and with timeouts each function chooses (``Timeouts``) so that the worst case
of one call, every attempt timing out, fits inside the function's own timeout (a test holds each
function's figure against its Terraform timeout). boto3 is imported when the first client is
built, never at import, so a cold start does not pay for it before it is needed.

The application retries only partial successes botocore reports as success (the producer's
``FailedRecordCount`` entries), at most ``APP_MAX_ATTEMPTS`` calls; a call that still fails
after botocore's attempts is not retried again, so the worst case per item is
``BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS`` sends (tests pin it). The consumer retries nothing
itself: a write that fails after botocore's attempts fails its record, which Lambda redelivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client

BOTOCORE_MAX_ATTEMPTS = 3
"""botocore ``standard`` mode: the first send plus two retries, per call."""
BOTOCORE_MAX_BACKOFF_SECONDS = 1.0 + 2.0
"""The most botocore ``standard`` mode sleeps between those attempts: at most 2**(n-1) s before
retry n (botocore.retries.standard.ExponentialBackoff, base 2)."""
APP_MAX_ATTEMPTS = 4
"""Calls that carry one item at most, when each answers it back as unprocessed."""
BOTOCORE_POOL_CONNECTIONS = 10
"""botocore's default ``max_pool_connections``."""


class Timeouts(NamedTuple):
    """A function's socket timeouts for every AWS call it makes."""

    connect: float
    read: float

    def worst_case_call_seconds(self) -> float:
        """One call whose every attempt times out, with botocore's longest backoff between."""
        return BOTOCORE_MAX_ATTEMPTS * (self.connect + self.read) + BOTOCORE_MAX_BACKOFF_SECONDS


def client_config(
    timeouts: Timeouts,
    *,
    validate: bool = True,
    pool_connections: int = BOTOCORE_POOL_CONNECTIONS,
) -> Config:
    """botocore's ``standard`` retries with ``BOTOCORE_MAX_ATTEMPTS``: the other retry layer.

    ``pool_connections``: as many as threads share the client; beyond the pool, urllib3 opens a
    connection per request and discards it (a TLS handshake each time).
    """
    from botocore.config import Config  # noqa: PLC0415 - boto3 stays off the handler import

    return Config(
        max_pool_connections=pool_connections,
        # total_max_attempts counts the first send; botocore's max_attempts would count retries.
        retries={"mode": "standard", "total_max_attempts": BOTOCORE_MAX_ATTEMPTS},
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        parameter_validation=validate,
    )


@overload
def new_client(
    service: Literal["dynamodb"],
    timeouts: Timeouts,
    *,
    validate: bool = ...,
    pool_connections: int = ...,
) -> DynamoDBClient: ...
@overload
def new_client(
    service: Literal["s3"], timeouts: Timeouts, *, validate: bool = ..., pool_connections: int = ...
) -> S3Client: ...
@overload
def new_client(
    service: Literal["kinesis"],
    timeouts: Timeouts,
    *,
    validate: bool = ...,
    pool_connections: int = ...,
) -> KinesisClient: ...
@overload
def new_client(
    service: Literal["comprehend"],
    timeouts: Timeouts,
    *,
    validate: bool = ...,
    pool_connections: int = ...,
) -> ComprehendClient: ...
def new_client(
    service: str,
    timeouts: Timeouts,
    *,
    validate: bool = True,
    pool_connections: int = BOTOCORE_POOL_CONNECTIONS,
) -> Any:
    """A boto3 client of ``service`` with ``client_config``; the region and endpoint come from
    the function's environment, as for any boto3 client."""
    import boto3  # noqa: PLC0415 - created on first use, not at import

    config = client_config(timeouts, validate=validate, pool_connections=pool_connections)
    return boto3.client(service, config=config)  # type: ignore[call-overload]
