"""The plan for one load: every part assembled, its cost table, and the view at 10x to 1,000x.

The model is a chain of small pure functions, one per limit or price, each saying where its number
comes from, so a reviewer can check a figure against the AWS page it cites and a test against a
hand computation. They live by concern: ``inputs`` (the load and assumptions), ``stream``
(Kinesis), ``lambda_functions`` (Lambda billing), ``consumer`` (the consumer Lambda), ``table``
(DynamoDB), ``lake`` (Firehose, S3, Athena), ``source`` (X API, producer, sentiment), ``notes``
(what binds), with ``prices`` and ``measured`` beside them. ``build_plan`` wires them together
for one load and ``plan_to_dict`` gives it as data; ``trendstream_cli.plan`` parses options and
renders. The limits the product itself enforces are imported from the product code. Nothing here
talks to AWS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

from capacity_plan.consumer import ConsumerPlan, consumer_plan
from capacity_plan.inputs import MAX_TWEETS_PER_SECOND, PlanInputs
from capacity_plan.lake import FirehosePlan, firehose_plan
from capacity_plan.notes import Note, scaling_notes
from capacity_plan.prices import PRICES, PRICES_READ
from capacity_plan.source import ProducerPlan, SentimentPlan, producer_plan, sentiment_plan
from capacity_plan.stream import KinesisPlan, kinesis_plan, kinesis_shards
from capacity_plan.table import DynamoPlan, dynamodb_plan
from capacity_plan.units import SECONDS_PER_MONTH

PLAN_SCHEMA: Final = "trendstream.plan/4"
REGION: Final = "us-east-1"


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


def build_plan(inputs: PlanInputs) -> Plan:
    """The capacity plan and monthly cost for one load."""
    by_records, by_bytes, by_read, shards, binding = kinesis_shards(inputs)
    consumer, shards_after = consumer_plan(inputs, shards)
    if shards_after > shards:
        binding = "consumer Lambda (one batch in flight per shard)"
    kinesis = kinesis_plan(inputs, shards_after, (by_records, by_bytes, by_read), binding)
    dynamodb = dynamodb_plan(inputs, consumer, shards_after)
    firehose = firehose_plan(inputs)
    producer = producer_plan(inputs)
    sentiment = sentiment_plan(inputs)
    kinesis_cost = min(kinesis.provisioned_monthly_usd, kinesis.on_demand_monthly_usd)
    costs = [
        CostLine("Kinesis Data Streams", f"{kinesis.cheaper_mode} mode", kinesis_cost),
        CostLine("Lambda", f"consumer ({inputs.architecture})", consumer.monthly_usd),
        CostLine("DynamoDB", f"{dynamodb.billing_mode} writes", dynamodb.request_monthly_usd),
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
    return replace(plan, notes=scaling_notes(plan, build_plan))


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
