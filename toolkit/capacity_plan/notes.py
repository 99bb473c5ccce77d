"""What binds at a load, in the order a reader should act on it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from capacity_plan.consumer import RECOMMENDED_BATCH_SIZE
from capacity_plan.inputs import PlanInputs
from capacity_plan.lake import (
    FIREHOSE_DIRECT_PUT_BYTES_PER_S_SMALL_REGIONS,
    FIREHOSE_DIRECT_PUT_RECORDS_PER_S_SMALL_REGIONS,
)
from capacity_plan.lambda_functions import (
    LAMBDA_CONCURRENCY_QUOTA,
    LAMBDA_MB_PER_VCPU,
    cpu_ms_at_memory,
    lambda_vcpu_share,
)
from capacity_plan.stream import (
    KINESIS_SHARD_QUOTA_CURRENT,
    KINESIS_SHARD_QUOTA_LEGACY,
    KINESIS_SHARD_QUOTA_LEGACY_SMALL_REGIONS,
)
from capacity_plan.table import (
    AUTOSCALING_TARGET_UTILISATION,
    DYNAMODB_ON_DEMAND_WARM_WRU,
    DYNAMODB_PARTITION_WCU_PER_S,
    DYNAMODB_TABLE_WRU_QUOTA,
)
from capacity_plan.units import format_shards, format_usd

if TYPE_CHECKING:
    from capacity_plan.plan import Plan

Rebuild = Callable[[PlanInputs], "Plan"]


@dataclass(frozen=True)
class Note:
    """Something that binds at a load; ``id`` lets the 10x/100x/1,000x view show what is new."""

    id: str
    text: str


def _source_and_stream_notes(plan: Plan) -> list[Note]:
    """The X API ceiling, shard quotas, shared reads and the cheaper Kinesis mode."""
    kin = plan.kinesis
    notes: list[Note] = []
    if plan.producer.source_bound:
        notes.append(
            Note(
                "x-api-ceiling",
                "Source: X API recent search tops out at"
                f" ~{plan.producer.x_api_max_tweets_per_s:.0f} tweets/s per app"
                " (450 requests/15 min, 100 tweets/page), before any monthly post cap. Above"
                " that the source must be a firehose-style feed (the producer is costed at the"
                " ceiling); the stack downstream still scales.",
            )
        )
    if kin.shards > KINESIS_SHARD_QUOTA_CURRENT:
        notes.append(
            Note(
                "kinesis-shard-quota",
                f"Kinesis: {kin.shards:,} shards exceeds the default account quota of"
                f" {KINESIS_SHARD_QUOTA_CURRENT:,} (us-east-1); request an increase or split"
                " the stream.",
            )
        )
    elif kin.shards > KINESIS_SHARD_QUOTA_LEGACY_SMALL_REGIONS:
        notes.append(
            Note(
                "kinesis-legacy-shard-quota",
                f"Kinesis: {kin.shards:,} shards is above the older default account quotas"
                f" ({KINESIS_SHARD_QUOTA_LEGACY} in us-east-1/us-west-2/eu-west-1,"
                f" {KINESIS_SHARD_QUOTA_LEGACY_SMALL_REGIONS} elsewhere); current docs say"
                f" {KINESIS_SHARD_QUOTA_CURRENT:,} in us-east-1: check Service Quotas.",
            )
        )
    if kin.catch_up_factor < 1.0:
        notes.append(
            Note(
                "kinesis-efo",
                f"Kinesis read: two shared consumers use {kin.shared_read_utilisation:.0%} of the"
                " 2 MiB/s per shard, so a lagging consumer drains its backlog at only"
                f" {kin.catch_up_factor:.1f}x real time. For 1x: provision"
                f" {format_shards(kin.shards_for_catch_up)}"
                f" (+{format_usd(kin.catch_up_shards_monthly_usd)}/month), or register the consumer"
                " Lambda as an enhanced fan-out consumer with its own 2 MiB/s per shard"
                f" (+{format_usd(kin.efo_consumer_monthly_usd)}/month, and ~70 ms delivery).",
            )
        )
    if kin.cheaper_mode == "on-demand":
        notes.append(
            Note(
                "kinesis-on-demand",
                "Kinesis: on-demand is cheaper than provisioned at this load (the stream-hour"
                " and per-GB charges undercut the planned shards' hours).",
            )
        )
    else:
        notes.append(
            Note(
                "kinesis-provisioned",
                f"Kinesis: provisioned ({format_shards(kin.shards)}) is cheaper than on-demand (the"
                " Terraform default stream_mode); on-demand still suits spiky or unknown load.",
            )
        )
    return notes


def _lambda_notes(plan: Plan) -> list[Note]:
    """Shards added for the consumer, the concurrency quota."""
    con, fh = plan.consumer, plan.firehose
    notes: list[Note] = []
    if con.shards_added_for_consumer:
        inputs = plan.inputs
        in_flight = inputs.dynamodb_calls_in_flight
        share = lambda_vcpu_share(inputs.consumer_memory_mb)
        cpu_ms = cpu_ms_at_memory(
            con.records_per_invocation * inputs.consumer_cpu_us_per_record,
            inputs.consumer_memory_mb,
        )
        wait_ms = con.dynamodb_calls_per_batch / max(1, in_flight) * inputs.dynamodb_ms_per_call
        notes.append(
            Note(
                "consumer-shards",
                f"Consumer: {con.shards_added_for_consumer:,} shards added only so one batch at a"
                " time per shard keeps up (ParallelizationFactor is 1: exactly-once stats need"
                f" it). A batch of {con.records_per_invocation:,.0f} records spends"
                f" {cpu_ms:,.0f} ms on CPU ({inputs.consumer_cpu_us_per_record:g} µs a record with"
                f" botocore, on {share:.2f} of a vCPU at {inputs.consumer_memory_mb} MB) and"
                f" {wait_ms:,.0f} ms waiting for its {con.dynamodb_calls_per_batch:,.0f} DynamoDB"
                f" calls, {in_flight} at a time"
                + (
                    f"; more memory (consumer_memory_mb, up to {LAMBDA_MB_PER_VCPU:,} MB) would"
                    " need fewer shards."
                    if cpu_ms >= wait_ms and share < 1.0
                    else "; more calls in flight would need fewer shards."
                    if wait_ms > cpu_ms
                    else "."
                ),
            )
        )
    concurrency = con.max_concurrency + math.ceil(fh.transformer.concurrency_steady)
    if concurrency > LAMBDA_CONCURRENCY_QUOTA:
        notes.append(
            Note(
                "lambda-concurrency-quota",
                f"Lambda: up to {concurrency:,} concurrent executions exceeds the default"
                f" regional quota of {LAMBDA_CONCURRENCY_QUOTA:,}; request an increase first.",
            )
        )
    return notes


def _dynamodb_notes(plan: Plan, rebuild: Rebuild) -> list[Note]:
    """The hot partition key, table quota and warm throughput, the billing mode and cost."""
    inputs, ddb = plan.inputs, plan.dynamodb
    notes: list[Note] = []
    if ddb.hot_topic_wru_per_s > DYNAMODB_PARTITION_WCU_PER_S * inputs.shard_utilisation:
        notes.append(
            Note(
                "dynamodb-hot-key",
                f"DynamoDB hot key: a topic with {inputs.hot_topic_share:.0%} of tweets writes"
                f" {ddb.hot_topic_wru_per_s:,.0f} WRU/s; a partition takes 1,000. Spread it over"
                f" {ddb.hot_topic_key_parts} key parts: Terraform hot_topic_key_parts ="
                f' {{ "<topic>" = {ddb.hot_topic_key_parts} }} (every reader then queries each'
                " part).",
            )
        )
    prewarm = (
        " (the pinned AWS provider has no warm_throughput argument: run `aws dynamodb"
        " update-table --warm-throughput WriteUnitsPerSecond=...` before launch)"
    )
    if ddb.wru_per_s > DYNAMODB_TABLE_WRU_QUOTA:
        notes.append(
            Note(
                "dynamodb-table-quota",
                f"DynamoDB table: {ddb.wru_per_s:,.0f} WRU/s exceeds the default per-table quota"
                f" of {DYNAMODB_TABLE_WRU_QUOTA:,}; request an increase and pre-warm (a new"
                f" on-demand table starts warm at {DYNAMODB_ON_DEMAND_WARM_WRU:,} WRU/s){prewarm}.",
            )
        )
    elif ddb.wru_per_s > DYNAMODB_ON_DEMAND_WARM_WRU:
        notes.append(
            Note(
                "dynamodb-warm-throughput",
                f"DynamoDB table: {ddb.wru_per_s:,.0f} WRU/s is above the"
                f" {DYNAMODB_ON_DEMAND_WARM_WRU:,} WRU/s a new on-demand table starts warm at;"
                f" pre-warm it before a launch at full load{prewarm}.",
            )
        )
    if ddb.billing_mode == "provisioned":
        notes.append(
            Note(
                "dynamodb-provisioned",
                f"DynamoDB: provisioned capacity with auto scaling"
                f" ({format_usd(ddb.provisioned_monthly_usd)}/month at"
                f" {AUTOSCALING_TARGET_UTILISATION:.0%} utilisation) is cheaper than on-demand"
                f" ({format_usd(ddb.on_demand_monthly_usd)}) for this steady load: Terraform"
                ' table_billing_mode = "PROVISIONED", table_autoscaling write_max_capacity at'
                f" least {math.ceil(ddb.wru_per_s / AUTOSCALING_TARGET_UTILISATION):,}."
                " On-demand suits spiky or unknown load (scaling up takes minutes).",
            )
        )
    if ddb.request_monthly_usd > 0.5 * plan.total_monthly_usd:
        bigger = ""
        if inputs.consumer_batch_size < RECOMMENDED_BATCH_SIZE:
            alternative = rebuild(replace(inputs, consumer_batch_size=RECOMMENDED_BATCH_SIZE))
            bigger = (
                f" (at consumer_batch_size {RECOMMENDED_BATCH_SIZE}:"
                f" {alternative.dynamodb.wru_per_tweet:.2f} WRU/tweet,"
                f" {format_usd(alternative.usd_per_million_tweets)} per million tweets)"
            )
        notes.append(
            Note(
                "dynamodb-cost",
                f"Cost: DynamoDB writes are {ddb.request_monthly_usd / plan.total_monthly_usd:.0%}"
                f" of the bill: {ddb.tweet_item_wru:g} WRU a tweet for its item,"
                f" {ddb.stats_wru_per_tweet:.2f} for the minute stats, which bigger batches share"
                f" between more tweets{bigger}.",
            )
        )
    return notes


def _lake_notes(plan: Plan) -> list[Note]:
    """Firehose source quotas and the lake format at volume."""
    kin = plan.kinesis
    notes: list[Note] = []
    direct_put_bound = (
        kin.bytes_per_s > FIREHOSE_DIRECT_PUT_BYTES_PER_S_SMALL_REGIONS
        or plan.inputs.tweets_per_second > FIREHOSE_DIRECT_PUT_RECORDS_PER_S_SMALL_REGIONS
    )
    if direct_put_bound:
        notes.append(
            Note(
                "firehose-direct-put",
                "Firehose: it reads the Kinesis stream, so the Direct PUT quotas do not apply;"
                " fed by Direct PUT instead, 1 MiB/s or 1,000 records/s per delivery stream"
                " (default in some regions) would bind.",
            )
        )
    if plan.firehose.lake_gb_per_day > 10:
        notes.append(
            Note(
                "lake-format",
                f"Lake: {plan.firehose.lake_gb_per_day:,.0f} GB/day of GZIP Parquet; a one-day"
                f" Athena query reads {plan.firehose.athena_scan_gb_per_query:,.1f} GB of it (only"
                f" its columns) and costs {format_usd(plan.firehose.athena_usd_per_query)}:"
                " partition the queries by hour to read less.",
            )
        )
    return notes


def scaling_notes(plan: Plan, rebuild: Rebuild) -> list[Note]:
    """What binds at this load, in the order a reader should act on it.

    ``rebuild`` plans the same load with other inputs, for a note that prices an alternative.
    """
    return (
        _source_and_stream_notes(plan)
        + _lambda_notes(plan)
        + _dynamodb_notes(plan, rebuild)
        + _lake_notes(plan)
    )
