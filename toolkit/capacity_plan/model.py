"""The capacity and monthly AWS cost of the stack for a given tweet rate (``trendstream plan``).

A chain of small pure functions, one per limit or price, each saying where its number comes
from, so a reviewer can check a figure against the AWS page it cites and a test can check it
against a hand computation. ``build_plan`` wires them together for one load and
``plan_to_dict`` gives it as data; ``trendstream_cli.plan`` parses options and renders.
Prices live in ``capacity_plan.prices`` (each with its page and the date it was read), the
measured per-record figures in ``capacity_plan.measured``, and the limits the product itself
enforces (PutRecords and Comprehend batch sizes, the consumer's write threads) are imported from
the product code. Nothing here talks to AWS.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

from capacity_plan.measured import MEASURED_DEFAULTS
from capacity_plan.prices import COMPREHEND_UNIT_TIERS, PRICES, PRICES_READ
from consumer.writes import WRITE_WORKERS
from producer.kinesis_writer import MAX_BYTES_PER_RECORD, MAX_RECORDS_PER_CALL
from tweet_record.sentiment import COMPREHEND_BATCH_SIZE

PLAN_SCHEMA: Final = "trendstream.plan/3"
REGION: Final = "us-east-1"

KIB: Final = 1024
MIB: Final = 1024 * 1024
GIB: Final = 1024**3
TIB: Final = 1024**4
HOURS_PER_MONTH: Final = 730
"""AWS pricing pages and the pricing calculator bill a month as 730 hours."""
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24

Architecture = Literal["arm64", "x86_64"]
SentimentEngineName = Literal["vader", "comprehend", "off"]
SENTIMENT_ENGINES: Final = ("vader", "comprehend", "off")

# --- limits (each named at the function that uses it) ---------------------------------------
KINESIS_SHARD_WRITE_RECORDS_PER_S: Final = 1000
KINESIS_SHARD_WRITE_BYTES_PER_S: Final = 1 * MIB
KINESIS_SHARD_READ_BYTES_PER_S: Final = 2 * MIB
KINESIS_PUT_PAYLOAD_UNIT_BYTES: Final = 25 * KIB
KINESIS_SHARD_QUOTA_CURRENT: Final = 20_000
KINESIS_SHARD_QUOTA_LEGACY: Final = 500
KINESIS_SHARD_QUOTA_LEGACY_SMALL_REGIONS: Final = 200
PUT_RECORDS_MAX_RECORDS: Final = MAX_RECORDS_PER_CALL
KINESIS_MAX_RECORD_BYTES: Final = MAX_BYTES_PER_RECORD
LAMBDA_CONCURRENCY_QUOTA: Final = 1000
LAMBDA_MB_PER_VCPU: Final = 1769
"""At 1,769 MB a function has the equivalent of one vCPU; less memory, a proportional share."""
DYNAMODB_PARTITION_WCU_PER_S: Final = 1000
DYNAMODB_TABLE_WRU_QUOTA: Final = 40_000
DYNAMODB_ON_DEMAND_WARM_WRU: Final = 4000
DYNAMODB_WRITE_UNIT_BYTES: Final = 1 * KIB
DYNAMODB_ITEM_OVERHEAD_BYTES: Final = 100
DYNAMODB_MAX_ITEM_BYTES: Final = 400 * KIB
WATERMARK_NAME_BYTES: Final = len("applied#shardId-000000000000")
WATERMARK_VALUE_BYTES: Final = 59
"""A stats item's ``applied#<shardId>`` watermark: a 3-digit length and the sequence number."""
FIREHOSE_BILLING_INCREMENT_BYTES: Final = 5 * KIB
FIREHOSE_DIRECT_PUT_BYTES_PER_S_SMALL_REGIONS: Final = 1 * MIB
FIREHOSE_DIRECT_PUT_RECORDS_PER_S_SMALL_REGIONS: Final = 1000
ATHENA_MIN_SCAN_BYTES: Final = 10 * 1000 * 1000
X_SEARCH_RECENT_REQUESTS_PER_WINDOW: Final = 450
X_RATE_WINDOW_S: Final = 15 * 60
X_TWEETS_PER_PAGE: Final = 100
COMPREHEND_DOCUMENTS_PER_CALL: Final = COMPREHEND_BATCH_SIZE
COMPREHEND_UNIT_CHARACTERS: Final = 100
COMPREHEND_MIN_UNITS_PER_REQUEST: Final = 3
"""Comprehend meters each document in 100-character units, at least 3 units per document."""
COMPREHEND_CALL_MS: Final = 200.0
"""Assumed latency of one BatchDetectSentiment call (the producer waits for it)."""
RECOMMENDED_BATCH_SIZE: Final = 500
"""An event source mapping BatchSize that shares each minute's stats update between more tweets."""
CONSUMER_INVOCATIONS_PER_SHARD: Final = 1
"""ParallelizationFactor is fixed at 1 (exactly-once stats, docs/data-model.md): scale by shards."""
MAX_TWEETS_PER_SECOND: Final = 10_000_000.0
"""Far beyond any single stack (10,000 shards); larger rates overflow the monthly figures."""
SHARED_CONSUMERS: Final = 2
"""The consumer Lambda's event source mapping and Firehose both read the stream (shared reads)."""


def _ceil_div(numerator: float, denominator: float) -> int:
    """Ceiling of a quotient, tolerant of float noise so 1000/1000 stays 1."""
    return max(0, math.ceil(numerator / denominator - 1e-9))


# --- Kinesis ----------------------------------------------------------------------------------
def shards_for_write_records(records_per_s: float, utilisation: float = 1.0) -> int:
    """A shard takes 1,000 records/s of writes (Kinesis Data Streams quotas and limits page)."""
    return _ceil_div(records_per_s, KINESIS_SHARD_WRITE_RECORDS_PER_S * utilisation)


def shards_for_write_bytes(bytes_per_s: float, utilisation: float = 1.0) -> int:
    """A shard takes 1 MiB/s of writes (Kinesis Data Streams quotas and limits page)."""
    return _ceil_div(bytes_per_s, KINESIS_SHARD_WRITE_BYTES_PER_S * utilisation)


def shards_for_shared_read(bytes_per_s: float, consumers: int, utilisation: float = 1.0) -> int:
    """A shard serves 2 MiB/s of reads split among all shared-throughput consumers.

    Every shared consumer reads the whole stream, so reads are ``consumers`` times the ingest
    (Kinesis "Develop shared-throughput consumers": 2 MB/s per shard, shared).
    """
    return _ceil_div(bytes_per_s * consumers, KINESIS_SHARD_READ_BYTES_PER_S * utilisation)


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
    return _ceil_div(bytes_per_s * (consumers + catch_up), KINESIS_SHARD_READ_BYTES_PER_S)


def put_payload_units(record_bytes: int) -> int:
    """Provisioned mode bills each record in 25 KB PUT payload units (a 5 KB record is one unit)."""
    return max(1, _ceil_div(record_bytes, KINESIS_PUT_PAYLOAD_UNIT_BYTES))


def on_demand_billed_bytes(record_bytes: int) -> int:
    """On-demand mode bills each record rounded up to the next 1 KB (1,024 bytes)."""
    return max(1, _ceil_div(record_bytes, KIB)) * KIB


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


# --- Lambda -----------------------------------------------------------------------------------
def records_per_batch(rate_per_shard: float, batch_size: int, batching_window_s: float) -> float:
    """Records in one event-source-mapping batch from one shard.

    Lambda polls each shard about once a second and waits up to the batching window to fill the
    batch (Lambda "Using Lambda with Kinesis": base polling rate once per second per shard).
    """
    collected = rate_per_shard * max(batching_window_s, 1.0)
    return max(1.0, min(float(batch_size), collected))


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


# --- DynamoDB ---------------------------------------------------------------------------------
def write_units_for_item(item_bytes: float) -> int:
    """1 WRU per started KB of a standard (non-transactional) write (DynamoDB read/write units).

    A conditional write whose condition fails costs the same, so a duplicate tweet still pays for
    its item; an update pays for the larger of the item before and after it.
    """
    return max(1, _ceil_div(item_bytes, DYNAMODB_WRITE_UNIT_BYTES))


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
    return max(1, _ceil_div(wru_per_s_on_key, DYNAMODB_PARTITION_WCU_PER_S * utilisation))


# --- Firehose, S3, Athena ---------------------------------------------------------------------
def firehose_billed_bytes(record_bytes: int) -> int:
    """Firehose bills ingestion per record rounded up to the next 5 KB (Firehose pricing)."""
    return max(1, _ceil_div(record_bytes, FIREHOSE_BILLING_INCREMENT_BYTES)) * (
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


# --- Producer ---------------------------------------------------------------------------------
def x_api_max_tweets_per_s(
    requests_per_window: int = X_SEARCH_RECENT_REQUESTS_PER_WINDOW,
    window_s: int = X_RATE_WINDOW_S,
    tweets_per_page: int = X_TWEETS_PER_PAGE,
) -> float:
    """Ceiling of recent search: 450 requests / 15 min (app auth) x 100 tweets per page = 50/s."""
    return requests_per_window * tweets_per_page / window_s


# --- the plan ---------------------------------------------------------------------------------
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
    measured_source: str = MEASURED_DEFAULTS.source
    sentiment_engine: SentimentEngineName = "vader"
    architecture: Architecture = "x86_64"
    ttl_days: int = 7
    processor_buffer_mb: float = 1.0
    processor_interval_s: float = 60.0
    s3_buffer_mb: float = 5.0
    s3_interval_s: float = 300.0
    lake_bytes_ratio: float = 0.6
    lake_gzip_ratio: float = 0.25
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
        _check("--ttl-days", self.ttl_days, 1, 36_500)
        if self.architecture not in ("x86_64", "arm64"):
            raise ValueError("--architecture must be x86_64 or arm64")
        if self.sentiment_engine not in SENTIMENT_ENGINES:
            raise ValueError("--sentiment-engine must be vader, comprehend or off")


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


def _lambda_figures(
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


@dataclass(frozen=True)
class ProducerPlan:
    x_api_max_tweets_per_s: float
    source_bound: bool
    pages_per_15_min: float
    put_records_calls_per_run: int
    lambda_plan: LambdaPlan
    schedule_monthly_usd: float


@dataclass(frozen=True)
class SentimentPlan:
    """Scoring once per tweet in the producer; Comprehend bills per document."""

    engine: str
    documents_per_month: float
    units_per_document: int
    units_per_month: float
    calls_per_month: float
    monthly_usd: float


@dataclass(frozen=True)
class Note:
    """Something that binds at a load; ``id`` lets the 10x/100x/1,000x view show what is new."""

    id: str
    text: str


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    monthly_usd: float


@dataclass(frozen=True)
class Plan:
    inputs: PlanInputs
    kinesis: KinesisPlan
    consumer: ConsumerPlan
    dynamodb: DynamoPlan
    firehose: FirehosePlan
    producer: ProducerPlan
    sentiment: SentimentPlan
    costs: list[CostLine]
    total_monthly_usd: float
    tweets_per_month: float
    usd_per_million_tweets: float
    notes: list[Note] = field(default_factory=list)


def _kinesis_shards(inputs: PlanInputs) -> tuple[int, int, int, int, str]:
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


@dataclass(frozen=True)
class _ConsumerLoad:
    """One shard's consumer at a shard count: its batches and how busy they keep it."""

    batches_per_shard_per_s: float
    records: float
    stats_updates: float
    calls: float
    duration_ms: float
    busy: float


def _consumer_load(inputs: PlanInputs, shards: int) -> _ConsumerLoad:
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
    return _ConsumerLoad(
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
        return _consumer_load(inputs, count).busy <= target

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


def _consumer(inputs: PlanInputs, shards: int) -> tuple[ConsumerPlan, int]:
    """One invocation per shard (ParallelizationFactor 1); shards added when it falls behind."""
    needed = shards_for_consumer(inputs, shards)
    load = _consumer_load(inputs, needed)
    plan = ConsumerPlan(
        **_lambda_figures(
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


def _kinesis(
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


def _dynamodb(inputs: PlanInputs, consumer: ConsumerPlan, shards: int) -> DynamoPlan:
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


def _firehose(inputs: PlanInputs) -> FirehosePlan:
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
        **_lambda_figures(
            invocations_per_s,
            per_invocation,
            duration_ms,
            inputs.transformer_memory_mb,
            inputs.architecture,
        )
    )
    lake_bytes_per_s = bytes_per_s * inputs.lake_bytes_ratio
    # Firehose applies the buffering hint before compression; objects land GZIP-compressed.
    objects_per_s = flushes_per_s(lake_bytes_per_s, inputs.s3_buffer_mb * MIB, inputs.s3_interval_s)
    objects = objects_per_s * SECONDS_PER_MONTH
    stored_bytes_per_s = lake_bytes_per_s * inputs.lake_gzip_ratio
    lake_gb_per_day = stored_bytes_per_s * 86_400 / GIB
    stored_gb = lake_gb_per_day * inputs.lake_retention_days
    athena_each = athena_query_usd(lake_gb_per_day * GIB)
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
        athena_scan_gb_per_query=max(lake_gb_per_day * GIB, ATHENA_MIN_SCAN_BYTES) / GIB,
        athena_usd_per_query=athena_each,
        athena_monthly_usd=athena_each * inputs.athena_queries_per_day * DAYS_PER_MONTH,
    )


def _producer(inputs: PlanInputs) -> ProducerPlan:
    """The scheduled X API producer, costed at what the API can deliver (at most ~50 tweets/s)."""
    ceiling = x_api_max_tweets_per_s()
    rate = min(inputs.tweets_per_second, ceiling)
    runs_per_s = 1 / inputs.producer_interval_s
    tweets_per_run = rate / runs_per_s
    pages = _ceil_div(tweets_per_run, X_TWEETS_PER_PAGE)
    puts = _ceil_div(tweets_per_run, PUT_RECORDS_MAX_RECORDS)
    duration_ms = (
        inputs.invocation_overhead_ms
        + pages * inputs.x_page_latency_ms
        + puts * inputs.kinesis_put_latency_ms
        + cpu_ms_at_memory(
            tweets_per_run * inputs.producer_cpu_us_per_tweet, inputs.producer_memory_mb
        )
    )
    if inputs.sentiment_engine == "comprehend":
        duration_ms += _ceil_div(tweets_per_run, COMPREHEND_DOCUMENTS_PER_CALL) * COMPREHEND_CALL_MS
    lambda_plan = LambdaPlan(
        **_lambda_figures(
            runs_per_s, tweets_per_run, duration_ms, inputs.producer_memory_mb, inputs.architecture
        )
    )
    return ProducerPlan(
        x_api_max_tweets_per_s=ceiling,
        source_bound=inputs.tweets_per_second > ceiling,
        pages_per_15_min=pages * runs_per_s * X_RATE_WINDOW_S,
        put_records_calls_per_run=puts,
        lambda_plan=lambda_plan,
        schedule_monthly_usd=lambda_plan.invocations_per_month
        * PRICES["eventbridge_scheduled_invocation"].usd,
    )


def comprehend_units_per_document(characters: int) -> int:
    """Comprehend meters 100-character units with a 3-unit minimum per document (its pricing
    page: "measured in units of 100 characters, with a 3 unit (300 character) minimum")."""
    return max(COMPREHEND_MIN_UNITS_PER_REQUEST, _ceil_div(characters, COMPREHEND_UNIT_CHARACTERS))


def comprehend_monthly_usd(units_per_month: float) -> float:
    """The tiered per-unit price applied to a month's units, tier by tier."""
    cost, floor = 0.0, 0.0
    for ceiling, name in COMPREHEND_UNIT_TIERS:
        in_tier = min(units_per_month, ceiling) - floor
        if in_tier <= 0:
            break
        cost += in_tier * PRICES[name].usd
        floor = ceiling
    return cost


def _sentiment(inputs: PlanInputs) -> SentimentPlan:
    """Every tweet is scored once, by the producer (the stream carries the label)."""
    documents = inputs.tweets_per_second * SECONDS_PER_MONTH
    if inputs.sentiment_engine == "comprehend":
        units_each = comprehend_units_per_document(inputs.avg_text_chars)
        units = documents * units_each
        return SentimentPlan(
            engine="comprehend",
            documents_per_month=documents,
            units_per_document=units_each,
            units_per_month=units,
            calls_per_month=documents / COMPREHEND_DOCUMENTS_PER_CALL,
            monthly_usd=comprehend_monthly_usd(units),
        )
    cpu_us = inputs.producer_cpu_us_per_tweet if inputs.sentiment_engine == "vader" else 0.0
    seconds = cpu_ms_at_memory(documents * cpu_us, inputs.producer_memory_mb) / 1000
    gb_seconds = seconds * inputs.producer_memory_mb / 1024
    return SentimentPlan(
        engine=inputs.sentiment_engine,
        documents_per_month=documents,
        units_per_document=0,
        units_per_month=0.0,
        calls_per_month=0.0,
        monthly_usd=gb_seconds * PRICES[f"lambda_gb_second_{inputs.architecture}"].usd,
    )


def build_plan(inputs: PlanInputs) -> Plan:
    """The capacity plan and monthly cost for one load."""
    by_records, by_bytes, by_read, shards, binding = _kinesis_shards(inputs)
    consumer, shards_after = _consumer(inputs, shards)
    if shards_after > shards:
        binding = "consumer Lambda (one batch in flight per shard)"
    kinesis = _kinesis(inputs, shards_after, (by_records, by_bytes, by_read), binding)
    dynamodb = _dynamodb(inputs, consumer, shards_after)
    firehose = _firehose(inputs)
    producer = _producer(inputs)
    sentiment = _sentiment(inputs)
    kinesis_cost = min(kinesis.provisioned_monthly_usd, kinesis.on_demand_monthly_usd)
    costs = [
        CostLine("Kinesis Data Streams", f"{kinesis.cheaper_mode} mode", kinesis_cost),
        CostLine("Lambda", f"consumer ({inputs.architecture})", consumer.monthly_usd),
        CostLine("DynamoDB", "on-demand writes", dynamodb.request_monthly_usd),
        CostLine("DynamoDB", f"storage ({inputs.ttl_days} d TTL)", dynamodb.storage_monthly_usd),
        CostLine("Firehose", "ingestion (5 KB rounding)", firehose.ingest_monthly_usd),
        CostLine(
            "Lambda", f"transformer ({inputs.architecture})", firehose.transformer.monthly_usd
        ),
        CostLine("S3", "PUT requests", firehose.s3_put_monthly_usd),
        CostLine(
            "S3", f"storage ({inputs.lake_retention_days} d kept)", firehose.s3_storage_monthly_usd
        ),
        CostLine(
            "Athena", f"{inputs.athena_queries_per_day} queries/day", firehose.athena_monthly_usd
        ),
        CostLine(
            "Lambda",
            f"producer ({inputs.architecture})"
            + (", at the X API ceiling" if producer.source_bound else ""),
            producer.lambda_plan.monthly_usd,
        ),
        CostLine("EventBridge", "schedule", producer.schedule_monthly_usd),
        CostLine(
            "Comprehend" if sentiment.engine == "comprehend" else "Lambda",
            f"sentiment once per tweet ({sentiment.engine})"
            + (
                f", {sentiment.units_per_document} units/tweet"
                if sentiment.engine == "comprehend"
                else ", producer CPU at the full rate"
            ),
            sentiment.monthly_usd,
        ),
    ]
    total = sum(line.monthly_usd for line in costs)
    tweets = inputs.tweets_per_second * SECONDS_PER_MONTH
    plan = Plan(
        inputs=inputs,
        kinesis=kinesis,
        consumer=consumer,
        dynamodb=dynamodb,
        firehose=firehose,
        producer=producer,
        sentiment=sentiment,
        costs=costs,
        total_monthly_usd=total,
        tweets_per_month=tweets,
        usd_per_million_tweets=total / (tweets / 1e6),
    )
    return replace(plan, notes=scaling_notes(plan))


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


def _dynamodb_notes(plan: Plan) -> list[Note]:
    """The hot partition key, the hot stats item, table quota and cost."""
    inputs, ddb = plan.inputs, plan.dynamodb
    notes: list[Note] = []
    if ddb.hot_topic_wru_per_s > DYNAMODB_PARTITION_WCU_PER_S * inputs.shard_utilisation:
        notes.append(
            Note(
                "dynamodb-hot-key",
                f"DynamoDB hot key: a topic with {inputs.hot_topic_share:.0%} of tweets writes"
                f" {ddb.hot_topic_wru_per_s:,.0f} WRU/s to TOPIC#<topic>; a partition takes"
                " 1,000. Write-shard the key as TOPIC#<topic>#<n>,"
                f" n = 0..{ddb.hot_topic_write_shards - 1} (hash of the tweet id), and query"
                " every suffix when reading.",
            )
        )
    if ddb.stats_item_wru_per_s > DYNAMODB_PARTITION_WCU_PER_S * inputs.shard_utilisation:
        notes.append(
            Note(
                "dynamodb-stats-item",
                f"DynamoDB stats: the hot topic's MINUTE# item takes"
                f" {ddb.stats_item_wru_per_s:,.0f} WRU/s ({ddb.stats_wru_per_update} WRU per batch"
                " that holds the topic); one item cannot pass 1,000. Use bigger batches/windows,"
                " or shard the stats item and sum on read.",
            )
        )
    if ddb.stats_item_bytes > DYNAMODB_WRITE_UNIT_BYTES:
        notes.append(
            Note(
                "dynamodb-stats-watermarks",
                f"DynamoDB stats: {plan.kinesis.shards:,} shards leave one applied#<shardId>"
                f" watermark each on every MINUTE# item (~{ddb.stats_item_bytes / KIB:,.1f} KB),"
                f" so each stats update costs {ddb.stats_wru_per_update} WRU"
                + (
                    "; past 400 KB DynamoDB refuses the item: split the stream."
                    if ddb.stats_item_bytes > DYNAMODB_MAX_ITEM_BYTES
                    else "."
                ),
            )
        )
    if ddb.wru_per_s > DYNAMODB_TABLE_WRU_QUOTA:
        notes.append(
            Note(
                "dynamodb-table-quota",
                f"DynamoDB table: {ddb.wru_per_s:,.0f} WRU/s exceeds the default per-table quota"
                f" of {DYNAMODB_TABLE_WRU_QUOTA:,}; request an increase and pre-warm (a new"
                f" on-demand table starts warm at {DYNAMODB_ON_DEMAND_WARM_WRU:,} WRU/s).",
            )
        )
    elif ddb.wru_per_s > DYNAMODB_ON_DEMAND_WARM_WRU:
        notes.append(
            Note(
                "dynamodb-warm-throughput",
                f"DynamoDB table: {ddb.wru_per_s:,.0f} WRU/s is above the"
                f" {DYNAMODB_ON_DEMAND_WARM_WRU:,} WRU/s a new on-demand table starts warm at;"
                " set warm throughput before launch.",
            )
        )
    if ddb.request_monthly_usd > 0.5 * plan.total_monthly_usd:
        bigger = ""
        if inputs.consumer_batch_size < RECOMMENDED_BATCH_SIZE:
            alternative = build_plan(replace(inputs, consumer_batch_size=RECOMMENDED_BATCH_SIZE))
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
                f" between more tweets{bigger}; steady load is cheaper on provisioned capacity.",
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
                f"Lake: {plan.firehose.lake_gb_per_day:,.0f} GB/day even GZIP-compressed, so each"
                " one-day Athena query costs"
                f" {format_usd(plan.firehose.athena_usd_per_query)}; Parquet (Firehose record"
                " format conversion) lets queries read only their columns.",
            )
        )
    return notes


def scaling_notes(plan: Plan) -> list[Note]:
    """What binds at this load, in the order a reader should act on it."""
    return (
        _source_and_stream_notes(plan)
        + _lambda_notes(plan)
        + _dynamodb_notes(plan)
        + _lake_notes(plan)
    )


# --- presentation -----------------------------------------------------------------------------
def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data with a schema tag, prices and their provenance."""
    data = asdict(plan)
    data["costs"] = [asdict(line) for line in plan.costs]
    return {
        "schema": PLAN_SCHEMA,
        "region": REGION,
        "prices_read": PRICES_READ,
        **data,
        "prices": {name: asdict(price) for name, price in PRICES.items()},
    }


def format_shards(count: int) -> str:
    return f"{count:,} shard" if count == 1 else f"{count:,} shards"


def format_usd(amount: float) -> str:
    if amount >= 100:
        return f"${amount:,.0f}"
    if amount >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:.4f}"


SCALE_FACTORS: Final = (10, 100, 1000)


def scale_plans(inputs: PlanInputs) -> list[Plan]:
    """The plan at 10x, 100x and 1,000x the rate (capped where the model stops)."""
    return [
        build_plan(
            replace(
                inputs,
                tweets_per_second=min(inputs.tweets_per_second * factor, MAX_TWEETS_PER_SECOND),
            )
        )
        for factor in SCALE_FACTORS
    ]


def scale_to_dict(plan: Plan, scale: list[Plan]) -> list[dict[str, Any]]:
    return [
        {
            "factor": bigger.inputs.tweets_per_second / plan.inputs.tweets_per_second,
            "tweets_per_second": bigger.inputs.tweets_per_second,
            "shards": bigger.kinesis.shards,
            "kinesis_mode": bigger.kinesis.cheaper_mode,
            "consumer_max_concurrency": bigger.consumer.max_concurrency,
            "wru_per_s": bigger.dynamodb.wru_per_s,
            "total_monthly_usd": bigger.total_monthly_usd,
            "usd_per_million_tweets": bigger.usd_per_million_tweets,
            "notes": [asdict(note) for note in bigger.notes],
        }
        for bigger in scale
    ]
