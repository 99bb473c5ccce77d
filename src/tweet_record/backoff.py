"""The one application-level backoff, for what botocore's own retries cannot see.

Every client is built with botocore's ``standard`` retry mode, which already retries throttling,
transient server errors and connection failures of a call, with its own jittered backoff. The
application retries only partial successes botocore reports as success: ``UnprocessedItems``,
``FailedRecordCount`` entries and transactions cancelled for a conflict or throttling. A call
that still fails after botocore's attempts is not retried again here, so the worst case per item
is ``BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS`` sends (tests pin it).

"Full jitter" (a random wait between 0 and the exponential cap) spreads the retries of many
concurrent invocations instead of having them hammer a throttled table or shard in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.config import Config

BOTOCORE_MAX_ATTEMPTS = 3
"""botocore ``standard`` mode: the first send plus two retries, per call."""
APP_MAX_ATTEMPTS = 4
"""Calls that carry one item at most, when each answers it back as unprocessed."""
WORST_CASE_SENDS_PER_ITEM = BOTOCORE_MAX_ATTEMPTS * APP_MAX_ATTEMPTS


@dataclass
class Backoff:
    """``max_attempts`` calls in all; waits ``uniform(0, min(cap, base * 2**n))`` in between."""

    max_attempts: int = APP_MAX_ATTEMPTS
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


def client_config(*, connect_timeout: float, read_timeout: float, validate: bool = True) -> Config:
    """botocore's ``standard`` retries with ``BOTOCORE_MAX_ATTEMPTS``: the other retry layer."""
    from botocore.config import Config  # noqa: PLC0415 - boto3 stays off the handler import

    return Config(
        # total_max_attempts counts the first send; botocore's max_attempts would count retries.
        retries={"mode": "standard", "total_max_attempts": BOTOCORE_MAX_ATTEMPTS},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        parameter_validation=validate,
    )
