"""DynamoDB EventData: write units per tweet and per stats update, hot keys, storage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacity_plan.consumer import ConsumerPlan
from capacity_plan.inputs import PlanInputs
from capacity_plan.prices import PRICES
from capacity_plan.units import GIB, KIB, SECONDS_PER_MONTH, ceil_div

DYNAMODB_PARTITION_WCU_PER_S: Final = 1000
DYNAMODB_TABLE_WRU_QUOTA: Final = 40_000
DYNAMODB_ON_DEMAND_WARM_WRU: Final = 4000
DYNAMODB_WRITE_UNIT_BYTES: Final = 1 * KIB
DYNAMODB_ITEM_OVERHEAD_BYTES: Final = 100
DYNAMODB_MAX_ITEM_BYTES: Final = 400 * KIB
WATERMARK_NAME_BYTES: Final = len("applied#shardId-000000000000")
WATERMARK_VALUE_BYTES: Final = 59
"""A stats item's ``applied#<shardId>`` watermark: a 3-digit length and the sequence number."""


def write_units_for_item(item_bytes: float) -> int:
    """1 WRU per started KB of a standard (non-transactional) write (DynamoDB read/write units).

    A conditional write whose condition fails costs the same, so a duplicate tweet still pays for
    its item; an update pays for the larger of the item before and after it.
    """
    return max(1, ceil_div(item_bytes, DYNAMODB_WRITE_UNIT_BYTES))


def shards_feeding_a_minute(shards: int, tweets_per_shard_per_s: float, topics: int) -> float:
    """Expected shards whose tweets reach one (topic, minute): partitioned by tweet id, every
    shard carries every topic once it sees more than a few tweets of each a minute."""
    return shards * (1.0 - math.pow(1.0 - 1.0 / topics, tweets_per_shard_per_s * 60))


def stats_item_bytes(base_bytes: int, shards_feeding: float) -> float:
    """A stats item with one ``applied#<shardId>`` watermark per shard that fed its minute.

    Each watermark is its attribute name plus its value (DynamoDB item size: names and values);
    the item grows through the minute, and an update is billed on the larger, later size.
    """
    return base_bytes + shards_feeding * (WATERMARK_NAME_BYTES + WATERMARK_VALUE_BYTES)


def hot_topic_saturation_tweets_per_s(wru_per_tweet_on_key: float, stats_wru_per_s: float) -> float:
    """Tweets/s on one topic at which its ``TOPIC#<topic>`` partition reaches 1,000 WCU/s.

    A partition serves 1,000 write units/s (DynamoDB partition throughput). Every tweet writes
    its item under the topic's key; their sort keys grow with time
    (``created_at``, snowflake ids), so concurrent writes land at the tail of the key range and
    adaptive split-for-heat cannot spread them: the topic's partition key is the bound.
    """
    return max(0.0, (DYNAMODB_PARTITION_WCU_PER_S - stats_wru_per_s) / wru_per_tweet_on_key)


def write_shards_for_key(wru_per_s_on_key: float, utilisation: float = 0.8) -> int:
    """Suffixes ``TOPIC#<topic>#<n>`` needed to keep each sharded key under the partition limit."""
    return max(1, ceil_div(wru_per_s_on_key, DYNAMODB_PARTITION_WCU_PER_S * utilisation))


@dataclass(frozen=True)
class DynamoPlan:
    wru_per_tweet: float
    tweet_item_wru: float
    stats_wru_per_tweet: float
    stats_item_bytes: float
    stats_wru_per_update: int
    put_items_per_1000_tweets: float
    stats_updates_per_1000_tweets: float
    stats_updates_per_s: float
    wru_per_s: float
    wru_per_month: float
    request_monthly_usd: float
    storage_gb: float
    storage_monthly_usd: float
    hot_topic_tweets_per_s: float
    hot_topic_wru_per_s: float
    stats_item_wru_per_s: float
    hot_topic_saturation_tweets_per_s: float
    hot_topic_write_shards: int


def dynamodb_plan(inputs: PlanInputs, consumer: ConsumerPlan, shards: int) -> DynamoPlan:
    rate = inputs.tweets_per_second
    tweet_wru = inputs.tweet_item_wru  # a conditional PutItem: 1 per started KB, duplicate or not
    feeding = shards_feeding_a_minute(shards, rate / shards, inputs.stats_topics)
    stats_bytes = stats_item_bytes(inputs.stats_item_bytes, feeding)
    stats_wru = write_units_for_item(stats_bytes)
    stats_updates_per_s = consumer.invocations_per_s * consumer.stats_updates_per_batch
    wru_per_s = rate * tweet_wru + stats_updates_per_s * stats_wru
    per_month = wru_per_s * SECONDS_PER_MONTH
    day = rate * 86_400
    stored_bytes = inputs.ttl_days * (
        day * (inputs.tweet_item_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES)
        + inputs.stats_topics * 1440 * (stats_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES)
    )
    storage_gb = stored_bytes / GIB
    hot_rate = rate * inputs.hot_topic_share
    topic_in_batch = 1.0 - math.pow(1.0 - inputs.hot_topic_share, consumer.records_per_invocation)
    stats_item_wru_per_s = consumer.invocations_per_s * topic_in_batch * stats_wru
    hot_wru = hot_rate * tweet_wru + stats_item_wru_per_s
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
        request_monthly_usd=per_month * PRICES["dynamodb_write_request_unit"].usd,
        storage_gb=storage_gb,
        storage_monthly_usd=storage_gb * PRICES["dynamodb_storage_gb_month"].usd,
        hot_topic_tweets_per_s=hot_rate,
        hot_topic_wru_per_s=hot_wru,
        stats_item_wru_per_s=stats_item_wru_per_s,
        hot_topic_saturation_tweets_per_s=hot_topic_saturation_tweets_per_s(
            tweet_wru, stats_item_wru_per_s
        ),
        hot_topic_write_shards=write_shards_for_key(hot_wru),
    )
