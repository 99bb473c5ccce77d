"""Tweet items and per-minute topic stats, written without transactions, each tweet counted once.

Kinesis delivers at least once: after a partial batch response Lambda redelivers a shard from
its lowest reported sequence number; after a function error or timeout it retries the whole
batch, or its halves with ``BisectBatchOnFunctionError``; it may deliver a batch twice; and the
producer may put the same tweet again in another record. Two writes, neither transactional:

1. **Tweet item**, one conditional ``PutItem`` per (topic, tweet), ``attribute_not_exists(pk)``,
   carrying ``origin = <shardId>:<sequenceNumber>`` of the record that creates it (never changed
   afterwards). The put succeeds: the record *contributes* to its minute. It fails its
   condition and the old item (``ReturnValuesOnConditionCheckFailure=ALL_OLD``) has this very
   record's origin: the record created it on an earlier delivery, and it still contributes.
   Another origin, or none (items written before ``origin`` existed): the tweet was put by
   another record, a true duplicate, skipped. Any other failure fails the record.
2. **Stats**, one ``UpdateItem`` per (topic, minute, shard) per batch, on that shard's own
   *partial* item of the minute (``sk = MINUTE#<minute>#<shardId>``, ``tweet_record.items``):
   ``ADD`` the counters of the contributing records and ``SET applied`` (the *watermark*) to
   the highest of their sequence numbers, if the watermark is absent or below the lowest of
   them. When the condition fails, the stored watermark comes back with the old item:
   contributions at or below it were counted already; the rest is sent again, conditioned on
   that exact watermark. A minute's totals are the sum of its partial items; readers add them.
   Each item has one writer and one watermark, so its size, and an update's write units, do not
   grow with the number of shards.

**The prefix rule.** Stats are applied after every put of the batch has an answer, and only for
contributions whose sequence number is below the shard's *first failure*: the lowest sequence
number reported in ``batchItemFailures`` (a failed put, a failed quarantine write, a failed
stats update). Lambda redelivers from there, and those records are counted then.

**Why exactly once**, assuming one batch in flight per shard (``ParallelizationFactor = 1``,
which the stack pins): batches of a shard are processed one after another, in order.

- Whether a record contributes is a function of the record: the first put of (topic, tweet) by
  any record creates the item with that record's origin, forever, so every later delivery of the
  same record contributes again and every other record of that tweet is a duplicate. Within a
  batch, two records of one (topic, tweet) in one shard keep the first (the lower sequence
  number): any redelivery holding the second holds the first too, unless the first lies before
  the redelivery's start, in which case its put already landed and the second fails on origin.
- Invariant, per partial item (one shard, one topic, one minute): the counted contributions are
  exactly the shard's contributions to that topic's minute up to the item's watermark. An
  update adds, atomically with moving the watermark, the contributions above the watermark up
  to the batch's first failure; all of them are known then (every record below the first
  failure has a definite answer), so no gap opens.
  Below a batch's first record everything is counted: Lambda only moves a shard's checkpoint
  past records an invocation completed and reported processed, all below its first failure.
  Partial items are independent: a stats update that fails reports its records after other
  items' updates landed, and each item's invariant holds on its own. A minute's sum is then
  exactly its shards' contributions up to their watermarks.
- Records at or after the first failure are never counted by this batch; their items may be
  written, and their redelivery contributes them (origin equal) and counts them.
- **Redelivery after a partial failure** starts at the first failure: only uncounted
  contributions are above the watermark. **Retries of a whole batch** (function error,
  timeout, a batch delivered twice) and **bisected halves** carry records whose contributions
  are at or below the watermark where an earlier attempt counted them, and above it where it did
  not: a crash between two items' updates leaves each item consistent on its own.
- **Producer duplicates** fail on origin. **Reshards** start new shards with new ids, hence new
  partial items: sequence numbers of different shards are never compared. Two shards never
  update one item; ``UpdateItem`` is atomic per item.
- **Hot topics** (key parts, ``tweet_record.items``): a tweet's key part is a function of its id
  and a partial item's of its shard id, so every delivery of a record meets the same keys. A
  change of a topic's part count moves some of its tweets' keys: a tweet delivered both before
  and after the change is stored and counted twice (docs/data-model.md).

Without the ParallelizationFactor assumption two batches of one shard could update one item
out of order, and the lower one would be dropped as "already counted". If Lambda gives up on a
batch (retries exhausted, on-failure destination), items written after its first failure stay
uncounted, like the failed record itself.

Throttling and server errors are retried by botocore (standard mode) inside each call; a call
that still fails fails its records. Re-sending an update after its condition failed is progress
(the increments shrank), not a retry. ``expires_at`` on a stats item is the highest expiry of
the contributions of its latest update: tweets' expiries follow their fetch time, so later
updates carry later expiries except for replays of old tweets.

Write units (``ReturnConsumedCapacity``): 1 per started KB of each new tweet item, and 1 per
started KB of the larger of the partial stats item before and after each update (a few hundred
bytes, so 1, at any shard count); a put that fails its condition also consumes 1 per started KB,
unreported (DynamoDB developer guide, read/write operations); returning the old item on a failed
condition consumes no read units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from tweet_record.activity import ACTIVE_HOUR_ATTRIBUTE, active_hour
from tweet_record.items import (
    WATERMARK_ATTRIBUTE,
    Item,
    Key,
    sequence_watermark,
    stats_increments,
    watermark_sequence,
)

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateItemInputTypeDef

WRITE_WORKERS = 16
"""Concurrent DynamoDB calls per invocation, so a 500-record batch is not 500 round trips in a
row; the consumer's DynamoDB client keeps as many connections in its pool (``consumer.app``)."""
MAX_STATS_SENDS = 4
"""Updates of one stats item per batch: each condition failure learns the watermark, so a second
send succeeds unless another invocation moved it meanwhile (not possible with one batch in
flight per shard)."""
CONDITION_FAILED = "ConditionalCheckFailedException"
NEW_WATERMARK = "attribute_not_exists(#w) OR #w < :first"
SAME_WATERMARK = "#w = :old"


class TweetWrite(NamedTuple):
    """One tweet item to create, with what its minute's stats need and the record it came from."""

    topic: str
    tweet_id: str
    sentiment: str
    expires_at: int
    item: Item
    """The tweet item, ``origin`` included."""
    stats_key: Key
    """The partial stats item of the tweet's minute for this record's shard."""
    shard_id: str
    sequence: int
    """The record's position in its shard: its sequence number and, for a user record of a KPL
    aggregate, its sub-sequence number (``consumer.processor.record_position``)."""
    origin: str


class PutResult(Enum):
    CREATED = "created"
    REDELIVERED = "redelivered"
    """The item exists with this record's origin: created by an earlier delivery of it."""
    DUPLICATE = "duplicate"
    FAILED = "failed"


class PutAnswer(NamedTuple):
    result: PutResult
    write_units: float
    retries: int
    error: Exception | None


class StatsAnswer(NamedTuple):
    sends: int
    write_units: float
    retries: int
    error: Exception | None


@dataclass
class WriteOutcome:
    """What the batch's writes did; ``failed`` maps indexes of ``writes`` to their failure."""

    failed: dict[int, Exception] = field(default_factory=dict)
    created: int = 0
    duplicates: int = 0
    stats_updates: int = 0
    retries: int = 0
    write_units: float = 0.0


class TweetWriteError(RuntimeError):
    """The record's tweet or stats could not be written; it must be redelivered."""


class Contribution(NamedTuple):
    sequence: int
    sentiment: str
    expires_at: int
    position: int
    """Of its write in the batch's writes."""


Task = TypeVar("Task")
Answer = TypeVar("Answer")


@cache
def _executor() -> ThreadPoolExecutor:
    """Shared across invocations of a warm sandbox (botocore clients are thread safe)."""
    return ThreadPoolExecutor(max_workers=WRITE_WORKERS, thread_name_prefix="dynamodb-write")


def concurrently(call: Callable[[Task], Answer], tasks: Sequence[Task]) -> list[Answer]:
    """``[call(task) for task in tasks]`` on up to ``WRITE_WORKERS`` threads, in task order.

    Each worker takes every n-th task: n futures per batch instead of one per task keeps the
    pool's own CPU cost off the per-record budget.
    """
    workers = min(WRITE_WORKERS, len(tasks))
    if workers <= 1:
        return [call(task) for task in tasks]

    def run_share(start: int) -> list[Answer]:
        return [call(task) for task in tasks[start::workers]]

    shares = list(_executor().map(run_share, range(workers)))
    answers: list[Answer] = [shares[0][0]] * len(tasks)
    for start, share in enumerate(shares):
        answers[start::workers] = share
    return answers


def consumed_units(response: Mapping[str, Any]) -> float:
    """Write units a response reports under ``ReturnConsumedCapacity=TOTAL``."""
    capacity = response.get("ConsumedCapacity") or {}
    return float(capacity.get("CapacityUnits", 0))


def old_item(error: ClientError) -> Item:
    """The item a failed condition found (``ReturnValuesOnConditionCheckFailure=ALL_OLD``)."""
    response: dict[str, Any] = dict(error.response)
    item = response.get("Item")
    return item if isinstance(item, dict) else {}


def retry_attempts(response: Mapping[str, Any]) -> int:
    """The retries botocore made for a call (``ResponseMetadata.RetryAttempts``)."""
    return int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))


def stats_update(
    table_name: str,
    key: Key,
    contributions: Sequence[Contribution],
    old_watermark: str | None,
) -> UpdateItemInputTypeDef:
    """The conditional update counting ``contributions`` (ascending sequence numbers) into
    their shard's partial item ``key``."""
    increments = stats_increments([c.sentiment for c in contributions])
    names = {f"#c{i}": counter for i, counter in enumerate(increments)}
    names["#w"] = WATERMARK_ATTRIBUTE
    values: dict[str, Any] = {
        f":c{i}": {"N": str(amount)} for i, amount in enumerate(increments.values())
    }
    values[":expires"] = {"N": str(max(c.expires_at for c in contributions))}
    values[":last"] = {"S": sequence_watermark(contributions[-1].sequence)}
    if old_watermark is None:
        values[":first"] = {"S": sequence_watermark(contributions[0].sequence)}
        condition = NEW_WATERMARK
    else:
        values[":old"] = {"S": old_watermark}
        condition = SAME_WATERMARK
    adds = ", ".join(f"#c{i} :c{i}" for i in range(len(increments)))
    pk, sk = key
    values[":hour"] = {"S": active_hour(sk)}  # the topic-discovery index (tweet_record.activity)
    return {
        "TableName": table_name,
        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
        "UpdateExpression": (
            f"ADD {adds} SET expires_at = :expires, #w = :last, {ACTIVE_HOUR_ATTRIBUTE} = :hour"
        ),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


class TweetWriter:
    """Creates tweet items, then counts the contributing ones into their minutes' stats."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        # botocore comes with the client, not with the handler import (cold start budget).
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        self._client = client
        self._table_name = table_name
        self._client_error = ClientError
        self._botocore_error = BotoCoreError

    def write(
        self, writes: Sequence[TweetWrite], first_failures: Mapping[str, int]
    ) -> WriteOutcome:
        """``writes`` holds each (shard, topic, tweet) once; ``first_failures`` maps a shard to the
        lowest sequence number already failed in this batch (by the record handler)."""
        outcome = WriteOutcome()
        answers = concurrently(self._put, writes)
        first_failure = dict(first_failures)
        for index, (write, answer) in enumerate(zip(writes, answers, strict=True)):
            outcome.write_units += answer.write_units
            outcome.retries += answer.retries
            if answer.result is PutResult.FAILED:
                outcome.failed[index] = answer.error or TweetWriteError("tweet put failed")
                known = first_failure.get(write.shard_id, write.sequence)
                first_failure[write.shard_id] = min(known, write.sequence)
            elif answer.result is PutResult.CREATED:
                outcome.created += 1
            elif answer.result is PutResult.DUPLICATE:
                outcome.duplicates += 1

        groups: dict[Key, list[Contribution]] = defaultdict(list)
        for index, (write, answer) in enumerate(zip(writes, answers, strict=True)):
            if answer.result not in (PutResult.CREATED, PutResult.REDELIVERED):
                continue
            if write.sequence >= first_failure.get(write.shard_id, write.sequence + 1):
                continue  # redelivered from the first failure, and counted then
            groups[write.stats_key].append(
                Contribution(write.sequence, write.sentiment, write.expires_at, index)
            )
        tasks = [(key, sorted(group)) for key, group in groups.items()]
        for (_, group), stats in zip(tasks, concurrently(self._count, tasks), strict=True):
            outcome.stats_updates += stats.sends
            outcome.write_units += stats.write_units
            outcome.retries += stats.retries
            if stats.error is not None:
                reason = TweetWriteError(f"stats update failed: {stats.error}")
                reason.__cause__ = stats.error
                outcome.failed.update((c.position, reason) for c in group)
        return outcome

    def _put(self, write: TweetWrite) -> PutAnswer:
        try:
            response = self._client.put_item(
                TableName=self._table_name,
                Item=write.item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ReturnConsumedCapacity="TOTAL",
            )
        except self._client_error as error:
            retries = retry_attempts(error.response)
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                return PutAnswer(PutResult.FAILED, 0.0, retries, error)
            origin = old_item(error).get("origin", {}).get("S")
            result = PutResult.REDELIVERED if origin == write.origin else PutResult.DUPLICATE
            return PutAnswer(result, 0.0, retries, None)
        except self._botocore_error as error:  # botocore already retried the connection
            return PutAnswer(PutResult.FAILED, 0.0, 0, error)
        return PutAnswer(
            PutResult.CREATED, consumed_units(response), retry_attempts(response), None
        )

    def _count(self, task: tuple[Key, list[Contribution]]) -> StatsAnswer:
        key, pending = task
        old_watermark: str | None = None
        units = 0.0
        retries = sends = 0
        while sends < MAX_STATS_SENDS:
            sends += 1
            request = stats_update(self._table_name, key, pending, old_watermark)
            try:
                response = self._client.update_item(**request)
            except self._client_error as error:
                retries += retry_attempts(error.response)
                if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                    return StatsAnswer(sends, units, retries, error)
                old_watermark = old_item(error).get(WATERMARK_ATTRIBUTE, {}).get("S")
                if old_watermark is not None:
                    counted = watermark_sequence(old_watermark)
                    pending = [c for c in pending if c.sequence > counted]
                if not pending:
                    return StatsAnswer(sends, units, retries, None)  # counted before
                continue
            except self._botocore_error as error:
                return StatsAnswer(sends, units, retries, error)
            units += consumed_units(response)
            return StatsAnswer(sends, units, retries + retry_attempts(response), None)
        failure = RuntimeError(f"stats watermark kept moving ({sends} conditional updates)")
        return StatsAnswer(sends, units, retries, failure)
