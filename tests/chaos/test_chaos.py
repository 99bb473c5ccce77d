"""The chaos run: 10,000 replayed records through the whole stack while faults fire, exactly once.

The stack is the Terraform root applied to a fresh emulator, run by ``LocalRuntime`` with a fast
clock. The producer replays a generated dataset (9,900 (topic, tweet) pairs) in one run as the
runtime starts, but for its smallest topics (about 15 % of the pairs), which the test puts itself
as KPL aggregates made by AWS's aggregator, 20 user records each, half of the dataset's 100 poison
records (1 %) among them; the other poison records it puts plain, once the runtime has started.
``TRENDSTREAM_FAULTS`` names a plan (see ``local_aws.fault_plan``) that makes the emulator throttle
DynamoDB writes (the consumer's ``PutItem`` and ``UpdateItem``) and fail ``PutRecords`` entries, and
makes the runtime kill a consumer worker after its writes but before its answer, deliver one
consumer batch twice and time out one Firehose processor invocation.

How the producer gets the dataset: the Terraform root has no variable for extra function
environment, so after the apply the producer's configuration is updated with boto3
(``REPLAY_DATASET_URI``, ``REPLAY_SHIFT_TIMESTAMPS=false`` so the recount's minutes match, and
``MAX_PAGES_PER_TOPIC`` so the largest topic is read in one run); the
local Lambda service reads the configuration when the runtime starts, as Lambda would.

Firehose and the lake: none of the configured faults can duplicate a lake line. The processor
timeout discards that invocation's output and Firehose retries the same batch; the Kinesis fault
never writes a failed entry, so the stream itself holds each record once. The lake is therefore
asserted exactly once, like the table.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.chaos.chaos_support import (
    ChaosStack,
    Lake,
    consumer_metric,
    recount,
    stack_with_faults,
    start_runtime,
    stored_stats,
    wait_until,
)

from local_aws import fault_plan
from trendstream_cli.lake_objects import row_count
from trendstream_cli.pipeline import PipelineReader

pytestmark = [pytest.mark.emulator, pytest.mark.slow, pytest.mark.timeout(420)]

PAIRS = 9_900
POISON = 100
CLOCK_SPEED = 20.0
"""Firehose's 60 s buffers -> 3 s. The producer runs once, when the runtime starts (the stack's
schedule is disabled): the stream's count does not depend on how long that run takes."""
SETTLE_TIMEOUT = 240.0
KPL_SHARE = 0.15
"""About this share of the pairs (whole topics) travels in KPL aggregates the test puts, with
half the poison records among them; the producer replays the rest."""
FAULT_PLAN: dict[str, Any] = {
    "dynamodb": {"throttle_every": 11, "max": 40},
    "kinesis": {"put_records_fail_every": 9, "max": 200},
    "lambda": {
        "consumer": {"crash_at_invocations": [5, 30]},
        "firehose-transformer": {"timeout_at_invocations": [2]},
    },
    "event_source_mapping": {"redeliver_batch_at_invocations": [8, 40]},
}
EXPECTED_KINDS = (
    fault_plan.DYNAMODB_THROTTLE,
    fault_plan.KINESIS_FAILED_ENTRIES,
    fault_plan.LAMBDA_CRASH,
    fault_plan.LAMBDA_TIMEOUT,
    fault_plan.ESM_REDELIVERY,
)


def test_exactly_once_through_every_fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with stack_with_faults(
        tmp_path, monkeypatch, FAULT_PLAN, PAIRS, POISON, kpl_share=KPL_SHARE
    ) as chaos_stack:
        run_and_check(chaos_stack)


def run_and_check(chaos_stack: ChaosStack) -> None:
    expected = recount(chaos_stack.dataset)
    assert len(expected.pairs) == PAIRS
    lake = Lake(chaos_stack)
    runtime = start_runtime(chaos_stack, CLOCK_SPEED)
    started = time.monotonic()
    with runtime:

        def progress() -> str:
            return (
                f"tweets {lake.count('TWEET#')}/{PAIRS}, "
                f"quarantined {len(lake.keys('quarantine/consumer/'))}/{POISON}, "
                f"runtime {runtime.stats()}, faults {dict(fault_plan.read_fired(chaos_stack.plan))}"
            )

        def consumed() -> bool:
            # The in-process counter first: each record succeeds at least once, so until it
            # reaches the input size there is no point scanning the emulator's table.
            return (
                runtime.stats()["consumed"] >= chaos_stack.stream_records(PAIRS, POISON)
                and lake.count("TWEET#") >= PAIRS
                and len(lake.keys("quarantine/consumer/")) >= POISON
                and lake.counted_tweets() >= PAIRS
            )

        wait_until(consumed, progress, SETTLE_TIMEOUT)

        def lake_complete() -> bool:
            runtime.flush()
            return sum(row_count(lake.body(k)) for k in lake.keys("tweets/")) >= PAIRS

        wait_until(lake_complete, progress, SETTLE_TIMEOUT - (time.monotonic() - started))
        stats = runtime.stats()
    settled_after = time.monotonic() - started

    # The table: every valid (topic, tweet) exactly once.
    table = lake.items_by_kind()
    tweet_items = [(i["topic"]["S"], i["tweet_id"]["S"]) for i in table["TWEET"]]
    assert len(tweet_items) == PAIRS
    assert set(tweet_items) == expected.pairs

    # Per-minute stats equal a recount of the input (tweet_count and VADER sentiment counts).
    assert stored_stats(table["MINUTE"]) == expected.stats

    # The stream holds each input record once: the PutRecords faults lost and doubled nothing
    # (the producer ran once; see CLOCK_SPEED).
    stream_records = PipelineReader(chaos_stack.outputs, chaos_stack.endpoint).stream_records()
    assert stream_records == chaos_stack.stream_records(PAIRS, POISON)
    assert len(chaos_stack.aggregated) >= KPL_SHARE * PAIRS * 0.5

    # The lake: every valid (topic, tweet) exactly once (no line twice, none missing).
    lines = lake.lines("tweets/")
    lake_pairs = Counter((line["topic"], line["tweet_id"]) for line in lines)
    assert len(lines) == PAIRS
    assert set(lake_pairs) == expected.pairs
    assert max(lake_pairs.values()) == 1

    # Every poison record quarantined once, with the reason the dataset expects.
    quarantined = [json.loads(lake.body(k)) for k in lake.keys("quarantine/consumer/")]
    assert {q["partition_key"]: q["reason"] for q in quarantined} == expected.poison_reasons
    assert len(quarantined) == POISON
    assert {q["partition_key"]: q["data_base64"] for q in quarantined} == expected.poison_data

    # Nothing was given up: the on-failure queue is empty.
    sqs = chaos_stack.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=chaos_stack.outputs["on_failure_queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"

    # Every configured fault fired, or the run proved nothing.
    fired = fault_plan.read_fired(chaos_stack.plan)
    assert {kind: fired[kind] for kind in EXPECTED_KINDS if fired[kind] == 0} == {}

    consumer_log = chaos_stack.state_dir / "runtime" / "logs"
    consumer_log = consumer_log / f"{chaos_stack.outputs['consumer_function_name']}.log"
    functions = stats["functions"]
    figures = {
        "records in (tweets + poison)": PAIRS + POISON,
        "tweets in KPL aggregates": len(chaos_stack.aggregated),
        "records on the stream": stream_records,
        "tweet items written": len(tweet_items),
        "lake lines": len(lines),
        "quarantined": len(quarantined),
        "duplicates prevented (consumer DuplicatesSkipped)": consumer_metric(
            consumer_log, "DuplicatesSkipped"
        ),
        "consumer write retries (WriteRetries)": consumer_metric(consumer_log, "WriteRetries"),
        "consumer invocations / errors": (
            f"{functions[chaos_stack.outputs['consumer_function_name']]['invocations']} / "
            f"{functions[chaos_stack.outputs['consumer_function_name']]['errors']}"
        ),
        "processor invocations / errors": (
            f"{functions[chaos_stack.outputs['transformer_function_name']]['invocations']} / "
            f"{functions[chaos_stack.outputs['transformer_function_name']]['errors']}"
        ),
        "faults fired": dict(sorted(fired.items())),
        "settled after (s)": round(settled_after, 1),
    }
    print("\nchaos run figures:")
    for name, value in figures.items():
        print(f"  {name}: {value}")
