"""The retry settings every client shares, and the bound on the application's own retries.

Every client is built with botocore's ``standard`` retry mode, which already retries throttling,
transient server errors and connection failures of a call, with its own jittered backoff. The
application retries only partial successes botocore reports as success (the producer's
``FailedRecordCount`` entries), at most ``APP_MAX_ATTEMPTS`` calls; a call that still fails
after botocore's attempts is not retried again, so the worst case per item is
``BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS`` sends (tests pin it). The consumer retries nothing
itself: a write that fails after botocore's attempts fails its record, which Lambda redelivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.config import Config

BOTOCORE_MAX_ATTEMPTS = 3
"""botocore ``standard`` mode: the first send plus two retries, per call."""
APP_MAX_ATTEMPTS = 4
"""Calls that carry one item at most, when each answers it back as unprocessed."""


BOTOCORE_POOL_CONNECTIONS = 10
"""botocore's default ``max_pool_connections``."""


def client_config(
    *,
    connect_timeout: float,
    read_timeout: float,
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
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        parameter_validation=validate,
    )
