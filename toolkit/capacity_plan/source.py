"""The source side: the X API's ceiling, the scheduled producer and sentiment scored once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from capacity_plan.inputs import PlanInputs
from capacity_plan.lambda_functions import LambdaPlan, cpu_ms_at_memory, lambda_figures
from capacity_plan.prices import COMPREHEND_UNIT_TIERS, PRICES
from capacity_plan.units import SECONDS_PER_MONTH, ceil_div
from producer.kinesis_writer import MAX_RECORDS_PER_CALL
from tweet_record.sentiment import COMPREHEND_BATCH_SIZE

PUT_RECORDS_MAX_RECORDS: Final = MAX_RECORDS_PER_CALL

X_SEARCH_RECENT_REQUESTS_PER_WINDOW: Final = 450
X_RATE_WINDOW_S: Final = 15 * 60
X_TWEETS_PER_PAGE: Final = 100
COMPREHEND_DOCUMENTS_PER_CALL: Final = COMPREHEND_BATCH_SIZE
COMPREHEND_UNIT_CHARACTERS: Final = 100
COMPREHEND_MIN_UNITS_PER_REQUEST: Final = 3
"""Comprehend meters each document in 100-character units, at least 3 units per document."""
COMPREHEND_CALL_MS: Final = 200.0
"""Assumed latency of one BatchDetectSentiment call (the producer waits for it)."""


def x_api_max_tweets_per_s(
    requests_per_window: int = X_SEARCH_RECENT_REQUESTS_PER_WINDOW,
    window_s: int = X_RATE_WINDOW_S,
    tweets_per_page: int = X_TWEETS_PER_PAGE,
) -> float:
    """Ceiling of recent search: 450 requests / 15 min (app auth) x 100 tweets per page = 50/s."""
    return requests_per_window * tweets_per_page / window_s


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


def producer_plan(inputs: PlanInputs) -> ProducerPlan:
    """The scheduled X API producer, costed at what the API can deliver (at most ~50 tweets/s)."""
    ceiling = x_api_max_tweets_per_s()
    rate = min(inputs.tweets_per_second, ceiling)
    runs_per_s = 1 / inputs.producer_interval_s
    tweets_per_run = rate / runs_per_s
    pages = ceil_div(tweets_per_run, X_TWEETS_PER_PAGE)
    puts = ceil_div(tweets_per_run, PUT_RECORDS_MAX_RECORDS)
    duration_ms = (
        inputs.invocation_overhead_ms
        + pages * inputs.x_page_latency_ms
        + puts * inputs.kinesis_put_latency_ms
        + cpu_ms_at_memory(
            tweets_per_run * inputs.producer_cpu_us_per_tweet, inputs.producer_memory_mb
        )
    )
    if inputs.sentiment_engine == "comprehend":
        duration_ms += ceil_div(tweets_per_run, COMPREHEND_DOCUMENTS_PER_CALL) * COMPREHEND_CALL_MS
    lambda_plan = LambdaPlan(
        **lambda_figures(
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
    return max(COMPREHEND_MIN_UNITS_PER_REQUEST, ceil_div(characters, COMPREHEND_UNIT_CHARACTERS))


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


def sentiment_plan(inputs: PlanInputs) -> SentimentPlan:
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
