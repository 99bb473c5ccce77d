"""Firehose, the transformer Lambda, S3 and Athena: the lake's side of the bill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from capacity_plan.inputs import PlanInputs
from capacity_plan.lambda_functions import LambdaPlan, cpu_ms_at_memory, lambda_figures
from capacity_plan.prices import PRICES
from capacity_plan.units import DAYS_PER_MONTH, GIB, KIB, MIB, SECONDS_PER_MONTH, TIB, ceil_div

FIREHOSE_BILLING_INCREMENT_BYTES: Final = 5 * KIB
FIREHOSE_DIRECT_PUT_BYTES_PER_S_SMALL_REGIONS: Final = 1 * MIB
FIREHOSE_DIRECT_PUT_RECORDS_PER_S_SMALL_REGIONS: Final = 1000
ATHENA_MIN_SCAN_BYTES: Final = 10 * 1000 * 1000


def firehose_billed_bytes(record_bytes: int) -> int:
    """Firehose bills ingestion per record rounded up to the next 5 KB (Firehose pricing)."""
    return max(1, ceil_div(record_bytes, FIREHOSE_BILLING_INCREMENT_BYTES)) * (
        FIREHOSE_BILLING_INCREMENT_BYTES
    )


def flushes_per_s(bytes_per_s: float, buffer_bytes: float, interval_s: float) -> float:
    """Buffer flushes per second: whichever of size and interval is reached first.

    Firehose buffering hints and processor BufferSizeInMBs/BufferIntervalInSeconds both work
    this way ("the first buffer condition that is satisfied triggers delivery").
    """
    return max(bytes_per_s / buffer_bytes, 1.0 / interval_s)


def athena_query_usd(scanned_bytes: float) -> float:
    """$5 per TB scanned with a 10 MB minimum per query (Athena pricing)."""
    return max(scanned_bytes, ATHENA_MIN_SCAN_BYTES) / TIB * PRICES["athena_tb_scanned"].usd


@dataclass(frozen=True)
class FirehosePlan:
    ingest_billed_gb_per_month: float
    billed_to_actual_ratio: float
    ingest_monthly_usd: float
    transformer: LambdaPlan
    s3_objects_per_month: float
    s3_object_mb: float
    s3_put_monthly_usd: float
    lake_gb_per_day: float
    lake_stored_gb: float
    s3_storage_monthly_usd: float
    athena_scan_gb_per_query: float
    athena_usd_per_query: float
    athena_monthly_usd: float


def firehose_plan(inputs: PlanInputs) -> FirehosePlan:
    rate, size = inputs.tweets_per_second, inputs.avg_record_bytes
    bytes_per_s = rate * size
    billed = firehose_billed_bytes(size)
    ingest_gb = rate * SECONDS_PER_MONTH * billed / GIB
    invocations_per_s = flushes_per_s(
        bytes_per_s, inputs.processor_buffer_mb * MIB, inputs.processor_interval_s
    )
    per_invocation = rate / invocations_per_s
    duration_ms = inputs.invocation_overhead_ms + cpu_ms_at_memory(
        per_invocation * inputs.transformer_cpu_us_per_record, inputs.transformer_memory_mb
    )
    transformer = LambdaPlan(
        **lambda_figures(
            invocations_per_s,
            per_invocation,
            duration_ms,
            inputs.transformer_memory_mb,
            inputs.architecture,
        )
    )
    lake_bytes_per_s = bytes_per_s * inputs.lake_bytes_ratio
    # Firehose applies the buffering hint before conversion; objects land as GZIP Parquet, which
    # Athena reads column by column (only the columns a query names, plus each file's footer).
    objects_per_s = flushes_per_s(lake_bytes_per_s, inputs.s3_buffer_mb * MIB, inputs.s3_interval_s)
    objects = objects_per_s * SECONDS_PER_MONTH
    stored_bytes_per_s = lake_bytes_per_s * inputs.lake_gzip_ratio * inputs.lake_parquet_ratio
    lake_gb_per_day = stored_bytes_per_s * 86_400 / GIB
    stored_gb = lake_gb_per_day * inputs.lake_retention_days
    scanned_bytes = lake_gb_per_day * GIB * inputs.athena_scan_share
    athena_each = athena_query_usd(scanned_bytes)
    return FirehosePlan(
        ingest_billed_gb_per_month=ingest_gb,
        billed_to_actual_ratio=billed / size,
        ingest_monthly_usd=ingest_gb * PRICES["firehose_ingest_gb"].usd,
        transformer=transformer,
        s3_objects_per_month=objects,
        s3_object_mb=stored_bytes_per_s / objects_per_s / MIB,
        s3_put_monthly_usd=objects * PRICES["s3_put_request"].usd,
        lake_gb_per_day=lake_gb_per_day,
        lake_stored_gb=stored_gb,
        s3_storage_monthly_usd=stored_gb * PRICES["s3_standard_gb_month"].usd,
        athena_scan_gb_per_query=max(scanned_bytes, ATHENA_MIN_SCAN_BYTES) / GIB,
        athena_usd_per_query=athena_each,
        athena_monthly_usd=athena_each * inputs.athena_queries_per_day * DAYS_PER_MONTH,
    )
