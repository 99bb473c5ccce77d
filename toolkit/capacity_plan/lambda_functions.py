"""Lambda: billed duration, the CPU share memory buys, and a month of invocations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacity_plan.inputs import Architecture
from capacity_plan.prices import PRICES
from capacity_plan.units import SECONDS_PER_MONTH

LAMBDA_CONCURRENCY_QUOTA: Final = 1000
LAMBDA_MB_PER_VCPU: Final = 1769
"""At 1,769 MB a function has the equivalent of one vCPU; less memory, a proportional share."""


def lambda_monthly_usd(
    invocations_per_month: float, billed_seconds_each: float, memory_mb: int, arch: Architecture
) -> float:
    """Requests plus GB-seconds (AWS Lambda pricing; arm64 is 20 % cheaper per GB-s)."""
    gb_seconds = invocations_per_month * billed_seconds_each * memory_mb / 1024
    return (
        invocations_per_month * PRICES["lambda_request"].usd
        + gb_seconds * PRICES[f"lambda_gb_second_{arch}"].usd
    )


def billed_seconds(duration_ms: float) -> float:
    """Lambda bills duration rounded up to the next millisecond."""
    return math.ceil(duration_ms) / 1000


def lambda_vcpu_share(memory_mb: int) -> float:
    """Share of one vCPU a function's Python code gets: CPU is allocated in proportion to memory,
    one vCPU at 1,769 MB (Lambda "Configure Lambda function memory"); past that the extra vCPUs
    do not speed up code that holds the GIL, so the share stops at 1."""
    return min(1.0, memory_mb / LAMBDA_MB_PER_VCPU)


def cpu_ms_at_memory(cpu_us: float, memory_mb: int) -> float:
    """Wall time of CPU work measured on a whole core, in a function of ``memory_mb``."""
    return cpu_us / 1000 / lambda_vcpu_share(memory_mb)


@dataclass(frozen=True)
class LambdaPlan:
    invocations_per_s: float
    invocations_per_month: float
    records_per_invocation: float
    duration_ms: float
    gb_seconds_per_month: float
    concurrency_steady: float
    monthly_usd: float
    monthly_usd_x86_64: float
    monthly_usd_arm64: float


def lambda_figures(
    invocations_per_s: float,
    records_per_invocation: float,
    duration_ms: float,
    memory_mb: int,
    architecture: Architecture,
) -> dict[str, float]:
    """The fields every ``LambdaPlan`` shares: a month of invocations billed at their duration."""
    seconds_each = billed_seconds(duration_ms)
    per_month = invocations_per_s * SECONDS_PER_MONTH
    return {
        "invocations_per_s": invocations_per_s,
        "invocations_per_month": per_month,
        "records_per_invocation": records_per_invocation,
        "duration_ms": duration_ms,
        "gb_seconds_per_month": per_month * seconds_each * memory_mb / 1024,
        "concurrency_steady": invocations_per_s * seconds_each,
        "monthly_usd": lambda_monthly_usd(per_month, seconds_each, memory_mb, architecture),
        "monthly_usd_x86_64": lambda_monthly_usd(per_month, seconds_each, memory_mb, "x86_64"),
        "monthly_usd_arm64": lambda_monthly_usd(per_month, seconds_each, memory_mb, "arm64"),
    }
