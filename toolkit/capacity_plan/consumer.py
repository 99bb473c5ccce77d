"""The consumer Lambda: its batches, DynamoDB calls, duration and the shards it needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacity_plan.inputs import PlanInputs
from capacity_plan.lambda_functions import (
    LambdaPlan,
    billed_seconds,
    cpu_ms_at_memory,
    lambda_figures,
)

RECOMMENDED_BATCH_SIZE: Final = 500
"""An event source mapping BatchSize that shares each minute's stats update between more tweets."""
CONSUMER_INVOCATIONS_PER_SHARD: Final = 1
"""ParallelizationFactor is fixed at 1 (exactly-once stats, docs/data-model.md): scale by shards."""


def records_per_batch(rate_per_shard: float, batch_size: int, batching_window_s: float) -> float:
    """Records in one event-source-mapping batch from one shard.

    Lambda polls each shard about once a second and waits up to the batching window to fill the
    batch (Lambda "Using Lambda with Kinesis": base polling rate once per second per shard).
    """
    collected = rate_per_shard * max(batching_window_s, 1.0)
    return max(1.0, min(float(batch_size), collected))


def consumer_batch_ms(
    records: float,
    calls: float,
    *,
    cpu_us_per_record: float,
    memory_mb: int,
    ms_per_call: float,
    calls_in_flight: int,
    overhead_ms: float,
) -> float:
    """One consumer invocation: overhead, CPU per record at the function's share of a vCPU, and
    its DynamoDB calls waited for ``calls_in_flight`` at a time (1: one after the other). The
    threads overlap the round trips, not the CPU (botocore signs and serialises under the GIL)."""
    return (
        overhead_ms
        + cpu_ms_at_memory(records * cpu_us_per_record, memory_mb)
        + calls / max(1, calls_in_flight) * ms_per_call
    )


def consumer_busy_fraction(batches_per_s: float, duration_ms: float) -> float:
    """Share of the time a shard's one invocation is busy: ParallelizationFactor is 1, so above
    the planning utilisation the shard falls behind and only more shards help."""
    return batches_per_s * billed_seconds(duration_ms)


def expected_distinct_topics(records: float, topics: int) -> float:
    """Expected distinct topics among ``records`` tweets spread uniformly over ``topics``."""
    if topics <= 1:
        return 1.0
    return topics * (1.0 - math.pow(1.0 - 1.0 / topics, records))


def stats_updates_per_batch(records: float, topics: int) -> float:
    """Minute-stats UpdateItems in one batch: one per (topic, minute) the batch touches.

    A batch spans about a second of arrivals, taken as one minute of tweets, with the topics
    spread uniformly; tweets that arrive together but were created minutes apart (a scheduled
    producer's run) touch more minutes, which this does not count.
    """
    return expected_distinct_topics(records, topics)


def dynamodb_calls_per_batch(records: float, topics: int) -> float:
    """One conditional PutItem per tweet item plus the batch's stats UpdateItems.

    Calls set the consumer's duration; DynamoDB bills write request units, not calls.
    """
    return records + stats_updates_per_batch(records, topics)


@dataclass(frozen=True)
class ConsumerPlan(LambdaPlan):
    batch_size: int
    batching_window_s: float
    put_items_per_batch: float
    stats_updates_per_batch: float
    dynamodb_calls_per_batch: float
    busy_fraction_per_shard: float
    max_concurrency: int
    shards_added_for_consumer: int


@dataclass(frozen=True)
class ConsumerLoad:
    """One shard's consumer at a shard count: its batches and how busy they keep it."""

    batches_per_shard_per_s: float
    records: float
    stats_updates: float
    calls: float
    duration_ms: float
    busy: float


def consumer_load(inputs: PlanInputs, shards: int) -> ConsumerLoad:
    per_shard = inputs.tweets_per_second / shards
    batch = records_per_batch(
        per_shard, inputs.consumer_batch_size, inputs.consumer_batching_window_s
    )
    calls = dynamodb_calls_per_batch(batch, inputs.stats_topics)
    duration_ms = consumer_batch_ms(
        batch,
        calls,
        cpu_us_per_record=inputs.consumer_cpu_us_per_record,
        memory_mb=inputs.consumer_memory_mb,
        ms_per_call=inputs.dynamodb_ms_per_call,
        calls_in_flight=inputs.dynamodb_calls_in_flight,
        overhead_ms=inputs.invocation_overhead_ms,
    )
    batches = per_shard / batch
    return ConsumerLoad(
        batches_per_shard_per_s=batches,
        records=batch,
        stats_updates=stats_updates_per_batch(batch, inputs.stats_topics),
        calls=calls,
        duration_ms=duration_ms,
        busy=consumer_busy_fraction(batches, duration_ms),
    )


def shards_for_consumer(inputs: PlanInputs, shards: int) -> int:
    """The fewest shards, at least ``shards``, whose one consumer invocation each keeps up.

    Busy time per shard falls as shards are added (fewer records each), so a doubling search
    finds a count that keeps up and a bisection the smallest.
    """
    target = inputs.shard_utilisation

    def keeps_up(count: int) -> bool:
        return consumer_load(inputs, count).busy <= target

    if keeps_up(shards):
        return shards
    low, high = shards, shards
    while not keeps_up(high):
        low, high = high, max(high + 1, 2 * high)
    while high - low > 1:
        middle = (low + high) // 2
        if keeps_up(middle):
            high = middle
        else:
            low = middle
    return high


def consumer_plan(inputs: PlanInputs, shards: int) -> tuple[ConsumerPlan, int]:
    """One invocation per shard (ParallelizationFactor 1); shards added when it falls behind."""
    needed = shards_for_consumer(inputs, shards)
    load = consumer_load(inputs, needed)
    plan = ConsumerPlan(
        **lambda_figures(
            load.batches_per_shard_per_s * needed,
            load.records,
            load.duration_ms,
            inputs.consumer_memory_mb,
            inputs.architecture,
        ),
        batch_size=inputs.consumer_batch_size,
        batching_window_s=inputs.consumer_batching_window_s,
        put_items_per_batch=load.records,
        stats_updates_per_batch=load.stats_updates,
        dynamodb_calls_per_batch=load.calls,
        busy_fraction_per_shard=load.busy,
        max_concurrency=needed * CONSUMER_INVOCATIONS_PER_SHARD,
        shards_added_for_consumer=needed - shards,
    )
    return plan, needed
