"""Bounded, jittered exponential backoff shared by the table writers.

"Full jitter" (sleep a random time between 0 and the exponential cap) spreads the retries of
the many concurrent consumer invocations (one per shard) instead of having them hammer a
throttled table in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
"""DynamoDB error codes that mean "try again later", not "this request is wrong"."""


@dataclass
class Backoff:
    """``max_attempts`` tries in all; waits ``uniform(0, min(cap, base * 2**n))`` in between."""

    max_attempts: int = 6
    base_seconds: float = 0.05
    cap_seconds: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (retry - 1))
        return self.rng.uniform(0, ceiling)

    def wait(self, retry: int) -> None:
        self.sleep(self.delay(retry))
