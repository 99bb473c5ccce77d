"""The units, the billing month and how amounts print, shared by every part of the model."""

from __future__ import annotations

import math
from typing import Final

KIB: Final = 1024
MIB: Final = 1024 * 1024
GIB: Final = 1024**3
TIB: Final = 1024**4
HOURS_PER_MONTH: Final = 730
"""AWS pricing pages and the pricing calculator bill a month as 730 hours."""
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24


def ceil_div(numerator: float, denominator: float) -> int:
    """Ceiling of a quotient, tolerant of float noise so 1000/1000 stays 1."""
    return max(0, math.ceil(numerator / denominator - 1e-9))


def format_shards(count: int) -> str:
    return f"{count:,} shard" if count == 1 else f"{count:,} shards"


def format_usd(amount: float) -> str:
    if amount >= 100:
        return f"${amount:,.0f}"
    if amount >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:.4f}"
