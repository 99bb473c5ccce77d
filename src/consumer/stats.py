"""Per-minute topic stats, counted exactly once per (topic, tweet) across redeliveries.

Kinesis delivers at least once, and after a partial failure Lambda redelivers every record from
the first failed one, including records already stored. Tweet items are idempotent overwrites,
but ``ADD tweet_count :n`` is not, so each count is guarded by a marker item:

    TransactWriteItems (≤ 100 actions, all or nothing):
      Put    pk=TOPIC#<topic>, sk=COUNTED#<tweet_id>   if attribute_not_exists(pk)   (one per tweet)
      Update pk=TOPIC#<topic>, sk=MINUTE#<minute>  ADD tweet_count, positive, …     (one per minute)

A tweet is counted if and only if its marker is created in the same transaction. When a marker
already exists the transaction is cancelled with ``ConditionalCheckFailed`` at that action's
index: those tweets are duplicates, they are dropped and the transaction is retried with
recomputed increments. ``TransactionConflict`` and throttling are retried with bounded backoff,
then reported as failures (the records are redelivered later). ``ClientRequestToken`` is filled
by botocore per call, so its own retries of a transaction that did commit are no-ops.

The consumer runs this *before* writing the tweet items, so a crash in between leaves markers
without tweets; the redelivery skips the counting and rewrites the tweets: exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from consumer.retry import RETRYABLE_ERROR_CODES, Backoff
from tweet_record.items import marker_item, stats_increments, stats_key
from tweet_record.timestamps import minute_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_TRANSACTION_ACTIONS = 100
RETRYABLE_CANCELLATION_CODES = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    }
)


class CountRequest(NamedTuple):
    """One (topic, tweet) to count, with what its stats increment needs."""

    topic: str
    tweet_id: str
    created_at: str
    sentiment: str
    expires_at: int


Pair = tuple[str, str]


@dataclass
class CountOutcome:
    counted: set[Pair] = field(default_factory=set)
    duplicates: set[Pair] = field(default_factory=set)
    failed: dict[Pair, Exception] = field(default_factory=dict)
    transactions: int = 0
    retries: int = 0


class StatsCountFailed(RuntimeError):
    """The stats of these tweets could not be committed; their records must be redelivered."""


def plan_chunks(requests: Sequence[CountRequest]) -> list[list[CountRequest]]:
    """Split into transactions of ≤ 100 actions (one marker per tweet + one update per minute).

    Sorting by (topic, minute) first keeps tweets of one minute together, so one update serves
    as many tweets as possible.
    """
    ordered = sorted(requests, key=lambda r: (r.topic, r.created_at[:16], r.tweet_id))
    chunks: list[list[CountRequest]] = []
    current: list[CountRequest] = []
    minutes: set[tuple[str, str]] = set()
    for request in ordered:
        minute = (request.topic, minute_of(request.created_at))
        actions = len(current) + 1 + len(minutes | {minute})
        if current and actions > MAX_TRANSACTION_ACTIONS:
            chunks.append(current)
            current, minutes = [], set()
        current.append(request)
        minutes.add(minute)
    if current:
        chunks.append(current)
    return chunks


def transaction_actions(
    table_name: str, chunk: Sequence[CountRequest]
) -> list[TransactWriteItemTypeDef]:
    """Markers first (their indexes map cancellation reasons back to tweets), then updates."""
    actions: list[TransactWriteItemTypeDef] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": marker_item(request.topic, request.tweet_id, request.expires_at),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for request in chunk
    ]
    groups: dict[tuple[str, str], list[CountRequest]] = defaultdict(list)
    for request in chunk:
        groups[stats_key(request.topic, request.created_at)].append(request)
    for (pk, sk), group in groups.items():
        increments = stats_increments([request.sentiment for request in group])
        names = {f"#c{i}": counter for i, counter in enumerate(increments)}
        values: dict[str, Any] = {
            f":c{i}": {"N": str(amount)} for i, amount in enumerate(increments.values())
        }
        values[":expires"] = {"N": str(max(request.expires_at for request in group))}
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


class StatsCounter:
    """Counts tweets into the per-minute stats items, at most (and, on success, exactly) once."""

    def __init__(self, client: DynamoDBClient, table_name: str, backoff: Backoff) -> None:
        self._client = client
        self._table_name = table_name
        self._backoff = backoff

    def count(self, requests: Sequence[CountRequest]) -> CountOutcome:
        """Count every request; ``requests`` must hold each (topic, tweet) once."""
        outcome = CountOutcome()
        for chunk in plan_chunks(requests):
            self._count_chunk(chunk, outcome)
        return outcome

    def _count_chunk(self, chunk: list[CountRequest], outcome: CountOutcome) -> None:
        pending = chunk
        retry = 0
        while pending:
            outcome.transactions += 1
            try:
                self._client.transact_write_items(
                    TransactItems=transaction_actions(self._table_name, pending)
                )
            except ClientError as error:
                duplicates = _already_counted(error, pending)
                if duplicates:
                    outcome.duplicates.update((r.topic, r.tweet_id) for r in duplicates)
                    pending = [r for r in pending if r not in duplicates]
                    continue
                failure: Exception = error
                retryable = _is_retryable(error)
            except BotoCoreError as error:  # connection reset, read timeout: outcome unknown
                failure, retryable = error, True
            else:
                outcome.counted.update((r.topic, r.tweet_id) for r in pending)
                return
            retry += 1
            if not retryable or retry >= self._backoff.max_attempts:
                reason = StatsCountFailed(f"stats transaction failed ({retry} tries): {failure}")
                reason.__cause__ = failure
                outcome.failed.update(((r.topic, r.tweet_id), reason) for r in pending)
                return
            outcome.retries += 1
            self._backoff.wait(retry)


def _cancellation_codes(error: ClientError) -> list[str]:
    response: dict[str, Any] = dict(error.response)
    reasons = response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def _already_counted(error: ClientError, pending: Sequence[CountRequest]) -> list[CountRequest]:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    codes = _cancellation_codes(error)
    return [
        request
        for request, code in zip(pending, codes, strict=False)
        if code == "ConditionalCheckFailed"
    ]


def _is_retryable(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        return any(code in RETRYABLE_CANCELLATION_CODES for code in _cancellation_codes(error))
    return code in RETRYABLE_ERROR_CODES
