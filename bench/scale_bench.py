"""Write units per new tweet as the stream grows: 1, 16 and 128 shards, and a hot topic.

A steady source at full batches: every shard receives 500 records a second (the event source
mapping's default ``BatchSize``, one batch a second), so the stream runs at 500 x shards
tweets/s. Tweets are the replay dataset's, each under a tweet id of its own, arriving in random
order over the dataset's topics with ``created_at`` at their arrival time; Kinesis puts each on
the shard whose hash key range holds the MD5 of its partition key (the tweet id). Every shard's
batches go through the whole handler with the in-memory table of ``bench.fakes``, which charges
what DynamoDB documents (1 write unit per started KB of the larger of the item before and after).
The replay dataset's topics are skewed (7 topics, the largest with a quarter of the tweets),
so at 16 shards its largest topics already pass what one partition takes: every topic is given
the key parts the capacity plan's rule gives for its rate, as an operator following the plan
would. In the hot-topic case one more topic takes 20 % of the tweets. Each figure reports the
busiest partition key's write units per second, against the 1,000 one partition serves.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.consumer_bench import ENGINE, LambdaContextStandIn, kinesis_event, stand_ins
from bench.dataset import StreamRecordBytes
from bench.fakes import FakeDynamoDB, FakeS3
from bench.figures import Figure, Goal, Spread
from capacity_plan.measured import SCALE_KEYS
from capacity_plan.table import DYNAMODB_PARTITION_WCU_PER_S, write_shards_for_key

SHARD_COUNTS = (1, 16, 128)
RECORDS_PER_SHARD_PER_S = 500
"""A full batch a second per shard: the mapping's default BatchSize at a 1 s window."""
SECONDS = 1
HOT_TOPIC = "#hot"
HOT_SHARE = 0.2
HOT_TOPIC_SHARDS = 16
WRITE_UNITS_GOAL = Goal("at_most", 1.10)
START = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
SEED = 20261207


@dataclass(frozen=True)
class ScaleRun:
    write_units_per_tweet: float
    tweet_item_units_per_tweet: float
    stats_units_per_update: float
    stats_updates_per_tweet: float
    busiest_key_units_per_s: float
    key_parts: int
    """Over every topic spread (0: none needed)."""


def kinesis_shard(partition_key: str, shards: int) -> int:
    """Kinesis maps the MD5 of a partition key, a 128-bit number, onto the shards' hash key
    ranges; a stream created with N shards splits that range evenly."""
    digest = hashlib.md5(partition_key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest, "big") * shards >> 128


def steady_stream(
    records: Sequence[StreamRecordBytes], rate: float, seconds: float, hot_share: float = 0.0
) -> list[StreamRecordBytes]:
    """``rate x seconds`` records, in random order over the records' topics, created as they
    arrive; ``hot_share`` of them moved to one topic."""
    rng = random.Random(SEED)
    count = round(rate * seconds)
    sources = [records[rng.randrange(len(records))] for _ in range(count)]
    stream = []
    for index, source in enumerate(sources):
        document = json.loads(source.data)
        tweet_id = str(10**18 + index)
        document["tweet"]["id"] = tweet_id
        created = START + timedelta(seconds=index / rate)
        document["tweet"]["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if rng.random() < hot_share:
            document["topic"] = {"name": HOT_TOPIC, "kind": "query"}
        data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        topic = document["topic"]["name"]
        stream.append(StreamRecordBytes(tweet_id, data, topic, tweet_id, source.unscored))
    return stream


def run_stream(
    stream: Sequence[StreamRecordBytes],
    shards: int,
    seconds: float,
    key_parts: Mapping[str, int] | None = None,
) -> ScaleRun:
    """Each shard's records, in arrival order, through the handler in full batches."""
    per_shard: dict[int, list[StreamRecordBytes]] = defaultdict(list)
    for record in stream:
        per_shard[kinesis_shard(record.partition_key, shards)].append(record)
    dynamodb, s3 = FakeDynamoDB(), FakeS3()
    with (
        stand_ins(ENGINE, dynamodb, s3, key_parts) as app,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        for shard, records in sorted(per_shard.items()):
            for start in range(0, len(records), RECORDS_PER_SHARD_PER_S):
                batch = records[start : start + RECORDS_PER_SHARD_PER_S]
                event = kinesis_event(batch, shard_id=f"shardId-{shard:012d}")
                response = app.lambda_handler(event, LambdaContextStandIn())
                if response.get("batchItemFailures"):
                    raise RuntimeError(f"shard {shard}: {response['batchItemFailures'][:1]}")
    tweets = sum(1 for key in dynamodb.items if key[1].startswith("TWEET#"))
    calls = dynamodb.calls
    # Every tweet item here is 1 unit; the discovery index's keys (written when an update creates
    # a partial item) are counted in the write units per tweet, not in the update's own cost.
    stats_units = dynamodb.write_units - calls["PutItem"] - dynamodb.index_write_units
    return ScaleRun(
        write_units_per_tweet=dynamodb.write_units / tweets,
        tweet_item_units_per_tweet=calls["PutItem"] / tweets,
        stats_units_per_update=stats_units / calls["UpdateItem"],
        stats_updates_per_tweet=calls["UpdateItem"] / tweets,
        busiest_key_units_per_s=max(dynamodb.write_units_by_partition_key().values()) / seconds,
        key_parts=sum((key_parts or {}).values()),
    )


def key_parts_for(stream: Sequence[StreamRecordBytes], seconds: float) -> dict[str, int]:
    """The plan's rule for each topic: enough key parts to keep each under 80 % of a partition
    at the topic's rate of tweet items (1 write unit each)."""
    rates = Counter(record.topic for record in stream)
    parts = {topic: write_shards_for_key(count / seconds) for topic, count in rates.items()}
    return {topic: count for topic, count in parts.items() if count > 1}


def _figure(name: str, key: str, run: ScaleRun) -> Figure:
    return Figure(
        key,
        name,
        "WCU",
        Spread.of([run.write_units_per_tweet]),
        WRITE_UNITS_GOAL,
        baseline=(
            f"tweet item {run.tweet_item_units_per_tweet:.2f}, "
            f"{run.stats_updates_per_tweet:.3f} stats updates of "
            f"{run.stats_units_per_update:.2f} WCU; busiest key "
            f"{run.busiest_key_units_per_s:,.0f} WCU/s"
        ),
        details={
            "tweet_item_units": run.tweet_item_units_per_tweet,
            "stats_units_per_update": run.stats_units_per_update,
            "stats_updates_per_tweet": run.stats_updates_per_tweet,
            "busiest_key_units_per_s": run.busiest_key_units_per_s,
            "partition_limit_units_per_s": DYNAMODB_PARTITION_WCU_PER_S,
            "key_parts": run.key_parts,
        },
    )


def scale_figures(records: Sequence[StreamRecordBytes]) -> list[Figure]:
    """Rows: write units per new tweet at each shard count, then with a hot topic."""
    figures = []
    *shard_keys, hot_key = SCALE_KEYS
    for shards, key in zip(SHARD_COUNTS, shard_keys, strict=True):
        rate = RECORDS_PER_SHARD_PER_S * shards
        stream = steady_stream(records, rate, SECONDS)
        run = run_stream(stream, shards, SECONDS, key_parts_for(stream, SECONDS))
        figures.append(
            _figure(
                f"consumer write units per new tweet, {shards} shard"
                f"{'s' if shards > 1 else ''} ({rate:,} tweets/s)",
                key,
                run,
            )
        )
    rate = RECORDS_PER_SHARD_PER_S * HOT_TOPIC_SHARDS
    stream = steady_stream(records, rate, SECONDS, HOT_SHARE)
    parts = key_parts_for(stream, SECONDS)
    run = run_stream(stream, HOT_TOPIC_SHARDS, SECONDS, parts)
    figures.append(
        _figure(
            f"consumer write units per new tweet, one topic at {HOT_SHARE:.0%} "
            f"({rate:,} tweets/s, {parts[HOT_TOPIC]} key parts)",
            hot_key,
            run,
        )
    )
    return figures
