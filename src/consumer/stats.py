"""Tweet items and per-minute topic stats, written together so each tweet counts exactly once.

Kinesis delivers at least once: after a partial failure Lambda redelivers every record from the
first failed one, bisection splits and retries a batch, several concurrent batches may read one
shard (``ParallelizationFactor``), and the producer may put a tweet again in a later run. The
tweet item itself is the proof that a tweet is counted, created in the same transaction that
adds it to its minute's stats:

    TransactWriteItems (≤ 100 actions and ≤ 4 MB, all or nothing):
      Put    pk=TOPIC#<topic>, sk=TWEET#<created_at>#<id>  if attribute_not_exists(pk)  (per tweet)
      Update pk=TOPIC#<topic>, sk=MINUTE#<minute>  ADD tweet_count, positive, …        (per minute)

A tweet is counted if and only if its item is created in the same transaction, whatever
delivered it and however often. When an item already exists the transaction is cancelled with
``ConditionalCheckFailed`` at that action's index: that tweet is a duplicate, it is dropped (its
item stays as first written) and the transaction is sent again with recomputed increments.
Conflicts and throttling inside a cancellation are retried with the shared backoff (botocore
does not retry a cancelled transaction); a call that fails outright was already retried by
botocore and is reported, so its records are redelivered. ``ClientRequestToken`` is filled by
botocore per call, so its own retries of a transaction that did commit are no-ops.

Write units (PAY_PER_REQUEST): 2 per started KB of each tweet item plus 2 per stats update,
which the tweets of one (topic, minute) in a transaction share; ``docs/capacity.md`` has the
figures. ``ReturnConsumedCapacity`` reports what was actually consumed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from consumer.limits import MAX_TRANSACTION_ACTIONS, MAX_TRANSACTION_BYTES
from tweet_record.backoff import Backoff
from tweet_record.items import Item, stats_increments, stats_key
from tweet_record.timestamps import minute_of

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

STATS_ITEM_BYTES_BOUND = 300
"""More than a stats update's key, counters and expiry ever take."""
RETRYABLE_CANCELLATION_CODES = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    }
)


class TweetWrite(NamedTuple):
    """One tweet item to create, with what its minute's stats increment needs."""

    topic: str
    tweet_id: str
    created_at: str
    sentiment: str
    expires_at: int
    item: Item
    size: int
    """At least the item's size (an upper bound is enough for the 4 MB limit)."""


Pair = tuple[str, str]


@dataclass
class WriteOutcome:
    written: set[Pair] = field(default_factory=set)
    duplicates: set[Pair] = field(default_factory=set)
    failed: dict[Pair, Exception] = field(default_factory=dict)
    transactions: int = 0
    retries: int = 0
    write_units: float = 0.0


class TweetWriteFailed(RuntimeError):
    """These tweets could not be written; their records must be redelivered."""


def plan_chunks(writes: Sequence[TweetWrite]) -> list[list[TweetWrite]]:
    """Split into transactions of ≤ 100 actions and ≤ 4 MB (a tweet each, an update per minute).

    Sorting by (topic, minute) keeps tweets of one minute together, so one update serves as many
    tweets as possible.
    """
    ordered = sorted(writes, key=lambda w: (w.topic, w.created_at[:16], w.tweet_id))
    chunks: list[list[TweetWrite]] = []
    current: list[TweetWrite] = []
    minutes: set[tuple[str, str]] = set()
    size = 0
    for write in ordered:
        minute = (write.topic, minute_of(write.created_at))
        updates = len(minutes | {minute})
        actions = len(current) + 1 + updates
        bytes_after = size + write.size + updates * STATS_ITEM_BYTES_BOUND
        if current and (actions > MAX_TRANSACTION_ACTIONS or bytes_after > MAX_TRANSACTION_BYTES):
            chunks.append(current)
            current, minutes, size = [], set(), 0
        current.append(write)
        minutes.add(minute)
        size += write.size
    if current:
        chunks.append(current)
    return chunks


def transaction_actions(
    table_name: str, chunk: Sequence[TweetWrite]
) -> list[TransactWriteItemTypeDef]:
    """Tweet items first (their indexes map cancellation reasons back to tweets), then updates."""
    actions: list[TransactWriteItemTypeDef] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": write.item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for write in chunk
    ]
    groups: dict[tuple[str, str], list[TweetWrite]] = defaultdict(list)
    for write in chunk:
        groups[stats_key(write.topic, write.created_at)].append(write)
    for (pk, sk), group in groups.items():
        increments = stats_increments([write.sentiment for write in group])
        names = {f"#c{i}": counter for i, counter in enumerate(increments)}
        values: dict[str, Any] = {
            f":c{i}": {"N": str(amount)} for i, amount in enumerate(increments.values())
        }
        values[":expires"] = {"N": str(max(write.expires_at for write in group))}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(increments)))
        actions.append(
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                    "UpdateExpression": f"ADD {adds} SET expires_at = :expires",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return actions


class TweetTransactions:
    """Creates tweet items and counts them into the minute stats, once per (topic, tweet)."""

    def __init__(self, client: DynamoDBClient, table_name: str, backoff: Backoff) -> None:
        self._client = client
        self._table_name = table_name
        self._backoff = backoff

    def write(self, writes: Sequence[TweetWrite]) -> WriteOutcome:
        """Write every tweet; ``writes`` must hold each (topic, tweet) once."""
        outcome = WriteOutcome()
        for chunk in plan_chunks(writes):
            self._write_chunk(chunk, outcome)
        return outcome

    def _write_chunk(self, chunk: list[TweetWrite], outcome: WriteOutcome) -> None:
        # botocore is imported with the first client, not with the handler (cold start budget).
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        pending = chunk
        attempts = 0
        while pending:
            attempts += 1
            outcome.transactions += 1
            try:
                response = self._client.transact_write_items(
                    TransactItems=transaction_actions(self._table_name, pending),
                    ReturnConsumedCapacity="TOTAL",
                )
            except ClientError as error:
                duplicates = _already_written(error, pending)
                if duplicates:
                    attempts -= 1  # progress, not a retry: the chunk shrank
                    outcome.duplicates.update((w.topic, w.tweet_id) for w in duplicates)
                    pending = [w for w in pending if w not in duplicates]
                    continue
                failure: Exception = error
                retryable = _cancelled_for_retryable_reason(error)
            except BotoCoreError as error:  # botocore already retried the connection
                failure, retryable = error, False
            else:
                outcome.written.update((w.topic, w.tweet_id) for w in pending)
                outcome.write_units += consumed_units(response)
                return
            if not retryable or attempts >= self._backoff.max_attempts:
                reason = TweetWriteFailed(f"tweet transaction failed ({attempts} calls): {failure}")
                reason.__cause__ = failure
                outcome.failed.update(((w.topic, w.tweet_id), reason) for w in pending)
                return
            outcome.retries += 1
            self._backoff.wait(attempts)


def consumed_units(response: Any) -> float:
    """Write units a response reports under ``ReturnConsumedCapacity=TOTAL``."""
    return float(
        sum(entry.get("CapacityUnits", 0) for entry in response.get("ConsumedCapacity", []))
    )


def _cancellation_codes(error: ClientError) -> list[str]:
    response: dict[str, Any] = dict(error.response)
    reasons = response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def _already_written(error: ClientError, pending: Sequence[TweetWrite]) -> list[TweetWrite]:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    codes = _cancellation_codes(error)
    return [
        write
        for write, code in zip(pending, codes, strict=False)
        if code == "ConditionalCheckFailed"
    ]


def _cancelled_for_retryable_reason(error: ClientError) -> bool:
    """Only cancellations: every other error code reached us after botocore's own retries."""
    if error.response.get("Error", {}).get("Code", "") != "TransactionCanceledException":
        return False
    return any(code in RETRYABLE_CANCELLATION_CODES for code in _cancellation_codes(error))
