"""A batch that can never succeed: the mapping gives up on exactly the records it names.

One tweet's partition key is made poison for the runtime (``crash_on_partition_keys``): every
consumer invocation holding it dies on arrival, before doing anything. The event source mapping
bisects the batch (``BisectBatchOnFunctionError``) until ``MaximumRetryAttempts`` is spent, then
sends one on-failure record to SQS and moves on. The test checks that message against the stream
itself: the records in its sequence range are exactly the ones missing from the table (and from
the quarantine), everything else is stored exactly once, the stats match a recount without the
given-up records, and the lake, fed by Firehose from the same stream, still has every tweet.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.chaos.chaos_support import (
    ChaosStack,
    Lake,
    recount,
    stack_with_faults,
    start_runtime,
    stored_stats,
    wait_until,
)

from local_aws import fault_plan
from trendstream_cli.lake_objects import row_count
from tweet_record import parse_stream_record

pytestmark = [pytest.mark.emulator, pytest.mark.slow, pytest.mark.timeout(300)]

PAIRS = 600
CLOCK_SPEED = 30.0
SETTLE_TIMEOUT = 120.0


def pick_victim(dataset: Path) -> str:
    """A tweet listed under one topic only, from the middle of a topic's pages: one record."""
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    pages_by_topic = [
        json.loads((dataset / entry["file"]).read_text(encoding="utf-8"))["pages"]
        for entry in manifest["topics"]
    ]
    seen = Counter(
        tweet["id"] for pages in pages_by_topic for page in pages for tweet in page.get("data", [])
    )
    candidates = [tweet["id"] for tweet in pages_by_topic[0][1]["data"] if seen[tweet["id"]] == 1]
    return str(candidates[len(candidates) // 2])


def victim_plan(dataset: Path) -> dict[str, Any]:
    return {"lambda": {"consumer": {"crash_on_partition_keys": [pick_victim(dataset)]}}}


def stream_range(chaos: ChaosStack, shard_id: str, start: str, end: str) -> list[dict[str, Any]]:
    """The stream's records of one shard with sequence numbers in [start, end]."""
    kinesis = chaos.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=chaos.outputs["stream_name"],
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=start,
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        for record in page["Records"]:
            if int(record["SequenceNumber"]) > int(end):
                return found
            found.append(record)
        if not page["Records"]:
            return found
        iterator = page.get("NextShardIterator")
    return found


def on_failure_messages(chaos: ChaosStack) -> list[dict[str, Any]]:
    sqs = chaos.client("sqs")
    url = chaos.outputs["on_failure_queue_url"]
    bodies: list[dict[str, Any]] = []
    while True:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        messages = received.get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(message["Body"]) for message in messages)


def queue_depth(chaos: ChaosStack) -> int:
    attributes = chaos.client("sqs").get_queue_attributes(
        QueueUrl=chaos.outputs["on_failure_queue_url"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_exhausted_retries_name_exactly_the_records_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stack_with_faults(tmp_path, monkeypatch, victim_plan, PAIRS) as chaos:
        victim = pick_victim(chaos.dataset)
        lake = Lake(chaos)
        with start_runtime(chaos, CLOCK_SPEED) as runtime:
            wait_until(lambda: queue_depth(chaos) >= 1, lambda: str(runtime.stats()), 90.0)
            [message] = on_failure_messages(chaos)
            info = message["KinesisBatchInfo"]
            given_up = stream_range(
                chaos, info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]
            )
            lost_pairs: set[tuple[str, str]] = set()
            lost_poison: set[str] = set()
            for record in given_up:
                if record["PartitionKey"].startswith("poison-"):
                    lost_poison.add(record["PartitionKey"])
                else:
                    tweet = parse_stream_record(record["Data"])
                    lost_pairs.add((tweet.topic, tweet.tweet_id))
            expected = recount(chaos.dataset, frozenset(lost_pairs), frozenset(lost_poison))
            everything = recount(chaos.dataset)

            def settled() -> bool:
                runtime.flush()
                return (
                    lake.count("TWEET#") >= len(expected.pairs)
                    and len(lake.keys("quarantine/consumer/")) >= len(expected.poison_reasons)
                    and sum(row_count(lake.body(k)) for k in lake.keys("tweets/")) >= PAIRS
                )

            wait_until(settled, lambda: str(runtime.stats()), SETTLE_TIMEOUT)

        # The message names the range given up, and that range holds the poisoned record.
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert message["responseContext"]["functionError"] == "Unhandled"
        mapping = chaos.client("lambda").get_event_source_mapping(
            UUID=chaos.outputs["event_source_mapping_uuid"]
        )
        retries = mapping["MaximumRetryAttempts"]
        assert message["requestContext"]["approximateInvokeCount"] == retries + 1
        assert info["batchSize"] == len(given_up) >= 1
        assert victim in {record["PartitionKey"] for record in given_up}
        assert fault_plan.read_fired(chaos.plan)[fault_plan.LAMBDA_CRASH_ON_ARRIVAL] >= 1

        # Exactly the records outside that range are stored, each once.
        table = lake.items_by_kind()
        tweet_items = [(i["topic"]["S"], i["tweet_id"]["S"]) for i in table["TWEET"]]
        assert len(tweet_items) == len(set(tweet_items))
        assert set(tweet_items) == expected.pairs == everything.pairs - lost_pairs
        assert stored_stats(table["MINUTE"]) == expected.stats
        quarantined = [json.loads(lake.body(k)) for k in lake.keys("quarantine/consumer/")]
        assert {q["partition_key"]: q["reason"] for q in quarantined} == expected.poison_reasons
        assert len(quarantined) == len(expected.poison_reasons)

        # Firehose reads the stream on its own: the lake still has every tweet, once.
        lines = lake.lines("tweets/")
        assert Counter((line["topic"], line["tweet_id"]) for line in lines) == Counter(
            everything.pairs
        )

        # No further message: only that one range was given up.
        assert queue_depth(chaos) == 0
        attempts = message["requestContext"]["approximateInvokeCount"]
        print(
            f"\ngave up {len(given_up)} records ({len(lost_pairs)} tweets, {len(lost_poison)} "
            f"poison) of {info['shardId']} {info['startSequenceNumber']}.."
            f"{info['endSequenceNumber']} after {attempts} attempts; "
            f"stored {len(tweet_items)} of {PAIRS}"
        )
