"""The load and the assumptions a plan is built for, each bounded so no figure overflows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from capacity_plan.measured import MEASURED_DEFAULTS
from consumer.writes import WRITE_WORKERS
from producer.kinesis_writer import MAX_BYTES_PER_RECORD

KINESIS_MAX_RECORD_BYTES: Final = MAX_BYTES_PER_RECORD

Architecture = Literal["arm64", "x86_64"]
SentimentEngineName = Literal["vader", "comprehend", "off"]
SENTIMENT_ENGINES: Final = ("vader", "comprehend", "off")
MAX_TWEETS_PER_SECOND: Final = 10_000_000.0
"""Far beyond any single stack (10,000 shards); larger rates overflow the monthly figures."""


def _check(name: str, value: float, low: float, high: float) -> None:
    """One bound per option, so NaN, infinities and overflowing values get a clear message."""
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be between {low:,g} and {high:,g}, got {value}")


@dataclass(frozen=True)
class PlanInputs:
    """The load and the assumptions; every default is stated in docs/capacity.md."""

    tweets_per_second: float
    avg_record_bytes: int = 1200
    avg_text_chars: int = 140
    stats_topics: int = 50
    hot_topic_share: float = 0.2
    tweet_item_bytes: int = 500
    stats_item_bytes: int = 150
    consumer_batch_size: int = 500
    consumer_batching_window_s: float = 1.0
    consumer_cpu_us_per_record: float = MEASURED_DEFAULTS.consumer_cpu_us_per_record
    dynamodb_ms_per_call: float = 10.0
    dynamodb_calls_in_flight: int = WRITE_WORKERS
    invocation_overhead_ms: float = 5.0
    consumer_memory_mb: int = 512
    transformer_memory_mb: int = 256
    transformer_cpu_us_per_record: float = MEASURED_DEFAULTS.transformer_cpu_us_per_record
    producer_memory_mb: int = 256
    producer_cpu_us_per_tweet: float = MEASURED_DEFAULTS.producer_cpu_us_per_tweet
    tweet_item_wru: float = MEASURED_DEFAULTS.tweet_item_wru
    stats_wru_per_update: float = MEASURED_DEFAULTS.stats_wru_per_update
    measured_source: str = MEASURED_DEFAULTS.source
    sentiment_engine: SentimentEngineName = "vader"
    architecture: Architecture = "x86_64"
    ttl_days: int = 7
    processor_buffer_mb: float = 1.0
    processor_interval_s: float = 60.0
    s3_buffer_mb: float = 128.0
    """The stack's default (Parquet conversion needs at least 64 MB)."""
    s3_interval_s: float = 300.0
    lake_bytes_ratio: float = 0.6
    lake_gzip_ratio: float = 0.25
    lake_parquet_ratio: float = 0.66
    """GZIP Parquet bytes per GZIP JSON line byte (lake bench: 38.4 against 58.3 B a tweet)."""
    athena_scan_share: float = 0.26
    """Share of a day's Parquet bytes a named query reads (lake bench: 16 to 43 %, mean 26 %)."""
    lake_retention_days: int = 90
    athena_queries_per_day: int = 24
    shard_utilisation: float = 0.8
    producer_interval_s: float = 300.0
    x_page_latency_ms: float = 400.0
    kinesis_put_latency_ms: float = 50.0

    def __post_init__(self) -> None:
        rate = self.tweets_per_second
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"--tweets-per-second must be a positive number, got {rate}")
        _check("--tweets-per-second", rate, 0, MAX_TWEETS_PER_SECOND)
        _check("--avg-record-bytes", self.avg_record_bytes, 1, KINESIS_MAX_RECORD_BYTES)
        _check("--avg-text-chars", self.avg_text_chars, 1, 25_000)
        if self.stats_topics < 1:
            raise ValueError("--stats-topics must be at least 1")
        _check("--stats-topics", self.stats_topics, 1, 1_000_000)
        if not (math.isfinite(self.hot_topic_share) and 0 < self.hot_topic_share <= 1):
            raise ValueError("--hot-topic-share must be in (0, 1]")
        if not 1 <= self.consumer_batch_size <= 10_000:
            raise ValueError("--consumer-batch-size must be between 1 and 10,000 (ESM limit)")
        _check("--cpu-us-per-record", self.consumer_cpu_us_per_record, 0, 1e6)
        _check("--dynamodb-calls-in-flight", self.dynamodb_calls_in_flight, 1, 1000)
        _check("--consumer-memory-mb", self.consumer_memory_mb, 128, 10_240)
        _check("transformer CPU per record", self.transformer_cpu_us_per_record, 0, 1e6)
        _check("producer CPU per tweet", self.producer_cpu_us_per_tweet, 0, 1e6)
        _check("tweet item write units", self.tweet_item_wru, 1, 800)
        _check("stats update write units", self.stats_wru_per_update, 1, 800)
        _check("--ttl-days", self.ttl_days, 1, 36_500)
        if self.architecture not in ("x86_64", "arm64"):
            raise ValueError("--architecture must be x86_64 or arm64")
        if self.sentiment_engine not in SENTIMENT_ENGINES:
            raise ValueError("--sentiment-engine must be vader, comprehend or off")
