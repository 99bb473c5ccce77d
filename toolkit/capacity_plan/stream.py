"""Kinesis Data Streams: shards by each limit, the two capacity modes' prices, shared reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacity_plan.inputs import PlanInputs
from capacity_plan.prices import PRICES
from capacity_plan.units import GIB, HOURS_PER_MONTH, KIB, MIB, SECONDS_PER_MONTH, ceil_div

KINESIS_SHARD_WRITE_RECORDS_PER_S: Final = 1000
KINESIS_SHARD_WRITE_BYTES_PER_S: Final = 1 * MIB
KINESIS_SHARD_READ_BYTES_PER_S: Final = 2 * MIB
KINESIS_PUT_PAYLOAD_UNIT_BYTES: Final = 25 * KIB
KINESIS_SHARD_QUOTA_CURRENT: Final = 20_000
KINESIS_SHARD_QUOTA_LEGACY: Final = 500
KINESIS_SHARD_QUOTA_LEGACY_SMALL_REGIONS: Final = 200
SHARED_CONSUMERS: Final = 2
"""The consumer Lambda's event source mapping and Firehose both read the stream (shared reads)."""


def shards_for_write_records(records_per_s: float, utilisation: float = 1.0) -> int:
    """A shard takes 1,000 records/s of writes (Kinesis Data Streams quotas and limits page)."""
    return ceil_div(records_per_s, KINESIS_SHARD_WRITE_RECORDS_PER_S * utilisation)


def shards_for_write_bytes(bytes_per_s: float, utilisation: float = 1.0) -> int:
    """A shard takes 1 MiB/s of writes (Kinesis Data Streams quotas and limits page)."""
    return ceil_div(bytes_per_s, KINESIS_SHARD_WRITE_BYTES_PER_S * utilisation)


def shards_for_shared_read(bytes_per_s: float, consumers: int, utilisation: float = 1.0) -> int:
    """A shard serves 2 MiB/s of reads split among all shared-throughput consumers.

    Every shared consumer reads the whole stream, so reads are ``consumers`` times the ingest
    (Kinesis "Develop shared-throughput consumers": 2 MB/s per shard, shared).
    """
    return ceil_div(bytes_per_s * consumers, KINESIS_SHARD_READ_BYTES_PER_S * utilisation)


def shared_read_catch_up_factor(bytes_per_s_per_shard: float, consumers: int) -> float:
    """How much faster than real time a lagging shared consumer drains its backlog.

    The others keep reading at the ingest rate; the laggard gets the rest of the shard's 2 MiB/s.
    0 means it never catches up; 1 means a one-hour backlog drains in one hour.
    """
    if bytes_per_s_per_shard <= 0:
        return math.inf
    spare = KINESIS_SHARD_READ_BYTES_PER_S - (consumers - 1) * bytes_per_s_per_shard
    return max(0.0, spare / bytes_per_s_per_shard - 1.0)


def shards_for_catch_up(bytes_per_s: float, consumers: int, catch_up: float = 1.0) -> int:
    """Shards so a lagging shared consumer drains backlog at ``catch_up`` x real time.

    It needs ``(1 + catch_up) x ingest`` while the others take ``ingest`` each, all within the
    shard's 2 MiB/s: ingest per shard <= 2 MiB/s / (consumers + catch_up).
    """
    return ceil_div(bytes_per_s * (consumers + catch_up), KINESIS_SHARD_READ_BYTES_PER_S)


def put_payload_units(record_bytes: int) -> int:
    """Provisioned mode bills each record in 25 KB PUT payload units (a 5 KB record is one unit)."""
    return max(1, ceil_div(record_bytes, KINESIS_PUT_PAYLOAD_UNIT_BYTES))


def on_demand_billed_bytes(record_bytes: int) -> int:
    """On-demand mode bills each record rounded up to the next 1 KB (1,024 bytes)."""
    return max(1, ceil_div(record_bytes, KIB)) * KIB


def kinesis_provisioned_monthly_usd(shards: int, records_per_s: float, record_bytes: int) -> float:
    """Shard-hours plus PUT payload units (Kinesis Data Streams pricing, provisioned mode)."""
    shard_hours = shards * HOURS_PER_MONTH * PRICES["kinesis_shard_hour"].usd
    units = records_per_s * SECONDS_PER_MONTH * put_payload_units(record_bytes)
    return shard_hours + units * PRICES["kinesis_put_payload_unit"].usd


def kinesis_on_demand_monthly_usd(records_per_s: float, record_bytes: int, consumers: int) -> float:
    """Stream-hours plus GB written plus GB read per consumer (on-demand standard pricing)."""
    gb = records_per_s * SECONDS_PER_MONTH * on_demand_billed_bytes(record_bytes) / GIB
    return (
        HOURS_PER_MONTH * PRICES["kinesis_on_demand_stream_hour"].usd
        + gb * PRICES["kinesis_on_demand_ingest_gb"].usd
        + gb * consumers * PRICES["kinesis_on_demand_retrieval_gb"].usd
    )


def efo_monthly_usd(shards: int, bytes_per_s: float) -> float:
    """One enhanced fan-out consumer: consumer-shard-hours plus GB pushed to it (EFO pricing)."""
    gb = bytes_per_s * SECONDS_PER_MONTH / GIB
    return (
        shards * HOURS_PER_MONTH * PRICES["kinesis_efo_consumer_shard_hour"].usd
        + gb * PRICES["kinesis_efo_retrieval_gb"].usd
    )


@dataclass(frozen=True)
class KinesisPlan:
    bytes_per_s: float
    shards_min_by_records: int
    shards_min_by_write_bytes: int
    shards_min_by_shared_read: int
    shards: int
    binding_limit: str
    write_utilisation: float
    shared_read_utilisation: float
    catch_up_factor: float
    shards_for_catch_up: int
    catch_up_shards_monthly_usd: float
    provisioned_monthly_usd: float
    on_demand_monthly_usd: float
    cheaper_mode: str
    efo_consumer_monthly_usd: float


def kinesis_shards(inputs: PlanInputs) -> tuple[int, int, int, int, str]:
    rate, size, target = inputs.tweets_per_second, inputs.avg_record_bytes, inputs.shard_utilisation
    bytes_per_s = rate * size
    by_records = shards_for_write_records(rate)
    by_bytes = shards_for_write_bytes(bytes_per_s)
    by_read = shards_for_shared_read(bytes_per_s, SHARED_CONSUMERS)
    planned = {
        "write records/s": shards_for_write_records(rate, target),
        "write bytes/s": shards_for_write_bytes(bytes_per_s, target),
        "shared read bytes/s": shards_for_shared_read(bytes_per_s, SHARED_CONSUMERS, target),
    }
    # On a tie in whole shards, the limit closest to its ceiling is the one that binds.
    pressure = {
        "write records/s": rate / KINESIS_SHARD_WRITE_RECORDS_PER_S,
        "write bytes/s": bytes_per_s / KINESIS_SHARD_WRITE_BYTES_PER_S,
        "shared read bytes/s": SHARED_CONSUMERS * bytes_per_s / KINESIS_SHARD_READ_BYTES_PER_S,
    }
    binding = max(planned, key=lambda name: (planned[name], pressure[name]))
    return by_records, by_bytes, by_read, max(1, planned[binding]), binding


def kinesis_plan(
    inputs: PlanInputs, shards: int, minimums: tuple[int, int, int], binding: str
) -> KinesisPlan:
    rate, size = inputs.tweets_per_second, inputs.avg_record_bytes
    bytes_per_s = rate * size
    provisioned = kinesis_provisioned_monthly_usd(shards, rate, size)
    catch_up_shards = shards_for_catch_up(bytes_per_s, SHARED_CONSUMERS)
    on_demand = kinesis_on_demand_monthly_usd(rate, size, SHARED_CONSUMERS)
    write_util = max(
        rate / (shards * KINESIS_SHARD_WRITE_RECORDS_PER_S),
        bytes_per_s / (shards * KINESIS_SHARD_WRITE_BYTES_PER_S),
    )
    return KinesisPlan(
        bytes_per_s=bytes_per_s,
        shards_min_by_records=minimums[0],
        shards_min_by_write_bytes=minimums[1],
        shards_min_by_shared_read=minimums[2],
        shards=shards,
        binding_limit=binding,
        write_utilisation=write_util,
        shared_read_utilisation=SHARED_CONSUMERS
        * bytes_per_s
        / (shards * KINESIS_SHARD_READ_BYTES_PER_S),
        catch_up_factor=shared_read_catch_up_factor(bytes_per_s / shards, SHARED_CONSUMERS),
        shards_for_catch_up=catch_up_shards,
        catch_up_shards_monthly_usd=(
            max(0, catch_up_shards - shards) * HOURS_PER_MONTH * PRICES["kinesis_shard_hour"].usd
        ),
        provisioned_monthly_usd=provisioned,
        on_demand_monthly_usd=on_demand,
        cheaper_mode="provisioned" if provisioned <= on_demand else "on-demand",
        efo_consumer_monthly_usd=efo_monthly_usd(shards, bytes_per_s),
    )
