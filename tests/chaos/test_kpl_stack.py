"""KPL-aggregated records through the whole stack: table, Parquet lake, quarantine, errors/.

Kinesis Data Streams developer guide, "Consumer-side deaggregation"
(https://docs.aws.amazon.com/streams/latest/dev/kinesis-kpl-consumer-deaggregation.html): the
Lambda consumer deaggregates with AWS's module. Amazon Data Firehose developer guide, "Understand
data delivery in Amazon Data Firehose"
(https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html): with a Kinesis data stream
source, Firehose deaggregates KPL records before it invokes the transformation function.

The Terraform root is applied to a fresh emulator (no faults) and run by ``LocalRuntime``. The
test puts, made with AWS's aggregator: aggregates of good tweets, one aggregate holding a poison
user record among good ones, plain records between them, and one aggregate whose MD5 digest is
wrong. Every good tweet must be in the table once and in the (Parquet) lake once; the poison
user record quarantined alone naming its sub-sequence number, the corrupt aggregate quarantined
whole naming the MD5 check; Firehose's transformer sends both to errors/, raw data kept.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.chaos.chaos_support import Lake, stack_with_faults, wait_until
from tests.kpl_records import aggregate, corrupt
from tests.tweet_record.tweet_samples import record_bytes

from local_aws.runtime import LocalRuntime
from trendstream_cli.lake_objects import is_parquet, lake_rows

pytestmark = [pytest.mark.emulator, pytest.mark.slow, pytest.mark.timeout(400)]

DATASET_PAIRS = 20
"""The producer's own replay (its first run starts with the runtime); only ours are checked."""
CLOCK_SPEED = 20.0
SETTLE_TIMEOUT = 180.0
TOPIC = "#KPL"
POISON = b'{"schema":"trendstream.tweet/1","topic":{"name":"#KPL","kind":"trend"}}'


def tweet(number: int) -> tuple[str, bytes]:
    tweet_id = f"18{number:017d}"
    return tweet_id, record_bytes(
        tweet_id=tweet_id,
        topic=TOPIC,
        text=f"user record {number} of the KPL test #KPL",
        created_at=f"2026-11-22T10:{number % 60:02d}:00.000Z",
    )


def kpl_records() -> tuple[list[dict[str, Any]], set[str]]:
    """The records to put, in order, and the tweet ids that must land."""
    good = [tweet(number) for number in range(40)]
    records = [
        aggregate(good[0:15]),
        good[15],
        aggregate([*good[16:20], ("poison", POISON), *good[20:25]]),
        good[25],
        (good[26][0], corrupt(aggregate([tweet(99)])[1])),
        aggregate(good[26:40]),
    ]
    return [{"PartitionKey": key, "Data": data} for key, data in records], {
        tweet_id for tweet_id, _ in good
    }


def test_kpl_aggregates_reach_the_table_and_the_lake_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stack_with_faults(tmp_path, monkeypatch, {}, DATASET_PAIRS, 0) as chaos:
        records, expected = kpl_records()
        lake = Lake(chaos)
        runtime = LocalRuntime(
            chaos.outputs,
            chaos.endpoint,
            build_dir=chaos.build_dir,
            state_dir=chaos.state_dir / "runtime",
            clock_speed=CLOCK_SPEED,
        )
        started = time.monotonic()
        with runtime:
            response = chaos.client("kinesis").put_records(
                StreamName=chaos.outputs["stream_name"], Records=records
            )
            assert response["FailedRecordCount"] == 0
            sequences = [entry["SequenceNumber"] for entry in response["Records"]]

            def ours_in_table() -> set[str]:
                return {
                    item["tweet_id"]["S"]
                    for item in lake.items_by_kind().get("TWEET", [])
                    if item["topic"]["S"] == TOPIC
                }

            def ours_in_lake() -> list[str]:
                return [row["tweet_id"] for row in lake.lines("tweets/") if row["topic"] == TOPIC]

            def progress() -> str:
                return (
                    f"table {len(ours_in_table())}/{len(expected)}, lake "
                    f"{len(ours_in_lake())}/{len(expected)}, quarantined "
                    f"{len(lake.keys('quarantine/consumer/'))}/2"
                )

            def settled() -> bool:
                runtime.flush()
                return (
                    ours_in_table() == expected
                    and len(lake.keys("quarantine/consumer/")) >= 2
                    and len(ours_in_lake()) >= len(expected)
                )

            wait_until(settled, progress, SETTLE_TIMEOUT)
            runtime.flush()

        table = lake.items_by_kind()
        ours = [item for item in table["TWEET"] if item["topic"]["S"] == TOPIC]
        assert sorted(item["tweet_id"]["S"] for item in ours) == sorted(expected)
        counted = sum(
            int(item["tweet_count"]["N"])
            for item in table["MINUTE"]
            if item["pk"]["S"] == f"TOPIC#{TOPIC}"
        )
        assert counted == len(expected)

        assert all(is_parquet(lake.body(key)) for key in lake.keys("tweets/"))
        assert Counter(ours_in_lake()) == Counter(dict.fromkeys(expected, 1))

        quarantined = {key: json.loads(lake.body(key)) for key in lake.keys("quarantine/consumer/")}
        poison = [d for d in quarantined.values() if d.get("sub_sequence_number") is not None]
        whole = [d for d in quarantined.values() if d.get("sub_sequence_number") is None]
        assert [(d["sequence_number"], d["sub_sequence_number"]) for d in poison] == [
            (sequences[2], 4)
        ]
        assert base64.b64decode(poison[0]["data_base64"]) == POISON
        assert poison[0]["reason"] == "MISSING_FIELD"
        assert [(d["sequence_number"], d["reason"]) for d in whole] == [
            (sequences[4], "CORRUPT_AGGREGATE")
        ]
        assert "MD5" in whole[0]["detail"]
        assert base64.b64decode(whole[0]["data_base64"]) == records[4]["Data"]

        errors = [
            base64.b64decode(row["rawData"])
            for key in lake.keys("errors/")
            for row in lake_rows(lake.body(key))
        ]
        assert POISON in errors
        assert records[4]["Data"] in errors
        print(f"\nKPL through the stack settled in {time.monotonic() - started:.0f} s")
