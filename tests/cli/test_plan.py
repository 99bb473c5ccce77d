"""`trendstream plan`: the capacity formulas against hand computations, and the command itself."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from capacity_plan.consumer import (
    consumer_batch_ms,
    consumer_busy_fraction,
    consumer_load,
    dynamodb_calls_per_batch,
    expected_distinct_topics,
    records_per_batch,
    stats_updates_per_batch,
)
from capacity_plan.inputs import PlanInputs
from capacity_plan.lake import athena_query_usd, firehose_billed_bytes, flushes_per_s
from capacity_plan.lambda_functions import LAMBDA_MB_PER_VCPU, lambda_monthly_usd, lambda_vcpu_share
from capacity_plan.measured import MEASURED_DEFAULTS, SCALE_KEYS, load_measured
from capacity_plan.plan import build_plan
from capacity_plan.prices import PRICES
from capacity_plan.source import (
    comprehend_monthly_usd,
    comprehend_units_per_document,
    x_api_max_tweets_per_s,
)
from capacity_plan.stream import (
    kinesis_on_demand_monthly_usd,
    kinesis_provisioned_monthly_usd,
    on_demand_billed_bytes,
    put_payload_units,
    shards_for_catch_up,
    shards_for_shared_read,
    shards_for_write_bytes,
    shards_for_write_records,
    shared_read_catch_up_factor,
)
from capacity_plan.table import (
    hot_topic_saturation_tweets_per_s,
    on_demand_writes_monthly_usd,
    partial_stats_item_bytes,
    provisioned_capacity_monthly_usd,
    shards_feeding_a_minute,
    write_shards_for_key,
    write_units_for_item,
)
from capacity_plan.units import KIB, MIB
from consumer.writes import WRITE_WORKERS
from trendstream_cli import plan as command
from trendstream_cli.main import main

NO_BENCH = "/nonexistent/bench.json"
"""The plans below use the model's defaults (the last measured figures), whatever build/ holds."""
FAST_CPU_US = 1.0
"""A consumer CPU per record so small that the consumer never adds shards: for the tests of the
other limits, which must not move when the consumer's CPU or call pattern does."""


def run_plan(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(["--bench", NO_BENCH, *argv]))


def note_ids(inputs: PlanInputs) -> set[str]:
    return {note.id for note in build_plan(inputs).notes}


# --- Kinesis -------------------------------------------------------------------------------
def test_a_thousand_one_kib_records_per_second_fit_one_shard_at_the_limits() -> None:
    assert shards_for_write_records(1000) == 1
    assert shards_for_write_bytes(1000 * KIB) == 1  # 1,024,000 B/s < 1 MiB/s
    assert shards_for_shared_read(1000 * KIB, consumers=2) == 1  # 2,048,000 B/s < 2 MiB/s


def test_one_record_or_byte_past_a_shard_limit_needs_a_second_shard() -> None:
    assert shards_for_write_records(1001) == 2
    assert shards_for_write_bytes(MIB + 1) == 2
    assert shards_for_write_bytes(1000 * 2 * KIB) == 2


def test_a_third_shared_consumer_makes_reads_bind_before_writes() -> None:
    bytes_per_s = 1000 * KIB
    assert shards_for_write_bytes(bytes_per_s) == 1
    assert shards_for_shared_read(bytes_per_s, consumers=3) == 2


def test_planning_at_80_percent_adds_the_headroom_shard() -> None:
    assert shards_for_write_records(1000, utilisation=0.8) == 2
    assert shards_for_write_records(800, utilisation=0.8) == 1


def test_catch_up_factor_is_what_the_other_consumer_leaves_of_2_mib() -> None:
    assert shared_read_catch_up_factor(MIB, consumers=2) == 0.0
    # 0.5 MiB/s ingest: the laggard gets 1.5 MiB/s, draining 1 MiB/s of backlog = 2x real time.
    assert shared_read_catch_up_factor(MIB / 2, consumers=2) == pytest.approx(2.0)


def test_catch_up_shards_leave_a_lagging_consumer_real_time_to_spare() -> None:
    # 1,000 KiB/s, two consumers: a laggard needs 2 x ingest + the other's 1 x = 3,072,000 B/s.
    assert shards_for_catch_up(1000 * KIB, consumers=2) == 2
    assert shards_for_catch_up(MIB / 2, consumers=2) == 1
    for bytes_per_s in (5 * MIB, 114.4 * MIB):
        shards = shards_for_catch_up(bytes_per_s, consumers=2)
        assert shared_read_catch_up_factor(bytes_per_s / shards, consumers=2) >= 1.0
        assert shared_read_catch_up_factor(bytes_per_s / (shards - 1), consumers=2) < 1.0


def test_put_payload_units_count_started_25_kb_chunks() -> None:
    assert put_payload_units(5 * KIB) == 1
    assert put_payload_units(25 * KIB) == 1
    assert put_payload_units(25 * KIB + 1) == 2
    assert put_payload_units(45 * KIB) == 2


def test_on_demand_rounds_each_record_up_to_a_kib() -> None:
    assert on_demand_billed_bytes(int(4.5 * KIB)) == 5 * KIB  # the pricing page's example
    assert on_demand_billed_bytes(1200) == 2 * KIB
    assert on_demand_billed_bytes(1024) == KIB


def test_provisioned_cost_is_shard_hours_plus_put_units() -> None:
    # 4 shards, 100 records/s of 35 KiB (2 units each), a 730-hour month.
    shard_hours = 4 * 730 * 0.015  # 43.80
    units = 100 * 2_628_000 * 2 / 1e6 * 0.014  # 525.6 M units -> 7.3584
    assert kinesis_provisioned_monthly_usd(4, 100, 35 * KIB) == pytest.approx(shard_hours + units)
    assert shard_hours + units == pytest.approx(51.1584)


def test_on_demand_cost_is_stream_hours_plus_gb_in_and_out_per_consumer() -> None:
    gib_written = 2_628_000_000 / 1024**2  # 1,000 records/s of 1 KiB for a month
    expected = 730 * 0.04 + gib_written * 0.08 + 2 * gib_written * 0.04
    assert kinesis_on_demand_monthly_usd(1000, 1024, consumers=2) == pytest.approx(expected)
    assert expected == pytest.approx(430.2, abs=0.1)


# --- Lambda --------------------------------------------------------------------------------
def test_a_batch_holds_what_one_poll_or_window_collects_capped_by_batch_size() -> None:
    assert records_per_batch(10, 100, batching_window_s=1.0) == 10
    assert records_per_batch(500, 100, batching_window_s=1.0) == 100
    assert records_per_batch(10, 100, batching_window_s=5.0) == 50
    assert records_per_batch(0.5, 100, batching_window_s=0.0) == 1


def test_a_batch_waits_for_its_dynamodb_calls_as_many_at_a_time_as_in_flight() -> None:
    figures = {"cpu_us_per_record": 40.0, "ms_per_call": 10.0, "overhead_ms": 5.0}
    # 100 records: 4 ms of CPU on a whole vCPU; 110 calls one after the other: 1,100 ms.
    one_vcpu = LAMBDA_MB_PER_VCPU
    assert consumer_batch_ms(
        100, 110, calls_in_flight=1, memory_mb=one_vcpu, **figures
    ) == pytest.approx(1109.0)
    assert consumer_batch_ms(
        100, 110, calls_in_flight=10, memory_mb=one_vcpu, **figures
    ) == pytest.approx(119.0)
    # At 512 MB the same 4 ms of CPU take 4 x 1,769 / 512 ms.
    assert consumer_batch_ms(
        100, 110, calls_in_flight=10, memory_mb=512, **figures
    ) == pytest.approx(5.0 + 4.0 * 1769 / 512 + 110.0)


def test_a_function_gets_a_share_of_a_vcpu_in_proportion_to_its_memory() -> None:
    """ "At 1,769 MB, a function has the equivalent of one vCPU"
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); Python code that
    holds the GIL gains nothing past one."""
    assert lambda_vcpu_share(1769) == 1.0
    assert lambda_vcpu_share(512) == pytest.approx(0.2894, abs=1e-4)
    assert lambda_vcpu_share(3538) == 1.0


def test_one_batch_in_flight_per_shard_is_busy_for_batches_per_second_times_duration() -> None:
    assert consumer_busy_fraction(1.0, 800.0) == pytest.approx(0.8)
    assert consumer_busy_fraction(2.0, 650.2) == pytest.approx(1.302)  # billed to the next ms


def test_lambda_cost_is_requests_plus_gb_seconds_per_architecture() -> None:
    # 1 M invocations of 100 ms at 1 GB = 100,000 GB-s.
    x86 = lambda_monthly_usd(1e6, 0.1, 1024, "x86_64")
    arm = lambda_monthly_usd(1e6, 0.1, 1024, "arm64")
    assert x86 == pytest.approx(0.20 + 100_000 * 0.0000166667)
    assert arm == pytest.approx(0.20 + 100_000 * 0.0000133334)
    assert arm < x86


# --- DynamoDB ------------------------------------------------------------------------------
def test_write_units_per_started_kb_of_a_standard_write() -> None:
    """A standard write costs one write unit per started KB of the item, and a conditional write
    whose condition fails still consumes write capacity (DynamoDB Developer Guide, capacity unit
    consumption for write operations:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)."""
    assert write_units_for_item(500) == 1
    assert write_units_for_item(1024) == 1
    assert write_units_for_item(1025) == 2
    assert write_units_for_item(3 * KIB) == 3


def test_distinct_topics_in_a_batch() -> None:
    assert expected_distinct_topics(1, 50) == pytest.approx(1.0)
    assert expected_distinct_topics(10_000, 50) == pytest.approx(50.0)
    assert expected_distinct_topics(100, 1) == 1.0
    # Two records over two topics: distinct with probability 1/2 -> 1.5 expected.
    assert expected_distinct_topics(2, 2) == pytest.approx(1.5)


def test_a_batch_puts_each_tweet_and_updates_each_topic_minute_once() -> None:
    assert stats_updates_per_batch(1000, topics=1) == pytest.approx(1.0)
    assert stats_updates_per_batch(100, topics=50) == pytest.approx(
        expected_distinct_topics(100, 50)
    )
    # 1,000 tweets over 10 topics: 1,000 PutItem + 10 UpdateItem, whatever the batch's size.
    assert dynamodb_calls_per_batch(1000, topics=10) == pytest.approx(1010.0)
    # 100 records over 50 topics: 50 x (1 - 0.98^100) = 43.37 distinct topics.
    assert dynamodb_calls_per_batch(100, topics=50) == pytest.approx(143.37, abs=0.01)


def test_a_partial_stats_item_carries_one_watermark_whatever_the_shard_count() -> None:
    watermark = len("applied") + 59  # name + 3-digit length + sequence
    assert partial_stats_item_bytes(150) == 150 + watermark
    assert write_units_for_item(partial_stats_item_bytes(150)) == 1
    # Hundreds of tweets a minute per shard: every shard feeds every one of 50 topics.
    assert shards_feeding_a_minute(4, 500.0, topics=50) == pytest.approx(4.0)
    # One tweet a minute per shard over 50 topics: each shard feeds a given topic 1 time in 50.
    assert shards_feeding_a_minute(50, 1 / 60, topics=50) == pytest.approx(1.0)


def test_stats_update_cost_is_flat_with_the_shard_count() -> None:
    """An UpdateItem is billed on the larger of the item's sizes before and after the update
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html);
    each shard's partial item holds one watermark, so 144 shards cost what 2 do."""
    few = build_plan(PlanInputs(tweets_per_second=1000, consumer_cpu_us_per_record=FAST_CPU_US))
    many = build_plan(PlanInputs(tweets_per_second=100_000, consumer_cpu_us_per_record=FAST_CPU_US))
    assert few.kinesis.shards == 2 and many.kinesis.shards == 144
    assert few.dynamodb.stats_wru_per_update == many.dynamodb.stats_wru_per_update == 1
    assert many.dynamodb.stats_wru_per_tweet <= few.dynamodb.stats_wru_per_tweet
    measured = build_plan(PlanInputs(tweets_per_second=1000, stats_wru_per_update=2.0))
    assert measured.dynamodb.stats_wru_per_update == 2.0  # the bench's figure when it is more


def test_cost_per_million_tweets_is_flat_from_1000_to_100000_tweets_per_second() -> None:
    """The issue's bar: the largest at most 1.10x the smallest, and $0.65 per million at 1,000
    tweets/s with the recommended billing mode."""
    costs = [build_plan(PlanInputs(tweets_per_second=rate)) for rate in (1000, 10_000, 100_000)]
    per_million = [plan.usd_per_million_tweets for plan in costs]
    assert per_million[-1] <= 1.10 * per_million[0]
    assert per_million[0] <= 0.65
    assert all(plan.dynamodb.billing_mode == "provisioned" for plan in costs)


def test_provisioned_capacity_is_priced_at_the_auto_scaling_target() -> None:
    """Provisioned capacity is billed per capacity unit-hour
    (https://aws.amazon.com/dynamodb/pricing/provisioned/); auto scaling keeps consumed at 70 %
    of provisioned."""
    assert on_demand_writes_monthly_usd(1000) == pytest.approx(1000 * 2_628_000 * 0.625e-6)
    assert provisioned_capacity_monthly_usd(700) == pytest.approx(
        730 * (1000 * 0.00065 + 5 * 0.00013)
    )
    assert provisioned_capacity_monthly_usd(0) == pytest.approx(730 * 5 * (0.00065 + 0.00013))
    quiet = build_plan(PlanInputs(tweets_per_second=0.01))
    assert quiet.dynamodb.billing_mode == "on-demand"  # the minimum capacity costs more
    assert quiet.dynamodb.request_monthly_usd == quiet.dynamodb.on_demand_monthly_usd
    busy = build_plan(PlanInputs(tweets_per_second=1000))
    assert busy.dynamodb.request_monthly_usd == busy.dynamodb.provisioned_monthly_usd
    assert "dynamodb-provisioned" in {note.id for note in busy.notes}
    assert ("DynamoDB", "provisioned writes") in {(c.service, c.item) for c in busy.costs}


def test_hot_topic_threshold_is_partition_limit_over_units_per_tweet_on_the_key() -> None:
    assert hot_topic_saturation_tweets_per_s(1, 0) == pytest.approx(1000.0)
    assert hot_topic_saturation_tweets_per_s(3, 0) == pytest.approx(333.33, abs=0.01)
    assert hot_topic_saturation_tweets_per_s(3, 400) == pytest.approx(200.0)
    assert hot_topic_saturation_tweets_per_s(3, 1500) == 0.0


def test_write_shards_keep_each_sharded_key_at_80_percent_of_the_partition() -> None:
    assert write_shards_for_key(100) == 1
    assert write_shards_for_key(800) == 1
    assert write_shards_for_key(6200) == 8


def test_hot_topic_note_appears_exactly_when_its_key_passes_80_percent_of_1000_wcu() -> None:
    # 20 % of the tweets at 1 WRU each, plus the topic's stats updates.
    calm = build_plan(PlanInputs(tweets_per_second=3500, consumer_cpu_us_per_record=FAST_CPU_US))
    hot = build_plan(PlanInputs(tweets_per_second=4000, consumer_cpu_us_per_record=FAST_CPU_US))
    assert calm.dynamodb.hot_topic_wru_per_s <= 800 < hot.dynamodb.hot_topic_wru_per_s
    assert "dynamodb-hot-key" not in {note.id for note in calm.notes}
    assert "dynamodb-hot-key" in {note.id for note in hot.notes}
    assert hot.dynamodb.hot_topic_key_parts == write_shards_for_key(
        hot.dynamodb.hot_topic_wru_per_s
    )


def test_hot_topic_saturation_in_the_plan_counts_its_items_and_stats() -> None:
    plan = build_plan(PlanInputs(tweets_per_second=1000))
    # The tweet item, a standard conditional PutItem: 1 WRU per tweet on the topic's key.
    assert plan.dynamodb.hot_topic_saturation_tweets_per_s == pytest.approx(
        1000 - plan.dynamodb.hot_topic_stats_wru_per_s
    )
    assert plan.dynamodb.hot_topic_wru_per_s == pytest.approx(
        200 * 1 + plan.dynamodb.hot_topic_stats_wru_per_s
    )


def test_wru_per_tweet_is_the_item_plus_stats_updates_amortised_over_the_batch() -> None:
    plan = build_plan(
        PlanInputs(
            tweets_per_second=1000,
            stats_topics=1,
            consumer_batch_size=100,
            consumer_cpu_us_per_record=FAST_CPU_US,
        )
    )
    # Two shards of 500 tweets/s, batches of 100: one update per batch on the shard's partial
    # item (150 + 66 = 216 B: 1 WRU), shared by its 100 tweets.
    assert plan.kinesis.shards == 2
    assert plan.dynamodb.stats_item_bytes == pytest.approx(216.0)
    assert plan.dynamodb.wru_per_tweet == pytest.approx(1 + 1 / 100)
    assert plan.dynamodb.stats_updates_per_1000_tweets == pytest.approx(10.0)
    assert plan.dynamodb.put_items_per_1000_tweets == 1000


def test_the_default_mix_meets_two_write_units_per_tweet_with_calls_in_flight() -> None:
    """Issue 11: at most 2.0 WRU per new tweet on the default mix (50 topics, batch 500)."""
    plan = build_plan(PlanInputs(tweets_per_second=1000, consumer_cpu_us_per_record=FAST_CPU_US))
    # 500 tweets a batch over 50 topics touch ~50 minute items: 0.1 update per tweet at 1 WRU.
    assert plan.dynamodb.wru_per_tweet == pytest.approx(1 + expected_distinct_topics(500, 50) / 500)
    assert plan.dynamodb.wru_per_tweet <= 2.0


def test_bigger_consumer_batches_share_the_stats_updates() -> None:
    small = build_plan(
        PlanInputs(
            tweets_per_second=1000, consumer_batch_size=100, consumer_cpu_us_per_record=FAST_CPU_US
        )
    )
    # Terraform's default, 500
    big = build_plan(PlanInputs(tweets_per_second=1000, consumer_cpu_us_per_record=FAST_CPU_US))
    assert big.dynamodb.stats_wru_per_tweet < small.dynamodb.stats_wru_per_tweet
    assert big.usd_per_million_tweets < small.usd_per_million_tweets


# --- Firehose, S3, Athena, producer --------------------------------------------------------
def test_firehose_bills_each_record_in_started_5_kb() -> None:
    assert firehose_billed_bytes(3 * KIB) == 5 * KIB
    assert firehose_billed_bytes(12 * KIB) == 15 * KIB
    assert firehose_billed_bytes(1200) == 5 * KIB


def test_buffers_flush_on_size_or_interval_whichever_comes_first() -> None:
    assert flushes_per_s(MIB, MIB, 60) == pytest.approx(1.0)
    assert flushes_per_s(10 * KIB, MIB, 60) == pytest.approx(1 / 60)


def test_athena_charges_5_usd_per_tb_with_a_10_mb_minimum() -> None:
    assert athena_query_usd(1024**4) == pytest.approx(5.0)
    assert athena_query_usd(1) == athena_query_usd(10_000_000)
    assert athena_query_usd(1) > 0


def test_x_api_recent_search_ceiling_is_50_tweets_per_second() -> None:
    assert x_api_max_tweets_per_s() == pytest.approx(50.0)


def test_the_source_binds_above_the_x_api_ceiling_but_not_at_it() -> None:
    assert "x-api-ceiling" not in note_ids(PlanInputs(tweets_per_second=50))
    above = build_plan(PlanInputs(tweets_per_second=51))
    assert above.producer.source_bound
    assert "x-api-ceiling" in {note.id for note in above.notes}


# --- the plan as a whole -------------------------------------------------------------------
RATES = (0.1, 1, 10, 50, 100, 1000, 10_000, 100_000, 1_000_000)


def test_capacity_and_cost_never_fall_as_the_rate_rises() -> None:
    plans = [build_plan(PlanInputs(tweets_per_second=rate)) for rate in RATES]
    for smaller, bigger in itertools.pairwise(plans):
        assert bigger.kinesis.shards >= smaller.kinesis.shards
        assert bigger.dynamodb.wru_per_s > smaller.dynamodb.wru_per_s
        assert bigger.firehose.ingest_monthly_usd > smaller.firehose.ingest_monthly_usd
        assert bigger.consumer.invocations_per_s >= smaller.consumer.invocations_per_s
        assert bigger.total_monthly_usd > smaller.total_monthly_usd


def test_bigger_records_never_cost_less() -> None:
    sizes = (200, 1024, 1200, 5 * KIB, 25 * KIB, 100 * KIB)
    plans = [build_plan(PlanInputs(tweets_per_second=500, avg_record_bytes=s)) for s in sizes]
    for smaller, bigger in itertools.pairwise(plans):
        assert bigger.kinesis.shards >= smaller.kinesis.shards
        assert bigger.total_monthly_usd >= smaller.total_monthly_usd


def test_the_cost_table_adds_up_and_prices_a_million_tweets() -> None:
    plan = build_plan(PlanInputs(tweets_per_second=10))
    assert plan.total_monthly_usd == pytest.approx(sum(line.monthly_usd for line in plan.costs))
    assert plan.tweets_per_month == pytest.approx(10 * 2_628_000)
    assert plan.usd_per_million_tweets == pytest.approx(plan.total_monthly_usd / 26.28)


def test_the_kinesis_line_is_the_cheaper_mode() -> None:
    plan = build_plan(PlanInputs(tweets_per_second=10))
    kinesis_line = plan.costs[0]
    assert kinesis_line.service == "Kinesis Data Streams"
    assert kinesis_line.monthly_usd == min(
        plan.kinesis.provisioned_monthly_usd, plan.kinesis.on_demand_monthly_usd
    )
    assert plan.kinesis.cheaper_mode in kinesis_line.item


def test_a_consumer_that_cannot_keep_up_gets_the_fewest_shards_that_let_it() -> None:
    """ParallelizationFactor, the number of batches processed concurrently from each shard, is 1
    (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html), so the plan
    adds shards."""
    slow = PlanInputs(tweets_per_second=20_000, consumer_cpu_us_per_record=20_000)
    plan = build_plan(slow)
    fast = build_plan(replace(slow, consumer_cpu_us_per_record=FAST_CPU_US))
    assert fast.consumer.shards_added_for_consumer == 0
    assert plan.consumer.shards_added_for_consumer > 0
    assert plan.kinesis.shards == fast.kinesis.shards + plan.consumer.shards_added_for_consumer
    assert plan.kinesis.binding_limit.startswith("consumer Lambda")
    assert plan.consumer.max_concurrency == plan.kinesis.shards  # one invocation per shard
    assert plan.consumer.busy_fraction_per_shard <= slow.shard_utilisation
    one_fewer = consumer_load(slow, plan.kinesis.shards - 1)
    assert one_fewer.busy > slow.shard_utilisation
    assert "consumer-shards" in {note.id for note in plan.notes}


def test_dynamodb_calls_one_after_the_other_make_the_consumer_add_shards() -> None:
    concurrent = PlanInputs(tweets_per_second=1000, consumer_cpu_us_per_record=FAST_CPU_US)
    sequential = build_plan(replace(concurrent, dynamodb_calls_in_flight=1))
    # 500 PutItem + ~50 UpdateItem at 10 ms each: 5.5 s per one-second batch on 2 shards.
    assert build_plan(concurrent).kinesis.shards == 2
    assert sequential.kinesis.shards > 2
    assert sequential.consumer.shards_added_for_consumer == sequential.kinesis.shards - 2


def test_the_plan_has_no_parallelization_factor(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_plan("--tweets-per-second", "1000", "--json") == 0
    document = json.loads(capsys.readouterr().out)

    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value).union(*(keys(inner) for inner in value.values()))
        if isinstance(value, list):
            return set().union(*(keys(inner) for inner in value))
        return set()

    assert not {key for key in keys(document) if "parallelization" in key}
    assert not {key for key in keys(document) if "transaction" in key}
    assert document["consumer"]["max_concurrency"] == document["kinesis"]["shards"]


def test_quotas_are_flagged_where_they_bind() -> None:
    ids = note_ids(PlanInputs(tweets_per_second=1_000_000, consumer_cpu_us_per_record=FAST_CPU_US))
    assert {"lambda-concurrency-quota", "dynamodb-table-quota", "kinesis-legacy-shard-quota"} <= ids
    assert "kinesis-shard-quota" in note_ids(
        PlanInputs(tweets_per_second=10_000_000, avg_record_bytes=4000)
    )
    assert not {"lambda-concurrency-quota", "dynamodb-table-quota"} & note_ids(
        PlanInputs(tweets_per_second=10)
    )


def test_enhanced_fan_out_is_recommended_once_shared_reads_leave_no_catch_up() -> None:
    plan = build_plan(PlanInputs(tweets_per_second=100_000, consumer_cpu_us_per_record=FAST_CPU_US))
    assert plan.kinesis.catch_up_factor < 1
    assert "kinesis-efo" in {note.id for note in plan.notes}
    assert plan.kinesis.shards_for_catch_up > plan.kinesis.shards
    per_shard = plan.kinesis.bytes_per_s / plan.kinesis.shards_for_catch_up
    assert shared_read_catch_up_factor(per_shard, consumers=2) >= 1.0
    assert "kinesis-efo" not in note_ids(PlanInputs(tweets_per_second=10))


def test_every_price_is_positive_and_names_its_page() -> None:
    for name, price in PRICES.items():
        assert price.usd > 0, name
        assert price.source.startswith("https://aws.amazon.com/"), name
        assert price.read.startswith("2026-11"), name
        assert price.confirmed or price.note, name  # an unconfirmed price says what was seen


# --- the command ---------------------------------------------------------------------------
def test_json_output_has_the_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_plan("--tweets-per-second", "10", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "trendstream.plan/4"
    assert document["region"] == "us-east-1"
    assert document["prices_read"] == "2026-11-29"
    assert document["inputs"]["tweets_per_second"] == 10
    assert isinstance(document["kinesis"]["shards"], int)
    for section in ("kinesis", "consumer", "dynamodb", "firehose", "producer"):
        assert isinstance(document[section], dict), section
    assert set(document["costs"][0]) == {"service", "item", "monthly_usd"}
    assert document["total_monthly_usd"] == pytest.approx(
        sum(line["monthly_usd"] for line in document["costs"])
    )
    assert document["usd_per_million_tweets"] == pytest.approx(
        document["total_monthly_usd"] / (document["tweets_per_month"] / 1e6)
    )
    assert [entry["factor"] for entry in document["scale"]] == [10, 100, 1000]
    assert document["scale"][2]["tweets_per_second"] == 10_000
    for note in document["notes"] + document["scale"][2]["notes"]:
        assert set(note) == {"id", "text"}
    assert set(document["prices"]["kinesis_shard_hour"]) == {
        "usd",
        "unit",
        "source",
        "read",
        "confirmed",
        "note",
    }
    assert document["sentiment"]["engine"] == "vader"
    assert document["inputs"]["measured_source"].startswith("defaults = the last make bench")


def test_text_output_has_the_cost_table_and_the_scale_section(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_plan("--tweets-per-second", "10") == 0
    out = capsys.readouterr().out
    assert "Monthly cost" in out
    assert "per million tweets" in out
    assert "What changes at 10x, 100x, 1,000x" in out
    assert "100x = 1,000 tweets/s" in out
    assert "pages read 2026-11-29; check before relying" in out
    assert "measured figures: defaults = the last make bench" in out


@pytest.mark.parametrize("rate", ["0", "-5", "abc", "nan", "inf"])
def test_a_rate_that_is_not_positive_exits_2_with_a_clear_error(
    rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--tweets-per-second", rate])
    assert exit_info.value.code == 2
    assert "--tweets-per-second: must be a positive number" in capsys.readouterr().err


def test_other_impossible_inputs_exit_2_with_the_option_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--tweets-per-second", "10", "--stats-topics", "0"]) == 2
    assert "--stats-topics must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        run_plan("--tweets-per-second", "10", "--avg-record-bytes", "0")
    assert exit_info.value.code == 2
    assert "--avg-record-bytes: must be between 1 and 1,048,576" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tweets-per-second", "1e306"], "--tweets-per-second: must be at most 10,000,000"),
        (["--tweets-per-second", "1e400"], "--tweets-per-second: must be a positive number"),
        (["--cpu-us-per-record", "nan"], "--cpu-us-per-record: must be between 0 and 1,000,000"),
        (["--cpu-us-per-record", "inf"], "--cpu-us-per-record: must be between 0 and 1,000,000"),
        (["--cpu-us-per-record", "-1"], "--cpu-us-per-record: must be between 0 and 1,000,000"),
        (["--hot-topic-share", "nan"], "--hot-topic-share: must be between"),
        (["--ttl-days", "99999999999999999999"], "--ttl-days: must be between 1 and 36,500"),
        (["--stats-topics", "1e3"], "--stats-topics: must be a whole number"),
    ],
)
def test_values_that_would_overflow_get_a_one_line_error_and_no_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = (
        ["plan", *argv]
        if argv[0] == "--tweets-per-second"
        else ["plan", "--tweets-per-second", "10", *argv]
    )
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_json_at_the_largest_rate_has_only_finite_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run_plan("--tweets-per-second", "10000000", "--json", "--avg-record-bytes", "1048576") == 0
    )
    printed = capsys.readouterr().out
    assert "Infinity" not in printed
    assert "NaN" not in printed
    json.loads(printed, parse_constant=lambda name: pytest.fail(f"{name} in the plan"))


def test_the_plan_takes_its_per_record_figures_from_the_bench_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "bench.json"
    report.write_text(
        json.dumps(
            {
                "measured_at": "2026-11-29T12:00:00+00:00",
                "figures": [
                    {"key": "consumer_cpu_us_per_record", "spread": {"median": 9.0}},
                    {
                        "key": "consumer_cpu_us_per_record_with_botocore",
                        "spread": {"median": 40.0},
                    },
                    {"key": "transformer_records_per_second", "spread": {"median": 20_000.0}},
                    {"key": "producer_cpu_us_per_tweet", "spread": {"median": 60.0}},
                    *[
                        {
                            "name": f"write units at scale {key}",
                            "key": key,
                            "spread": {"median": 2.1},
                            "details": {"tweet_item_units": 2.0, "stats_units_per_update": units},
                        }
                        for key, units in zip(SCALE_KEYS, (1.0, 1.0, 3.0, 1.0), strict=True)
                    ],
                ],
            }
        )
    )
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(["--tweets-per-second", "10", "--bench", str(report)])
    inputs = command.inputs_from_args(args)
    assert inputs.consumer_cpu_us_per_record == 40.0
    assert inputs.transformer_cpu_us_per_record == pytest.approx(50.0)
    assert inputs.producer_cpu_us_per_tweet == 60.0
    assert inputs.tweet_item_wru == 2.0  # the bench's figure, not the default
    assert inputs.stats_wru_per_update == 3.0  # the most any shard count measured
    assert inputs.measured_source == f"{report} (measured 2026-11-29T12:00:00+00:00)"
    assert command.run(args) == 0
    assert f"measured figures: {report}" in capsys.readouterr().out.replace("\n", " ")
    report.write_text("{not json")
    assert command.inputs_from_args(args).measured_source.startswith("defaults")


def test_the_defaults_are_the_last_measured_figures_and_say_so() -> None:
    """The bench of 2026-11-29 measured 1.00 write unit per tweet item (1 per started KB of a
    standard write: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)
    and 527 µs of consumer CPU per record with botocore; docs/performance.md records both."""
    inputs = PlanInputs(tweets_per_second=1.0)
    assert MEASURED_DEFAULTS.tweet_item_wru == write_units_for_item(inputs.tweet_item_bytes) == 1
    assert MEASURED_DEFAULTS.consumer_cpu_us_per_record == 527.0
    assert inputs.measured_source.startswith("defaults = the last make bench")
    assert "not" not in inputs.measured_source
    performance = (Path(__file__).parents[2] / "docs" / "performance.md").read_text(
        encoding="utf-8"
    )
    assert "| consumer CPU per record with botocore (HTTP answered in memory, " in performance
    assert "the plan's default) | 527 µs |" in performance


def test_the_consumer_cpu_is_the_botocore_figure_read_by_its_key(tmp_path: Path) -> None:
    """Every PutItem is signed and serialised by botocore in the function: the plan sizes the
    consumer with that figure, never with the in-memory one listed before it, and finds it by
    its key whatever its label says."""
    report = tmp_path / "bench.json"
    in_memory = {
        "key": "consumer_cpu_us_per_record",
        "name": "consumer CPU per record with botocore? no: in memory (10,000-record batch)",
        "spread": {"median": 47.2},
    }
    with_botocore = {
        "key": "consumer_cpu_us_per_record_with_botocore",
        "name": "relabelled",
        "spread": {"median": 600.0},
    }
    report.write_text(json.dumps({"measured_at": "x", "figures": [in_memory, with_botocore]}))
    assert load_measured(report).consumer_cpu_us_per_record == 600.0
    report.write_text(json.dumps({"measured_at": "x", "figures": [in_memory]}))
    assert load_measured(report) == MEASURED_DEFAULTS
    producer = {"key": "producer_cpu_us_per_tweet", "spread": {"median": 60.0}}
    report.write_text(json.dumps({"measured_at": "x", "figures": [in_memory, producer]}))
    partial = load_measured(report)
    assert partial.consumer_cpu_us_per_record == MEASURED_DEFAULTS.consumer_cpu_us_per_record
    assert "last measured defaults for consumer_cpu_us_per_record" in partial.source


def test_the_consumer_keeps_as_many_calls_in_flight_as_its_write_threads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert PlanInputs(tweets_per_second=1.0).dynamodb_calls_in_flight == WRITE_WORKERS
    assert run_plan("--tweets-per-second", "1000", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["inputs"]["dynamodb_calls_in_flight"] == WRITE_WORKERS


def test_the_plan_sizes_the_consumer_at_its_terraform_memory() -> None:
    """The consumer's CPU share follows its memory: the model's default is Terraform's."""
    variables = (Path(__file__).parents[2] / "terraform" / "variables.tf").read_text(
        encoding="utf-8"
    )
    main = (Path(__file__).parents[2] / "terraform" / "main.tf").read_text(encoding="utf-8")
    declared = re.search(r'variable "consumer_memory_mb" \{.*?default\s*=\s*(\d+)', variables, re.S)
    assert declared is not None
    assert re.search(r'module "consumer" \{.*?memory_mb\s*=\s*var\.consumer_memory_mb', main, re.S)
    assert PlanInputs(tweets_per_second=1.0).consumer_memory_mb == int(declared.group(1))


def test_more_consumer_memory_needs_fewer_shards_at_1000_tweets_per_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Lambda allocates CPU in proportion to memory, a full vCPU at 1,769 MB
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)."""
    shards = {}
    for memory in ("512", "1769"):
        assert (
            run_plan("--tweets-per-second", "1000", "--consumer-memory-mb", memory, "--json") == 0
        )
        shards[memory] = json.loads(capsys.readouterr().out)["kinesis"]["shards"]
    assert shards["1769"] < shards["512"]


def test_at_the_botocore_cpu_figure_the_consumer_adds_shards_at_1000_tweets_per_second() -> None:
    """527 µs a record on 0.29 of a vCPU: about 1.8 ms a record, so a shard's one invocation
    keeps up with some 400 records/s, and 1,000 tweets/s need more than the stream's 2 shards."""
    plan = build_plan(PlanInputs(tweets_per_second=1000))
    assert plan.consumer.shards_added_for_consumer > 0
    assert plan.kinesis.binding_limit.startswith("consumer Lambda")
    assert plan.consumer.busy_fraction_per_shard <= 0.8


def test_comprehend_is_priced_per_unit_with_its_three_unit_minimum() -> None:
    assert comprehend_units_per_document(1) == 3
    assert comprehend_units_per_document(300) == 3
    assert comprehend_units_per_document(301) == 4
    assert comprehend_monthly_usd(10e6) == pytest.approx(10e6 * 0.0001)
    assert comprehend_monthly_usd(60e6) == pytest.approx(
        10e6 * 0.0001 + 40e6 * 0.00005 + 10e6 * 0.000025
    )
    vader = build_plan(PlanInputs(tweets_per_second=1000))
    comprehend = build_plan(PlanInputs(tweets_per_second=1000, sentiment_engine="comprehend"))
    assert comprehend.sentiment.units_per_month == pytest.approx(3 * 1000 * 2_628_000)
    assert comprehend.sentiment.calls_per_month == pytest.approx(1000 * 2_628_000 / 25)
    assert comprehend.usd_per_million_tweets > 30 * vader.usd_per_million_tweets


def test_the_plan_prints_vader_and_comprehend_per_million(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_plan("--tweets-per-second", "1000") == 0
    out = capsys.readouterr().out
    assert "per million tweets by sentiment engine:" in out
    assert "with vader" in out
    assert "with comprehend" in out


def test_plan_inputs_reject_a_non_positive_rate_even_without_argparse() -> None:
    for rate in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="positive"):
            PlanInputs(tweets_per_second=rate)


@pytest.mark.parametrize("rate", ["10", "1000", "100000"])
def test_the_plans_in_docs_capacity_md_are_what_the_command_prints(
    rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_plan("--tweets-per-second", rate) == 0
    printed = capsys.readouterr().out
    document = (Path(__file__).parents[2] / "docs" / "capacity.md").read_text(encoding="utf-8")
    assert f"```text\n{printed}```" in document, "regenerate the plans in docs/capacity.md"


def test_the_plan_assumes_the_stacks_own_batch_size() -> None:
    """The plan prices the stack as Terraform deploys it: its BatchSize default is Terraform's."""
    variables = (Path(__file__).parents[2] / "terraform" / "variables.tf").read_text(
        encoding="utf-8"
    )
    declared = re.search(
        r'variable "consumer_batch_size" \{.*?default\s*=\s*(\d+)', variables, re.S
    )
    assert declared is not None
    assert PlanInputs(tweets_per_second=1.0).consumer_batch_size == int(declared.group(1))
