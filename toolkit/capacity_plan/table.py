"""DynamoDB EventData: write units per tweet and per stats update, hot keys, storage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacity_plan.consumer import ConsumerPlan
from capacity_plan.inputs import PlanInputs
from capacity_plan.prices import PRICES
from capacity_plan.units import GIB, HOURS_PER_MONTH, KIB, SECONDS_PER_MONTH, ceil_div

DYNAMODB_PARTITION_WCU_PER_S: Final = 1000
DYNAMODB_TABLE_WRU_QUOTA: Final = 40_000
DYNAMODB_ON_DEMAND_WARM_WRU: Final = 4000
DYNAMODB_WRITE_UNIT_BYTES: Final = 1 * KIB
DYNAMODB_ITEM_OVERHEAD_BYTES: Final = 100
DYNAMODB_MAX_ITEM_BYTES: Final = 400 * KIB
WATERMARK_BYTES: Final = len("applied") + 59
"""A partial stats item's one watermark: its name, a 3-digit length and the sequence number."""
AUTOSCALING_TARGET_UTILISATION: Final = 0.70
"""Terraform's ``table_autoscaling.target_utilization_percent`` default."""
AUTOSCALING_MIN_CAPACITY: Final = 5
"""Terraform's default minimum read and write capacity units."""
BILLING_MODES: Final = ("on-demand", "provisioned")


def write_units_for_item(item_bytes: float) -> int:
    """1 WRU per started KB of a standard (non-transactional) write (DynamoDB read/write units).

    A conditional write whose condition fails costs the same, so a duplicate tweet still pays for
    its item; an update pays for the larger of the item before and after it.
    """
    return max(1, ceil_div(item_bytes, DYNAMODB_WRITE_UNIT_BYTES))


def partial_stats_item_bytes(base_bytes: int) -> int:
    """A shard's partial stats item: key, counters, expiry and its one watermark, whatever the
    number of shards (DynamoDB item size: attribute names and values)."""
    return base_bytes + WATERMARK_BYTES


def on_demand_writes_monthly_usd(wru_per_s: float) -> float:
    """Write request units, each billed (DynamoDB on-demand pricing)."""
    return wru_per_s * SECONDS_PER_MONTH * PRICES["dynamodb_write_request_unit"].usd


def provisioned_capacity_monthly_usd(
    wru_per_s: float,
    target_utilisation: float = AUTOSCALING_TARGET_UTILISATION,
    min_capacity: int = AUTOSCALING_MIN_CAPACITY,
) -> float:
    """Write and read capacity units by the hour (DynamoDB provisioned pricing). Auto scaling
    keeps consumed capacity near the target, so provisioned = consumed / target, at least the
    minimum; reads (the API's queries) stay at the minimum read capacity."""
    write_units = max(float(min_capacity), wru_per_s / target_utilisation)
    return HOURS_PER_MONTH * (
        write_units * PRICES["dynamodb_write_capacity_unit_hour"].usd
        + min_capacity * PRICES["dynamodb_read_capacity_unit_hour"].usd
    )


def hot_topic_saturation_tweets_per_s(wru_per_tweet_on_key: float, stats_wru_per_s: float) -> float:
    """Tweets/s on one topic at which its ``TOPIC#<topic>`` partition reaches 1,000 WCU/s.

    A partition serves 1,000 write units/s (DynamoDB partition throughput). Every tweet writes
    its item under the topic's key; their sort keys grow with time
    (``created_at``, snowflake ids), so concurrent writes land at the tail of the key range and
    adaptive split-for-heat cannot spread them: the topic's partition key is the bound.
    """
    return max(0.0, (DYNAMODB_PARTITION_WCU_PER_S - stats_wru_per_s) / wru_per_tweet_on_key)


def write_shards_for_key(wru_per_s_on_key: float, utilisation: float = 0.8) -> int:
    """Key parts (Terraform's ``hot_topic_key_parts``) that keep each of a topic's partition
    keys under ``utilisation`` of a partition."""
    return max(1, ceil_div(wru_per_s_on_key, DYNAMODB_PARTITION_WCU_PER_S * utilisation))


def shards_feeding_a_minute(shards: int, tweets_per_shard_per_s: float, topics: int) -> float:
    """Expected shards whose tweets reach one (topic, minute), each with its partial item:
    partitioned by tweet id, every shard carries every topic once it sees more than a few
    tweets of each a minute."""
    return shards * (1.0 - math.pow(1.0 - 1.0 / topics, tweets_per_shard_per_s * 60))


@dataclass(frozen=True)
class DynamoPlan:
    wru_per_tweet: float
    tweet_item_wru: float
    stats_wru_per_tweet: float
    stats_item_bytes: float
    stats_wru_per_update: float
    put_items_per_1000_tweets: float
    stats_updates_per_1000_tweets: float
    stats_updates_per_s: float
    wru_per_s: float
    wru_per_month: float
    on_demand_monthly_usd: float
    provisioned_monthly_usd: float
    billing_mode: str
    """The cheaper for this sustained load: what the cost table counts."""
    request_monthly_usd: float
    """The writes in ``billing_mode``."""
    storage_gb: float
    storage_monthly_usd: float
    hot_topic_tweets_per_s: float
    hot_topic_wru_per_s: float
    hot_topic_stats_wru_per_s: float
    hot_topic_saturation_tweets_per_s: float
    hot_topic_key_parts: int


def dynamodb_plan(inputs: PlanInputs, consumer: ConsumerPlan, shards: int) -> DynamoPlan:
    rate = inputs.tweets_per_second
    tweet_wru = inputs.tweet_item_wru  # a conditional PutItem: 1 per started KB, duplicate or not
    stats_bytes = partial_stats_item_bytes(inputs.stats_item_bytes)
    stats_wru = max(float(write_units_for_item(stats_bytes)), inputs.stats_wru_per_update)
    stats_updates_per_s = consumer.invocations_per_s * consumer.stats_updates_per_batch
    wru_per_s = rate * tweet_wru + stats_updates_per_s * stats_wru
    per_month = wru_per_s * SECONDS_PER_MONTH
    on_demand = on_demand_writes_monthly_usd(wru_per_s)
    provisioned = provisioned_capacity_monthly_usd(wru_per_s)
    day = rate * 86_400
    partials = shards_feeding_a_minute(shards, rate / shards, inputs.stats_topics)
    stored_bytes = inputs.ttl_days * (
        day * (inputs.tweet_item_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES)
        + inputs.stats_topics * 1440 * partials * (stats_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES)
    )
    storage_gb = stored_bytes / GIB
    hot_rate = rate * inputs.hot_topic_share
    topic_in_batch = 1.0 - math.pow(1.0 - inputs.hot_topic_share, consumer.records_per_invocation)
    hot_stats_wru_per_s = consumer.invocations_per_s * topic_in_batch * stats_wru
    hot_wru = hot_rate * tweet_wru + hot_stats_wru_per_s
    return DynamoPlan(
        wru_per_tweet=wru_per_s / rate,
        tweet_item_wru=tweet_wru,
        stats_wru_per_tweet=stats_updates_per_s * stats_wru / rate,
        stats_item_bytes=stats_bytes,
        stats_wru_per_update=stats_wru,
        put_items_per_1000_tweets=1000.0,
        stats_updates_per_1000_tweets=1000 * stats_updates_per_s / rate,
        stats_updates_per_s=stats_updates_per_s,
        wru_per_s=wru_per_s,
        wru_per_month=per_month,
        on_demand_monthly_usd=on_demand,
        provisioned_monthly_usd=provisioned,
        billing_mode="provisioned" if provisioned < on_demand else "on-demand",
        request_monthly_usd=min(provisioned, on_demand),
        storage_gb=storage_gb,
        storage_monthly_usd=storage_gb * PRICES["dynamodb_storage_gb_month"].usd,
        hot_topic_tweets_per_s=hot_rate,
        hot_topic_wru_per_s=hot_wru,
        hot_topic_stats_wru_per_s=hot_stats_wru_per_s,
        hot_topic_saturation_tweets_per_s=hot_topic_saturation_tweets_per_s(
            tweet_wru, hot_stats_wru_per_s
        ),
        hot_topic_key_parts=write_shards_for_key(hot_wru),
    )
