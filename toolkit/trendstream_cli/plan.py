"""`trendstream plan`: parse the load, build the plan (``capacity_plan``), render it with rich."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from capacity_plan.inputs import MAX_TWEETS_PER_SECOND, SENTIMENT_ENGINES, Architecture, PlanInputs
from capacity_plan.measured import BENCH_REPORT, load_measured
from capacity_plan.plan import (
    PLAN_SCHEMA,
    REGION,
    Plan,
    build_plan,
    plan_to_dict,
    scale_plans,
    scale_to_dict,
)
from capacity_plan.prices import PRICES_READ
from capacity_plan.units import MIB, format_shards, format_usd

WIDTH: Final = 100


def _rate(tweets_per_second: float) -> str:
    if tweets_per_second >= 1:
        if tweets_per_second.is_integer():
            return f"{tweets_per_second:,.0f}"
        return f"{tweets_per_second:,.1f}"
    return f"{tweets_per_second:g}"


def _rows(rows: list[tuple[str, str]]) -> Table:
    grid = Table(box=None, show_header=False, padding=(0, 1, 0, 2), expand=False)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _capacity(plan: Plan) -> Table:
    inputs, kin, con, ddb, fh, prod = (
        plan.inputs,
        plan.kinesis,
        plan.consumer,
        plan.dynamodb,
        plan.firehose,
        plan.producer,
    )
    saturation = (
        f"one topic saturates it at {ddb.hot_topic_saturation_tweets_per_s:,.0f} tweets/s"
        if ddb.hot_topic_saturation_tweets_per_s > 0
        else "saturated by its stats updates alone"
    )
    sentiment = plan.sentiment
    scoring = (
        f"Comprehend, {sentiment.units_per_document} units/tweet (3-unit minimum),"
        f" {sentiment.calls_per_month / 1e6:,.1f} M calls/mo of 25 documents"
        if sentiment.engine == "comprehend"
        else f"{sentiment.engine}, in the producer, once per tweet"
    )
    return _rows(
        [
            (
                "Kinesis shards",
                f"{kin.shards:,} (min by records {kin.shards_min_by_records:,}, by write bytes"
                f" {kin.shards_min_by_write_bytes:,}, by shared read"
                f" {kin.shards_min_by_shared_read:,}; planned at {inputs.shard_utilisation:.0%};"
                f" binds: {kin.binding_limit})",
            ),
            (
                "Kinesis mode",
                f"{kin.cheaper_mode} (provisioned {format_usd(kin.provisioned_monthly_usd)}/mo,"
                f" on-demand {format_usd(kin.on_demand_monthly_usd)}/mo)",
            ),
            (
                "Shared read",
                f"{kin.shared_read_utilisation:.0%} of 2 MiB/s/shard by 2 consumers; catch-up"
                f" {kin.catch_up_factor:,.1f}x real time; EFO option"
                f" {format_usd(kin.efo_consumer_monthly_usd)}/mo",
            ),
            (
                "Consumer Lambda",
                f"batch {con.batch_size}, window {con.batching_window_s:g} s ->"
                f" {con.records_per_invocation:,.0f} records/batch, {con.duration_ms:,.0f} ms,"
                f" {con.invocations_per_month / 1e6:,.2f} M invocations/mo,"
                f" {con.gb_seconds_per_month:,.0f} GB-s/mo",
            ),
            (
                "  per shard",
                f"one batch in flight (ParallelizationFactor 1), busy"
                f" {con.busy_fraction_per_shard:.0%}; up to {con.max_concurrency:,} concurrent,"
                f" ~{con.concurrency_steady:,.1f} busy"
                + (
                    f"; {con.shards_added_for_consumer:,} shards added to keep up"
                    if con.shards_added_for_consumer
                    else ""
                ),
            ),
            (
                "DynamoDB writes",
                f"{ddb.wru_per_tweet:.2f} WRU/tweet ({ddb.tweet_item_wru:g} item +"
                f" {ddb.stats_wru_per_tweet:.2f} stats) -> {ddb.wru_per_s:,.0f} WRU/s"
                f" ({ddb.wru_per_month / 1e9:,.2f} B WRU/mo); storage {ddb.storage_gb:,.1f} GB",
            ),
            (
                "  calls",
                f"per 1,000 tweets: {ddb.put_items_per_1000_tweets:,.0f} PutItem +"
                f" {ddb.stats_updates_per_1000_tweets:,.0f} UpdateItem (billed per write unit,"
                " not per call)",
            ),
            (
                "  stats item",
                f"~{ddb.stats_item_bytes:,.0f} B per shard's partial item, one watermark ->"
                f" {ddb.stats_wru_per_update:g} WRU per update at any shard count",
            ),
            (
                "  hot topic",
                f"{ddb.hot_topic_tweets_per_s:,.1f} tweets/s -> {ddb.hot_topic_wru_per_s:,.0f}"
                f" WRU/s; {saturation}; key parts needed: {ddb.hot_topic_key_parts}",
            ),
            (
                "  billing",
                f"on-demand {format_usd(ddb.on_demand_monthly_usd)}/mo, provisioned with auto"
                f" scaling {format_usd(ddb.provisioned_monthly_usd)}/mo -> {ddb.billing_mode}",
            ),
            ("Sentiment", scoring),
            (
                "Firehose",
                f"{fh.ingest_billed_gb_per_month:,.1f} GB/mo billed"
                f" ({fh.billed_to_actual_ratio:.1f}x actual bytes: 5 KB rounding)",
            ),
            (
                "  transformer",
                f"{fh.transformer.invocations_per_month / 1e3:,.1f} k invocations/mo,"
                f" {fh.transformer.records_per_invocation:,.0f} records each",
            ),
            (
                "S3 lake",
                f"{fh.s3_objects_per_month:,.0f} objects/mo of ~{fh.s3_object_mb:,.1f} MiB,"
                f" {fh.lake_gb_per_day:,.2f} GB/day, {fh.lake_stored_gb:,.0f} GB kept",
            ),
            (
                "Athena",
                f"{fh.athena_scan_gb_per_query:,.2f} GB/query (one day) ->"
                f" {format_usd(fh.athena_usd_per_query)}/query",
            ),
            (
                "Producer",
                f"{prod.pages_per_15_min:,.0f} search pages/15 min of 450 allowed;"
                f" {prod.put_records_calls_per_run} PutRecords/run;"
                f" X API ceiling ~{prod.x_api_max_tweets_per_s:.0f} tweets/s"
                + (" -> SOURCE-BOUND" if prod.source_bound else ""),
            ),
        ]
    )


def _bullets(texts: list[str], indent: int) -> Table:
    grid = Table(box=None, show_header=False, padding=(0, 0, 0, 0), pad_edge=False)
    grid.add_column(width=indent + 2, no_wrap=True)
    grid.add_column(overflow="fold")
    for text in texts:
        grid.add_row(" " * indent + "- ", text)
    return grid


def _costs(plan: Plan) -> Table:
    grid = Table(box=None, show_header=False, padding=(0, 1, 0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    for line in plan.costs:
        grid.add_row(f"{line.service}: {line.item}", format_usd(line.monthly_usd))
    grid.add_row("total", format_usd(plan.total_monthly_usd))
    return grid


def _engines(plan: Plan) -> str:
    others = {
        engine: build_plan(replace(plan.inputs, sentiment_engine=engine))
        for engine in SENTIMENT_ENGINES
    }
    per_engine = ", ".join(
        f"{format_usd(other.usd_per_million_tweets)} with {engine}"
        for engine, other in others.items()
    )
    return f"  per million tweets by sentiment engine: {per_engine}"


def render(plan: Plan, scale: list[Plan], console: Console) -> None:
    """The human report: capacity per resource, the cost table, then 10x/100x/1,000x."""
    inputs, kin = plan.inputs, plan.kinesis
    console.print(
        f"trendstream plan: {_rate(inputs.tweets_per_second)} tweets/s"
        f" x {inputs.avg_record_bytes:,} B/record ({kin.bytes_per_s / MIB:,.3f} MiB/s),"
        f" {inputs.stats_topics} topics, hottest {inputs.hot_topic_share:.0%}"
    )
    console.print(f"sentiment: {inputs.sentiment_engine}, scored once per tweet by the producer")
    console.print(f"prices: {REGION} on-demand, pages read {PRICES_READ}; check before relying")
    console.print("  (--json gives each price's page, date read and whether it was confirmed)")
    console.print(f"measured figures: {inputs.measured_source}")
    console.print()
    console.print("Capacity")
    console.print(_capacity(plan))
    console.print()
    console.print("Monthly cost")
    console.print(_costs(plan))
    console.print(
        f"  {plan.tweets_per_month / 1e6:,.1f} M tweets/month ->"
        f" {format_usd(plan.usd_per_million_tweets)} per million tweets"
    )
    console.print(_engines(plan))
    lambdas = (plan.consumer, plan.firehose.transformer, plan.producer.lambda_plan)
    other: Architecture = "x86_64" if inputs.architecture == "arm64" else "arm64"
    delta = sum(getattr(item, f"monthly_usd_{other}") - item.monthly_usd for item in lambdas)
    sign = "+" if delta >= 0 else "-"
    console.print(f"  (Lambdas on {other} instead: {sign}{format_usd(abs(delta))}/month)")
    if plan.notes:
        console.print()
        console.print("At this load")
        console.print(_bullets([note.text for note in plan.notes], indent=2))
    if scale:
        console.print()
        console.print("What changes at 10x, 100x, 1,000x")
        seen = {note.id for note in plan.notes}
        for bigger in scale:
            factor = bigger.inputs.tweets_per_second / inputs.tweets_per_second
            console.print(
                Text(
                    f"  {factor:,.0f}x = {_rate(bigger.inputs.tweets_per_second)} tweets/s:"
                    f" {format_shards(bigger.kinesis.shards)} ({bigger.kinesis.cheaper_mode}),"
                    f" consumer concurrency up to {bigger.consumer.max_concurrency:,},"
                    f" {bigger.dynamodb.wru_per_s:,.0f} WRU/s,"
                    f" {format_usd(bigger.total_monthly_usd)}/month,"
                    f" {format_usd(bigger.usd_per_million_tweets)}/M tweets"
                ),
                overflow="fold",
            )
            fresh = [note for note in bigger.notes if note.id not in seen]
            if fresh:
                console.print(_bullets([note.text for note in fresh], indent=6))
            seen.update(note.id for note in fresh)
    console.print()
    console.print(
        "Not modelled: free tiers, CloudWatch logs/metrics, X-Ray, KMS requests, PITR backups,"
        " data transfer, retries."
    )


def _plain(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,g}"


def _bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number within [low, high], or a one-line error."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a {'whole ' if kind is int else ''}number, got {text!r}"
            ) from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(
                f"must be between {_plain(low)} and {_plain(high)}, got {text}"
            )
        return value

    return parse


def _positive_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    if value > MAX_TWEETS_PER_SECOND:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_TWEETS_PER_SECOND:,.0f} tweets/s, got {text}"
        )
    return value


_DEFAULTS: Final = {field.name: field.default for field in fields(PlanInputs)}
"""The model's stated assumptions, which the options default to."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `trendstream plan`; defaults are the model's stated assumptions."""
    parser.add_argument(
        "--tweets-per-second", type=_positive_rate, required=True, help="sustained tweet rate"
    )
    parser.add_argument(
        "--avg-record-bytes",
        type=_bounded(int, 1, 1024 * 1024),
        default=_DEFAULTS["avg_record_bytes"],
        help="stream record size (default %(default)s: a measured 1,126-byte record with entities)",
    )
    parser.add_argument(
        "--avg-text-chars",
        type=_bounded(int, 1, 25_000),
        default=_DEFAULTS["avg_text_chars"],
        help="characters per tweet text, for Comprehend's units (default %(default)s)",
    )
    parser.add_argument(
        "--stats-topics",
        type=_bounded(int, -1e9, 1_000_000),
        default=_DEFAULTS["stats_topics"],
        help="distinct topics per minute (default %(default)s)",
    )
    parser.add_argument(
        "--hot-topic-share",
        type=_bounded(float, -1e9, 1e9),
        default=_DEFAULTS["hot_topic_share"],
        help="share of tweets on the busiest topic (default %(default)s)",
    )
    parser.add_argument(
        "--consumer-batch-size",
        type=_bounded(int, -1e9, 1e9),
        default=_DEFAULTS["consumer_batch_size"],
        help="ESM BatchSize (default %(default)s, as Terraform's consumer_batch_size)",
    )
    parser.add_argument(
        "--consumer-memory-mb",
        type=_bounded(int, -1e9, 1e9),
        default=_DEFAULTS["consumer_memory_mb"],
        help="consumer memory, which sets its CPU share (default %(default)s, as Terraform's"
        " consumer_memory_mb)",
    )
    parser.add_argument(
        "--dynamodb-calls-in-flight",
        type=_bounded(int, 1, 1000),
        default=_DEFAULTS["dynamodb_calls_in_flight"],
        help="DynamoDB calls a consumer invocation keeps in flight (default %(default)s: the"
        " consumer's WRITE_WORKERS threads)",
    )
    parser.add_argument(
        "--cpu-us-per-record",
        type=_bounded(float, 0, 1e6),
        default=None,
        help="consumer CPU per record in microseconds on one vCPU, botocore included (default:"
        " build/bench.json, else the last measured figure)",
    )
    parser.add_argument(
        "--ttl-days",
        type=_bounded(int, 1, 36_500),
        default=_DEFAULTS["ttl_days"],
        help="DynamoDB TTL (default %(default)s)",
    )
    parser.add_argument(
        "--architecture",
        choices=("x86_64", "arm64"),
        default="x86_64",
        help="Lambda architecture (default x86_64, as the Terraform function module sets)",
    )
    parser.add_argument(
        "--sentiment-engine",
        choices=SENTIMENT_ENGINES,
        default="vader",
        help="SENTIMENT_ENGINE of the stack (default vader)",
    )
    parser.add_argument(
        "--bench",
        type=Path,
        default=BENCH_REPORT,
        help="benchmark report with the measured per-record figures (default build/bench.json)",
    )
    parser.add_argument(
        "--json", action="store_true", help=f"print the plan as JSON (schema {PLAN_SCHEMA})"
    )


def inputs_from_args(args: argparse.Namespace) -> PlanInputs:
    """Validated model inputs from parsed options; raises ValueError with the operator's message."""
    measured = load_measured(args.bench)
    return PlanInputs(
        tweets_per_second=args.tweets_per_second,
        avg_record_bytes=args.avg_record_bytes,
        avg_text_chars=args.avg_text_chars,
        stats_topics=args.stats_topics,
        hot_topic_share=args.hot_topic_share,
        consumer_batch_size=args.consumer_batch_size,
        consumer_memory_mb=args.consumer_memory_mb,
        dynamodb_calls_in_flight=args.dynamodb_calls_in_flight,
        consumer_cpu_us_per_record=(
            measured.consumer_cpu_us_per_record
            if args.cpu_us_per_record is None
            else args.cpu_us_per_record
        ),
        transformer_cpu_us_per_record=measured.transformer_cpu_us_per_record,
        producer_cpu_us_per_tweet=measured.producer_cpu_us_per_tweet,
        tweet_item_wru=measured.tweet_item_wru,
        stats_wru_per_update=measured.stats_wru_per_update,
        measured_source=measured.source,
        sentiment_engine=args.sentiment_engine,
        ttl_days=args.ttl_days,
        architecture=args.architecture,
    )


def run(args: argparse.Namespace) -> int:
    """Print the plan; exit 2 on input the model cannot plan for."""
    try:
        inputs = inputs_from_args(args)
    except ValueError as error:
        sys.stderr.write(f"trendstream plan: error: {error}\n")
        return 2
    plan = build_plan(inputs)
    scale = scale_plans(inputs)
    if args.json:
        document = plan_to_dict(plan)
        document["scale"] = scale_to_dict(plan, scale)
        try:
            text = json.dumps(document, indent=2, allow_nan=False)
        except ValueError as error:  # a figure the model could not bound: say so, print nothing
            sys.stderr.write(f"trendstream plan: error: the plan has no finite value: {error}\n")
            return 2
        sys.stdout.write(text + "\n")
    else:
        console = Console(width=WIDTH, highlight=False, color_system=None)
        with console.capture() as captured:
            render(plan, scale, console)
        lines = [line.rstrip() for line in captured.get().splitlines()]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
