"""us-east-1 public on-demand prices, each with the AWS pricing page it comes from and when.

``confirmed`` means the figure itself was read on that page on ``read``; an unconfirmed price
names, in ``note``, what was and was not seen (AWS renders most pricing tables from templates,
so a page's text often carries its rules but not its numbers). Check unconfirmed prices first.
Free tiers, taxes, savings plans and reserved capacity are not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PRICES_READ: Final = "2026-11-29"
"""The last date the pages below were read for this model."""
EARLIER_READING: Final = "2026-11"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    """The AWS pricing page (https URL)."""
    read: str
    """When the page was read for this figure (ISO date, or month)."""
    confirmed: bool
    note: str = ""


QUOTED_ONLY = "figure not rendered in the page's text; seen quoted by secondary sources only"
KINESIS = "https://aws.amazon.com/kinesis/data-streams/pricing/"
LAMBDA = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
DYNAMODB_PROVISIONED = "https://aws.amazon.com/dynamodb/pricing/provisioned/"
FIREHOSE = "https://aws.amazon.com/firehose/pricing/"
S3 = "https://aws.amazon.com/s3/pricing/"
ATHENA = "https://aws.amazon.com/athena/pricing/"
EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/"
COMPREHEND = "https://aws.amazon.com/comprehend/pricing/"

PRICES: Final[dict[str, Price]] = {
    "kinesis_shard_hour": Price(
        0.015, "shard-hour", KINESIS + " (provisioned)", EARLIER_READING, False, QUOTED_ONLY
    ),
    "kinesis_put_payload_unit": Price(
        0.014 / 1e6,
        "PUT payload unit (25 KB)",
        KINESIS + " (provisioned)",
        EARLIER_READING,
        False,
        "the 25 KB unit is in the page's text; " + QUOTED_ONLY,
    ),
    "kinesis_on_demand_stream_hour": Price(
        0.04,
        "stream-hour",
        KINESIS + " (on-demand standard)",
        EARLIER_READING,
        False,
        "the per-stream-hour charge is in the page's text; the figure was not seen",
    ),
    "kinesis_on_demand_ingest_gb": Price(
        0.08,
        "GB written (records rounded up to 1 KB)",
        KINESIS + " (on-demand standard)",
        EARLIER_READING,
        False,
        "1 KB rounding is in the page's text; secondary sources disagree (0.08 vs 0.04)",
    ),
    "kinesis_on_demand_retrieval_gb": Price(
        0.04,
        "GB read, per consumer",
        KINESIS + " (on-demand standard)",
        EARLIER_READING,
        False,
        "one secondary source only",
    ),
    "kinesis_efo_consumer_shard_hour": Price(
        0.015,
        "consumer-shard-hour",
        KINESIS + " (enhanced fan-out)",
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "kinesis_efo_retrieval_gb": Price(
        0.013,
        "GB pushed to an enhanced fan-out consumer",
        KINESIS + " (enhanced fan-out)",
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "lambda_request": Price(0.20 / 1e6, "request", LAMBDA, EARLIER_READING, False, QUOTED_ONLY),
    "lambda_gb_second_x86_64": Price(
        0.0000166667,
        "GB-second (first 6 B GB-s/month)",
        LAMBDA,
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "lambda_gb_second_arm64": Price(
        0.0000133334,
        "GB-second (first 7.5 B GB-s/month)",
        LAMBDA,
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "dynamodb_write_request_unit": Price(
        0.625 / 1e6,
        "write request unit (on-demand, after the Nov 2024 cut)",
        DYNAMODB,
        PRICES_READ,
        False,
        "the unit rules (1 KB per standard write, twice for transactional) were read on the"
        " page; " + QUOTED_ONLY,
    ),
    "dynamodb_write_capacity_unit_hour": Price(
        0.00065,
        "write capacity unit-hour (provisioned)",
        DYNAMODB_PROVISIONED,
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "dynamodb_read_capacity_unit_hour": Price(
        0.00013,
        "read capacity unit-hour (provisioned)",
        DYNAMODB_PROVISIONED,
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "dynamodb_storage_gb_month": Price(
        0.25,
        "GB-month (Standard table class, past the first 25 GB)",
        DYNAMODB,
        EARLIER_READING,
        False,
        "not seen",
    ),
    "firehose_ingest_gb": Price(
        0.029,
        "GB ingested, each record rounded up to 5 KB (first 500 TB/month)",
        FIREHOSE + " (Kinesis Data Streams or Direct PUT source)",
        EARLIER_READING,
        False,
        "the 5 KB rounding is in AWS's own wording; " + QUOTED_ONLY,
    ),
    "s3_standard_gb_month": Price(
        0.023, "GB-month (first 50 TB)", S3, EARLIER_READING, False, "not seen"
    ),
    "s3_put_request": Price(
        0.005 / 1000, "PUT/COPY/POST/LIST request", S3, EARLIER_READING, False, "not seen"
    ),
    "athena_tb_scanned": Price(
        5.00, "TB scanned (10 MB minimum per query)", ATHENA, EARLIER_READING, False, QUOTED_ONLY
    ),
    "eventbridge_scheduled_invocation": Price(
        1.00 / 1e6,
        "scheduled invocation (upper bound: Scheduler's price, its 14 M/month free not applied)",
        EVENTBRIDGE,
        EARLIER_READING,
        False,
        QUOTED_ONLY,
    ),
    "comprehend_unit_first_10m": Price(
        0.0001,
        "unit of 100 characters, 3 units minimum per document (first 10 M units/month)",
        COMPREHEND + " (natural language processing: sentiment)",
        PRICES_READ,
        False,
        "the 100-character unit and the 3-unit minimum per request were read on the page;"
        " the figures are unrendered there and seen only in AWS's worked examples as quoted",
    ),
    "comprehend_unit_10m_to_50m": Price(
        0.00005,
        "unit, from 10 M to 50 M units/month",
        COMPREHEND + " (natural language processing: sentiment)",
        PRICES_READ,
        False,
        "tier not seen in the page's text; " + QUOTED_ONLY,
    ),
    "comprehend_unit_over_50m": Price(
        0.000025,
        "unit, past 50 M units/month",
        COMPREHEND + " (natural language processing: sentiment)",
        PRICES_READ,
        False,
        "tier not seen in the page's text; " + QUOTED_ONLY,
    ),
}

COMPREHEND_UNIT_TIERS: Final[tuple[tuple[float, str], ...]] = (
    (10e6, "comprehend_unit_first_10m"),
    (50e6, "comprehend_unit_10m_to_50m"),
    (float("inf"), "comprehend_unit_over_50m"),
)
"""Monthly unit volume up to which each price applies, in order."""
