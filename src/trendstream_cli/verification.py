"""Proof that a deployed stack works end to end, from the outside, with marked synthetic tweets.

`trendstream verify` is a client of the stack and nothing more: it puts a few uniquely marked
`trendstream.tweet/1` records on the stream (one of them twice, plus one poison record) and reads
back, through the same APIs a user has, what the deployed services made of them: the table's
tweet items and per-minute stats, the poison record in the quarantine, the lines in the lake, and
what a named Athena query of the workgroup returns over them (Athena on AWS; the same named query
through DuckDB on the emulator, which does not run SQL). It then deletes what the consumer wrote
for its synthetic topics. The lake and the quarantine are append-only and keep their copies.

Every stage has a deadline; the lake's is derived from the delivery stream's buffering, since
Firehose holds records for its processor's and its destination's buffering intervals.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import logging
import os
import secrets
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import boto3
import sqlglot
from botocore.exceptions import BotoCoreError, ClientError
from sqlglot import exp
from sqlglot.errors import SqlglotError

from trendstream_cli import outputs as stack_outputs
from trendstream_cli import query, stack
from tweet_record import build_stream_record, encode_stream_record, format_utc, make_topic
from tweet_record.items import stats_key, topic_pk

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_firehose import FirehoseClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

StageName = Literal["stack", "put", "table", "quarantine", "lake", "query", "cleanup"]
STAGES: tuple[StageName, ...] = ("stack", "put", "table", "quarantine", "lake", "query", "cleanup")
Status = Literal["pending", "waiting", "ok", "failed", "skipped"]
QueryEngineName = Literal["athena", "duckdb"]

REQUIRED_OUTPUTS = (
    "stream_name",
    "table_name",
    "lake_bucket",
    "delivery_stream_name",
    "athena_workgroup",
    "glue_database",
    "glue_table",
)
TOPIC_PREFIX = "trendstream-verify-"
TWEETS_PER_TOPIC = (3, 2)
"""Two synthetic topics; the first topic's first tweet is put twice."""
TWEET_AGES_SECONDS = ((0, 1, 61), (0, 2))
"""How old each synthetic tweet is when put: the first topic spans two minutes of stats."""
DEFAULT_NAMED_QUERY = "top-topics-last-hour"
DEFAULT_TABLE_SECONDS = 120.0
DEFAULT_QUERY_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 2.0
LAKE_MARGIN_SECONDS = 60.0
LAKE_BUFFERING_FACTOR = 1.5
"""Buffering hints are hints: Firehose may hold data longer when it sees fit."""
PROCESSOR_INTERVAL_DEFAULT = 60.0
DESTINATION_INTERVAL_DEFAULT = 300.0
CLOCK_SKEW = dt.timedelta(minutes=2)
"""Objects S3 dates this much before the put still count as new (the local clock may be ahead)."""
QUERY_HOURS = 2
"""Lake partitions the local query reads: the tweets arrived within the last hour or two."""
PUT_ATTEMPTS = 4
DELETE_BATCH = 25
GZIP_MAGIC = b"\x1f\x8b"
LAKE_PREFIX = "tweets/"
QUARANTINE_PREFIX = "quarantine/consumer/"
AUTHOR_ID = "1"


class CheckFailed(Exception):
    """A stage can no longer succeed (or its deadline passed); the message says why."""


class TargetError(Exception):
    """The stack to verify cannot be found: no outputs, no running emulator, a bad file."""


# ---------------------------------------------------------------------------------------------
# The stack: outputs, and how boto3 reaches it


@dataclass(frozen=True)
class Target:
    """The stack to verify: its Terraform outputs and where its AWS is."""

    outputs: dict[str, Any]
    description: str
    environment: dict[str, str] = field(default_factory=dict)
    """Variables that point boto3 at the emulator (empty for AWS: the default chain decides)."""
    local: bool = False


def local_target(state_dir: Path) -> Target:
    """The stack `trendstream up` applied, reached at the emulator endpoint it recorded."""
    from local_aws.moto_server import emulator_environment  # noqa: PLC0415

    paths = stack.StackPaths(state_dir=state_dir)
    try:
        outputs = stack.read_outputs(paths)
    except (OSError, ValueError) as error:
        raise TargetError(str(error)) from error
    endpoint = stack.running_endpoint(paths)
    if endpoint is None:
        raise TargetError(
            f"no emulator is running for the local stack in {state_dir}: run `make up` "
            "(and `make run` for the services)"
        )
    return Target(
        outputs=outputs,
        description=f"local stack at {endpoint}",
        environment=emulator_environment(endpoint),
        local=True,
    )


def outputs_file_target(path: Path) -> Target:
    """A stack named by a `terraform output -json` file, reached as the environment says."""
    try:
        outputs = stack_outputs.read_outputs_file(path)
    except (OSError, ValueError, TypeError) as error:
        raise TargetError(f"cannot read the outputs file {path}: {error}") from error
    return Target(outputs=outputs, description=f"outputs in {path}")


def terraform_target(terraform_dir: Path = stack.TERRAFORM_DIR) -> Target:
    """The outputs of the state `terraform output` reads in `terraform_dir` (as `make deploy`
    left it: backend, workspace and data directory come from the environment)."""
    command = [str(stack.TERRAFORM_WRAPPER), f"-chdir={terraform_dir}", "output", "-json"]
    try:
        completed = subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
            command, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise TargetError(f"cannot run terraform: {error}") from error
    if completed.returncode != 0:
        raise TargetError(f"`terraform output -json` failed: {completed.stderr.strip()}")
    try:
        raw = json.loads(completed.stdout or "{}")
    except ValueError as error:
        raise TargetError(f"`terraform output -json` printed no JSON: {error}") from error
    if not isinstance(raw, dict) or not raw:
        raise TargetError(f"no Terraform outputs in {terraform_dir}: is the stack deployed?")
    return Target(
        outputs=stack_outputs.flatten_outputs(raw),
        description=f"terraform output of {terraform_dir}",
    )


# ---------------------------------------------------------------------------------------------
# The synthetic batch


@dataclass(frozen=True)
class SyntheticTweet:
    tweet_id: str
    topic: str
    created_at: str
    data: bytes
    """The encoded stream record, as the producer would put it."""


@dataclass(frozen=True)
class Batch:
    """Marked tweets under topics no one else uses, one duplicate, one poison record."""

    run_id: str
    tweets: tuple[SyntheticTweet, ...]
    poison: bytes
    poison_key: str

    @property
    def duplicate(self) -> SyntheticTweet:
        return self.tweets[0]

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tweet.topic for tweet in self.tweets))

    def entries(self) -> list[tuple[bytes, str]]:
        """(data, partition key) in put order: the tweets, the duplicate again, the poison."""
        records = [(tweet.data, tweet.tweet_id) for tweet in self.tweets]
        records.append((self.duplicate.data, self.duplicate.tweet_id))
        records.append((self.poison, self.poison_key))
        return records

    def tweets_per_topic(self) -> Counter[str]:
        return Counter(tweet.topic for tweet in self.tweets)

    def expected_minutes(self) -> dict[tuple[str, str], int]:
        """(pk, sk) of each per-minute stats item -> the tweet_count it must reach."""
        return dict(Counter(stats_key(tweet.topic, tweet.created_at) for tweet in self.tweets))


def make_batch(now: dt.datetime, run_id: str | None = None) -> Batch:
    """The synthetic tweets of one verification, created `now` (a timezone-aware time)."""
    run_id = run_id or f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    total = sum(TWEETS_PER_TOPIC)
    id_base = f"{int(now.timestamp() * 1000):013d}{secrets.randbelow(10_000):04d}"
    author = {
        "id": AUTHOR_ID,
        "username": "trendstream_verify",
        "name": "trendstream verify",
        "public_metrics": {"followers_count": 0, "following_count": 0},
    }
    tweets: list[SyntheticTweet] = []
    for topic_index, ages in enumerate(TWEET_AGES_SECONDS):
        topic = f"{TOPIC_PREFIX}{run_id}-{chr(ord('a') + topic_index)}"
        for age in ages:
            number = len(tweets) + 1
            tweet_id = f"{id_base}{number:02d}"
            text = (
                f"trendstream verify {run_id}: synthetic tweet {number} of {total}, "
                "safe to ignore #trendstreamverify"
            )
            created_at = format_utc(now - dt.timedelta(seconds=age))
            tag_start = text.index("#")
            api_tweet = {
                "id": tweet_id,
                "text": text,
                "created_at": created_at,
                "lang": "en",
                "author_id": AUTHOR_ID,
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 0,
                    "quote_count": 0,
                },
                "entities": {
                    "hashtags": [{"start": tag_start, "end": len(text), "tag": "trendstreamverify"}]
                },
            }
            record = build_stream_record(make_topic(topic, "query"), api_tweet, author, now)
            tweets.append(SyntheticTweet(tweet_id, topic, created_at, encode_stream_record(record)))
    poison = json.dumps(
        {"schema": "trendstream.verify-poison/1", "run_id": run_id, "note": "must be quarantined"},
        separators=(",", ":"),
    ).encode("utf-8")
    return Batch(run_id, tuple(tweets), poison, f"{TOPIC_PREFIX}{run_id}-poison")


@dataclass(frozen=True)
class PutResult:
    partition_key: str
    shard_id: str
    sequence_number: str


def put_batch(
    kinesis: KinesisClient,
    stream_name: str,
    batch: Batch,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PutResult]:
    """PutRecords, retrying the entries Kinesis refused (throttling) a few times."""
    entries = batch.entries()
    results: list[PutResult | None] = [None] * len(entries)
    pending = list(range(len(entries)))
    refused: list[str] = []
    for attempt in range(PUT_ATTEMPTS):
        if attempt:
            sleep(0.2 * 2**attempt)
        response = kinesis.put_records(
            StreamName=stream_name,
            Records=[{"Data": entries[i][0], "PartitionKey": entries[i][1]} for i in pending],
        )
        retry: list[int] = []
        refused = []
        for index, outcome in zip(pending, response["Records"], strict=True):
            if "ErrorCode" in outcome:
                retry.append(index)
                refused.append(f"{outcome['ErrorCode']}: {outcome.get('ErrorMessage', '')}")
            else:
                results[index] = PutResult(
                    entries[index][1], outcome["ShardId"], outcome["SequenceNumber"]
                )
        pending = retry
        if not pending:
            break
    if pending:
        raise CheckFailed(
            f"{len(pending)} of {len(entries)} records refused by PutRecords after "
            f"{PUT_ATTEMPTS} attempts ({refused[0]})"
        )
    return [result for result in results if result is not None]


# ---------------------------------------------------------------------------------------------
# Stage checks: each reads the stack once and says whether its stage is done


@dataclass(frozen=True)
class Observation:
    done: bool
    detail: str
    """What the stage has seen so far (shown while waiting, and as the result when done)."""
    shortfall: str = ""
    """What is still missing: the reason given when the deadline passes."""


def check_table(dynamodb: DynamoDBClient, table_name: str, batch: Batch) -> Observation:
    """Each tweet item exactly once and every per-minute stats item counting exactly its tweets.

    A count above the expected one can never come down again: it fails at once.
    """
    expected_minutes = batch.expected_minutes()
    wanted_ids = {tweet.tweet_id for tweet in batch.tweets}
    seen: Counter[str] = Counter()
    minutes: dict[tuple[str, str], int] = {}
    for topic in batch.topics:
        for item in _topic_items(dynamodb, table_name, topic, consistent=True):
            sort_key = item["sk"]["S"]
            if sort_key.startswith("TWEET#"):
                tweet_id = item.get("tweet_id", {}).get("S", "")
                if tweet_id not in wanted_ids:
                    raise CheckFailed(f"unexpected tweet {tweet_id!r} under topic {topic!r}")
                seen[tweet_id] += 1
            elif sort_key.startswith("MINUTE#"):
                minutes[(item["pk"]["S"], sort_key)] = int(item.get("tweet_count", {}).get("N", 0))
    for key, count in sorted(minutes.items()):
        wanted = expected_minutes.get(key, 0)
        if count > wanted:
            raise CheckFailed(
                f"{key[0]} {key[1]} counts {count} tweets, only {wanted} were put "
                "(a duplicate or redelivery was counted twice)"
            )
    missing = len(wanted_ids - set(seen))
    short = [key for key, wanted in expected_minutes.items() if minutes.get(key, 0) < wanted]
    total = len(wanted_ids)
    detail = (
        f"{total - missing} of {total} tweets, "
        f"{len(expected_minutes) - len(short)} of {len(expected_minutes)} minute stats exact"
    )
    if missing:
        shortfall = f"{missing} of {total} tweets missing"
    elif short:
        pk, sk = short[0]
        shortfall = (
            f"{len(short)} of {len(expected_minutes)} minute stats short "
            f"({pk} {sk}: {minutes.get((pk, sk), 0)} of {expected_minutes[(pk, sk)]})"
        )
    else:
        shortfall = ""
    return Observation(not missing and not short, detail, shortfall)


def _topic_items(
    dynamodb: DynamoDBClient, table_name: str, topic: str, *, consistent: bool
) -> Iterable[dict[str, Any]]:
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": topic_pk(topic)}},
        ConsistentRead=consistent,
    ):
        yield from page.get("Items", [])


def hour_prefixes(root: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """`<root>year=…/month=…/day=…/hour=…/` of every UTC hour from `start` to `end`."""
    hour = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour <= end:
        prefixes.append(f"{root}year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/")
        hour += dt.timedelta(hours=1)
    return prefixes


class _NewObjects:
    """Objects under hourly partitions written since the put, each read once."""

    def __init__(self, s3: S3Client, bucket: str, root: str, since: dt.datetime) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._root = root
        self._since = since - CLOCK_SKEW
        self._read: set[str] = set()

    @property
    def read_count(self) -> int:
        return len(self._read)

    def fresh(self, now: dt.datetime) -> Iterable[tuple[str, bytes]]:
        """(key, body) of each new object not read before; gzip bodies come back decompressed."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for prefix in hour_prefixes(self._root, self._since, now):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    key = entry["Key"]
                    if key in self._read or entry["LastModified"] < self._since:
                        continue
                    body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
                    self._read.add(key)
                    yield key, gzip.decompress(body) if body[:2] == GZIP_MAGIC else body


class QuarantineCheck:
    """The poison record, under quarantine/consumer/ with its raw bytes, shard and sequence."""

    def __init__(
        self, s3: S3Client, bucket: str, batch: Batch, poison: PutResult, since: dt.datetime
    ) -> None:
        self._objects = _NewObjects(s3, bucket, QUARANTINE_PREFIX, since)
        self._bucket = bucket
        self._batch = batch
        self._poison = poison
        self._found: str | None = None

    def __call__(self, now: dt.datetime) -> Observation:
        if self._found is None:
            for key, body in self._objects.fresh(now):
                try:
                    document = json.loads(body)
                except ValueError:
                    continue
                if not isinstance(document, dict) or not self._is_poison(document):
                    continue
                raw = base64.b64decode(str(document.get("data_base64", "")))
                if raw != self._batch.poison:
                    raise CheckFailed(f"s3://{self._bucket}/{key} holds other bytes than were put")
                self._found = f"s3://{self._bucket}/{key} ({document.get('reason', 'no reason')})"
                break
        if self._found is not None:
            return Observation(True, f"quarantined as {self._found}")
        read = self._objects.read_count
        return Observation(
            False,
            f"not yet quarantined ({read} new quarantine objects read)",
            f"the poison record is not under {QUARANTINE_PREFIX} ({read} new objects read)",
        )

    def _is_poison(self, document: Mapping[str, Any]) -> bool:
        return (
            document.get("sequence_number") == self._poison.sequence_number
            and document.get("shard_id") in (self._poison.shard_id, None)
        ) or document.get("partition_key") == self._batch.poison_key


class LakeCheck:
    """A line under tweets/ for every synthetic tweet, under its topic."""

    def __init__(self, s3: S3Client, bucket: str, batch: Batch, since: dt.datetime) -> None:
        self._objects = _NewObjects(s3, bucket, LAKE_PREFIX, since)
        self._topics = {tweet.tweet_id: tweet.topic for tweet in batch.tweets}
        self._lines: Counter[str] = Counter()
        self._keys: set[str] = set()

    def __call__(self, now: dt.datetime) -> Observation:
        for key, body in self._objects.fresh(now):
            for line in body.splitlines():
                tweet_id, topic = _lake_line_identity(line)
                if tweet_id not in self._topics:
                    continue
                if topic != self._topics[tweet_id]:
                    raise CheckFailed(
                        f"tweet {tweet_id} is in the lake under topic {topic!r}, "
                        f"not {self._topics[tweet_id]!r}"
                    )
                self._lines[tweet_id] += 1
                self._keys.add(key)
        total = len(self._topics)
        found = len(self._lines)
        detail = (
            f"{found} of {total} tweets in {len(self._keys)} object(s), "
            f"{sum(self._lines.values())} lines"
        )
        shortfall = (
            f"{total - found} of {total} tweets have no line under {LAKE_PREFIX} "
            f"({self._objects.read_count} new objects read; does the transformer drop them? "
            "see ALLOWED_LANGUAGES)"
        )
        return Observation(found == total, detail, shortfall)


def _lake_line_identity(line: bytes) -> tuple[str, str]:
    try:
        row = json.loads(line)
    except ValueError:
        return "", ""
    if not isinstance(row, dict):
        return "", ""
    return str(row.get("tweet_id", "")), str(row.get("topic", ""))


# ---------------------------------------------------------------------------------------------
# The named query, scoped to the synthetic topics, on Athena or DuckDB


class QueryEngine(Protocol):
    name: str

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        """The rows of `sql`, or None while it is still running."""


class AthenaEngine:
    """Athena in the stack's workgroup (which sets the result location and its encryption)."""

    name = "Athena"

    def __init__(self, athena: AthenaClient, database: str, workgroup: str) -> None:
        self._athena = athena
        self._database = database
        self._workgroup = workgroup
        self._execution: str | None = None

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        if self._execution is None:
            self._execution = self._athena.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self._database},
                WorkGroup=self._workgroup,
            )["QueryExecutionId"]
            return None
        status = self._athena.get_query_execution(QueryExecutionId=self._execution)[
            "QueryExecution"
        ]["Status"]
        state = status["State"]
        if state in ("QUEUED", "RUNNING"):
            return None
        execution, self._execution = self._execution, None
        if state != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise CheckFailed(f"Athena query {execution} {state}: {reason}")
        return self._rows(execution)

    def _rows(self, execution: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: list[str] = []
        paginator = self._athena.get_paginator("get_query_results")
        for page in paginator.paginate(QueryExecutionId=execution):
            result_set = page["ResultSet"]
            if not columns:
                columns = [
                    column["Name"] for column in result_set["ResultSetMetadata"]["ColumnInfo"]
                ]
            for row in result_set.get("Rows", []):
                values = [datum.get("VarCharValue") for datum in row.get("Data", [])]
                if not rows and values == columns:
                    continue  # the header row Athena puts first in a SELECT's results
                rows.append(dict(zip(columns, values, strict=False)))
        return rows


class DuckDbEngine:
    """What `trendstream query` does: the lake copied from S3, the SQL run by DuckDB."""

    name = "DuckDB"

    def __init__(self, outputs: Mapping[str, Any], session: boto3.session.Session) -> None:
        self._outputs = outputs
        self._session = session

    def poll(self, sql: str) -> list[dict[str, Any]] | None:
        try:
            result = query.run_query(self._outputs, sql, session=self._session, hours=QUERY_HOURS)
        except (query.QueryError, query.StackError) as error:
            raise CheckFailed(str(error)) from error
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def scoped_to_topics(sql: str, topics: Sequence[str]) -> str:
    """The named query with `topic IN (…)` added to its WHERE, so other topics cannot crowd
    the synthetic ones out of its LIMIT."""
    try:
        tree = sqlglot.parse_one(sql, read=query.ATHENA_DIALECT)
    except SqlglotError as error:
        raise CheckFailed(f"cannot read the named query's SQL: {error}") from error
    if not isinstance(tree, exp.Select):
        raise CheckFailed("the named query is not a single SELECT")
    condition = exp.column("topic").isin(*(exp.Literal.string(topic) for topic in topics))
    return tree.where(condition).sql(dialect=query.ATHENA_DIALECT)


class QueryCheck:
    """The named query returns a row for each synthetic topic, counting at least its tweets."""

    def __init__(self, engine: QueryEngine, named: query.NamedQuery, batch: Batch) -> None:
        self._engine = engine
        self._named = named
        self._expected = batch.tweets_per_topic()
        self.sql = scoped_to_topics(named.sql, batch.topics)
        self._last = "not run yet"

    def __call__(self, now: dt.datetime) -> Observation:
        rows = self._engine.poll(self.sql)
        label = f"named query {self._named.name!r} on {self._engine.name}"
        if rows is None:
            return Observation(False, f"{label}: running", f"{label}: {self._last}")
        if rows and "topic" not in rows[0]:
            raise CheckFailed(f"{label} returns no `topic` column")
        counts = {str(row["topic"]): row.get("tweets") for row in rows}
        seen = [topic for topic in self._expected if topic in counts]
        short = [
            f"{topic}: {counts[topic]} of {wanted}"
            for topic, wanted in self._expected.items()
            if topic in counts and counts[topic] is not None and int(str(counts[topic])) < wanted
        ]
        total = len(self._expected)
        self._last = f"saw {len(seen)} of {total} synthetic topics" + (
            f" ({'; '.join(short)} tweets)" if short else ""
        )
        done = len(seen) == total and not short
        return Observation(done, f"{label}: {self._last}", f"{label}: {self._last}")


# ---------------------------------------------------------------------------------------------
# Deadlines


@dataclass(frozen=True)
class FirehoseBuffering:
    processor_seconds: float
    destination_seconds: float

    def lake_deadline(self) -> float:
        """Both buffers, with room for Firehose to stretch its hints, plus a margin."""
        buffered = self.processor_seconds + self.destination_seconds
        return LAKE_BUFFERING_FACTOR * buffered + LAKE_MARGIN_SECONDS


def firehose_buffering(firehose: FirehoseClient, name: str) -> FirehoseBuffering:
    """The delivery stream's processor and destination buffering intervals (AWS defaults when
    unset: 60 s for a Lambda processor, 300 s for S3)."""
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    destinations = description.get("Destinations", [])
    s3 = destinations[0].get("ExtendedS3DestinationDescription", {}) if destinations else {}
    destination = float(
        s3.get("BufferingHints", {}).get("IntervalInSeconds", DESTINATION_INTERVAL_DEFAULT)
    )
    processor = 0.0
    processing = s3.get("ProcessingConfiguration", {})
    if processing.get("Enabled"):
        for processor_config in processing.get("Processors", []):
            parameters = {
                parameter["ParameterName"]: parameter["ParameterValue"]
                for parameter in processor_config.get("Parameters", [])
            }
            interval = parameters.get("BufferIntervalInSeconds", PROCESSOR_INTERVAL_DEFAULT)
            processor = max(processor, float(interval))
    return FirehoseBuffering(processor, destination)


# ---------------------------------------------------------------------------------------------
# The run


@dataclass(frozen=True)
class Options:
    table_seconds: float = DEFAULT_TABLE_SECONDS
    """Deadline of the table and the quarantine (the consumer), from the put."""
    lake_seconds: float | None = None
    """Deadline of the lake, from the put; None: derived from the delivery stream."""
    query_seconds: float = DEFAULT_QUERY_SECONDS
    """Deadline of the query, from when the lake holds every line."""
    poll_seconds: float = DEFAULT_POLL_SECONDS
    named_query: str = DEFAULT_NAMED_QUERY
    engine: QueryEngineName = "athena"
    keep: bool = False
    """Leave the synthetic items in the table (to look at them)."""


@dataclass
class Stage:
    name: StageName
    status: Status = "pending"
    detail: str = ""
    seconds: float | None = None
    """How long the stage took (waiting stages: from the put until done)."""
    deadline: float | None = None


@dataclass
class Report:
    target: str
    run_id: str = ""
    topics: tuple[str, ...] = ()
    stages: list[Stage] = field(default_factory=lambda: [Stage(name) for name in STAGES])
    query_sql: str = ""

    def stage(self, name: StageName) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    @property
    def failure(self) -> Stage | None:
        return next((stage for stage in self.stages if stage.status == "failed"), None)

    @property
    def ok(self) -> bool:
        return self.failure is None


def failure_message(report: Report) -> str:
    """`verify: FAILED at stage "table": 2 of 5 tweets missing after 120 s` (or the success)."""
    failed = report.failure
    if failed is None:
        return f"verify: OK, the stack at {report.target} works end to end (run {report.run_id})"
    return f'verify: FAILED at stage "{failed.name}": {failed.detail}'


class Verifier:
    """One verification of one stack; `run()` always returns a report, never raises for a
    failing stack (only for a programming error)."""

    def __init__(
        self,
        target: Target,
        options: Options,
        session: boto3.session.Session,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_change: Callable[[Report, float], None] | None = None,
        run_id: str | None = None,
    ) -> None:
        self._target = target
        self._outputs = target.outputs
        self._options = options
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._on_change = on_change or (lambda _report, _elapsed: None)
        self._run_id = run_id
        self.report = Report(target=target.description)
        self._started = clock()

    def run(self) -> Report:
        named = self._stage("stack", self._check_stack)
        if named is None:
            return self._finish()
        batch = make_batch(self._now(), self._run_id)
        self.report.run_id, self.report.topics = batch.run_id, batch.topics
        put_at = self._now()
        results = self._stage("put", lambda: self._put(batch))
        if results is not None:
            self._wait(batch, results, named, put_at)
        if self._options.keep:
            self._skip("cleanup", "kept (--keep): the synthetic items stay in the table")
        else:
            self._stage("cleanup", lambda: self._cleanup(batch))
        return self._finish()

    # -- stages that run once --------------------------------------------------------------

    def _stage(self, name: StageName, action: Callable[[], tuple[Any, str]]) -> Any:
        stage = self.report.stage(name)
        stage.status = "waiting"
        self._notify()
        started = self._clock()
        try:
            value, stage.detail = action()
        except CheckFailed as error:
            stage.status, stage.detail = "failed", str(error)
            value = None
        except (ClientError, BotoCoreError) as error:
            stage.status, stage.detail = "failed", _error_text(error)
            value = None
        else:
            stage.status = "ok"
        stage.seconds = self._clock() - started
        self._notify()
        return value

    def _check_stack(self) -> tuple[query.NamedQuery, str]:
        missing = [key for key in REQUIRED_OUTPUTS if not self._outputs.get(key)]
        if missing:
            raise CheckFailed(f"the Terraform outputs lack {', '.join(missing)}")
        buffering = firehose_buffering(
            self._session.client("firehose"), str(self._outputs["delivery_stream_name"])
        )
        lake_seconds = self._options.lake_seconds
        derived = lake_seconds is None
        if lake_seconds is None:
            lake_seconds = buffering.lake_deadline()
        self._options = replace(self._options, lake_seconds=lake_seconds)
        try:
            named_queries = query.list_named_queries(
                self._session.client("athena"), str(self._outputs["athena_workgroup"])
            )
            named = query.resolve_query(self._options.named_query, named_queries)
        except query.QueryError as error:
            raise CheckFailed(str(error)) from error
        if named is None:
            raise CheckFailed(f"no named query {self._options.named_query!r} in the workgroup")
        how = (
            f"Firehose buffers {buffering.processor_seconds:.0f} s + "
            f"{buffering.destination_seconds:.0f} s"
            if derived
            else "set by option"
        )
        return named, (
            f"stream {self._outputs['stream_name']}, table {self._outputs['table_name']}, "
            f"bucket {self._outputs['lake_bucket']}; lake deadline {lake_seconds:.0f} s ({how})"
        )

    def _put(self, batch: Batch) -> tuple[list[PutResult], str]:
        results = put_batch(
            self._session.client("kinesis"), str(self._outputs["stream_name"]), batch, self._sleep
        )
        shards = len({result.shard_id for result in results})
        return results, (
            f"{len(results)} records on {shards} shard(s): {len(batch.tweets)} tweets under "
            f"{len(batch.topics)} topics, 1 duplicate, 1 poison"
        )

    def _cleanup(self, batch: Batch) -> tuple[None, str]:
        deleted = delete_topics(
            self._session.client("dynamodb"), str(self._outputs["table_name"]), batch.topics
        )
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(deleted.items())) or "none"
        return None, (
            f"deleted {sum(deleted.values())} items of the synthetic topics ({kinds}); "
            "the lake and quarantine keep their copies"
        )

    # -- stages that wait --------------------------------------------------------------------

    def _wait(
        self,
        batch: Batch,
        results: list[PutResult],
        named: query.NamedQuery,
        put_at: dt.datetime,
    ) -> None:
        s3 = self._session.client("s3")
        bucket = str(self._outputs["lake_bucket"])
        dynamodb = self._session.client("dynamodb")
        table_name = str(self._outputs["table_name"])
        poison = next(result for result in results if result.partition_key == batch.poison_key)
        engine: QueryEngine = (
            DuckDbEngine(self._outputs, self._session)
            if self._options.engine == "duckdb"
            else AthenaEngine(
                self._session.client("athena"),
                str(self._outputs["glue_database"]),
                str(self._outputs["athena_workgroup"]),
            )
        )
        try:
            query_check = QueryCheck(engine, named, batch)
        except CheckFailed as error:
            self._fail("query", str(error), 0.0)
            self._skip_rest()
            return
        self.report.query_sql = query_check.sql
        checks: dict[StageName, Callable[[dt.datetime], Observation]] = {
            "table": lambda _now: check_table(dynamodb, table_name, batch),
            "quarantine": QuarantineCheck(s3, bucket, batch, poison, put_at),
            "lake": LakeCheck(s3, bucket, batch, put_at),
            "query": query_check,
        }
        assert self._options.lake_seconds is not None  # noqa: S101 - set by the stack stage
        deadlines: dict[StageName, float] = {
            "table": self._options.table_seconds,
            "quarantine": self._options.table_seconds,
            "lake": self._options.lake_seconds,
            "query": self._options.query_seconds,
        }
        waiting_since = self._clock()
        starts: dict[StageName, float] = dict.fromkeys(("table", "quarantine", "lake"), 0.0)
        for name in checks:
            self.report.stage(name).deadline = deadlines[name]
            self.report.stage(name).status = "waiting" if name in starts else "pending"
        while True:
            elapsed = self._clock() - waiting_since
            for name, check in checks.items():
                stage = self.report.stage(name)
                if stage.status != "waiting":
                    continue
                status = self._poll(stage, check, elapsed - starts[name], deadlines[name])
                if status == "failed":
                    self._skip_rest()
                    self._notify()
                    return
                if name == "lake" and status == "ok":
                    starts["query"] = elapsed
                    self.report.stage("query").status = "waiting"
            self._notify()
            if all(self.report.stage(name).status == "ok" for name in checks):
                break
            self._sleep(self._options.poll_seconds)
        self._recheck_table(dynamodb, table_name, batch)

    def _poll(
        self,
        stage: Stage,
        check: Callable[[dt.datetime], Observation],
        elapsed: float,
        deadline: float,
    ) -> Status:
        """One look at one stage: its status afterwards."""
        stage.seconds = elapsed
        try:
            observation = check(self._now())
        except CheckFailed as error:
            self._fail(stage.name, str(error), elapsed)
            return "failed"
        except (ClientError, BotoCoreError) as error:
            self._fail(stage.name, _error_text(error), elapsed)
            return "failed"
        stage.detail = observation.detail
        if observation.done:
            stage.status, stage.seconds = "ok", elapsed
            return "ok"
        if elapsed >= deadline:
            self._fail(stage.name, f"{observation.shortfall} after {elapsed:.0f} s", elapsed)
            return "failed"
        return "waiting"

    def _recheck_table(self, dynamodb: DynamoDBClient, table_name: str, batch: Batch) -> None:
        """The duplicate may arrive after the first count looked right: look once more."""
        stage = self.report.stage("table")
        try:
            observation = check_table(dynamodb, table_name, batch)
        except CheckFailed as error:
            stage.status, stage.detail = "failed", f"{error} (when checked again at the end)"
            return
        if not observation.done:
            stage.status = "failed"
            stage.detail = f"{observation.shortfall} when checked again at the end"

    def _fail(self, name: StageName, reason: str, elapsed: float) -> None:
        stage = self.report.stage(name)
        stage.status, stage.detail, stage.seconds = "failed", reason, elapsed

    def _skip(self, name: StageName, reason: str) -> None:
        stage = self.report.stage(name)
        stage.status, stage.detail = "skipped", reason
        self._notify()

    def _skip_rest(self) -> None:
        for stage in self.report.stages:
            if stage.name != "cleanup" and stage.status in ("pending", "waiting"):
                stage.status, stage.detail = "skipped", "not checked: an earlier stage failed"

    def _finish(self) -> Report:
        for stage in self.report.stages:
            if stage.status == "pending":
                stage.status, stage.detail = "skipped", "not reached"
        self._notify()
        return self.report

    def _notify(self) -> None:
        self._on_change(self.report, self._clock() - self._started)


def delete_topics(
    dynamodb: DynamoDBClient,
    table_name: str,
    topics: Iterable[str],
    sleep: Callable[[float], None] = time.sleep,
) -> Counter[str]:
    """Delete every item under the given topics; the count deleted per sort-key kind."""
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for topic in topics
        for item in _topic_items(dynamodb, table_name, topic, consistent=True)
    ]
    for start in range(0, len(keys), DELETE_BATCH):
        requests: list[Any] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + DELETE_BATCH]
        ]
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                sleep(0.2 * 2**attempt)
            response = dynamodb.batch_write_item(RequestItems={table_name: requests})
            requests = list(response.get("UnprocessedItems", {}).get(table_name, []))
            if not requests:
                break
        if requests:
            raise CheckFailed(f"{len(requests)} items left undeleted after {PUT_ATTEMPTS} tries")
    return Counter(key["sk"]["S"].split("#", 1)[0] for key in keys)


def choose_engine(target: Target, requested: str) -> QueryEngineName:
    """DuckDB for the emulator (which does not run SQL), Athena on AWS."""
    if requested == "duckdb" or (
        requested == "auto" and (target.local or "AWS_ENDPOINT_URL" in os.environ)
    ):
        return "duckdb"
    return "athena"


def _error_text(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        operation = error.operation_name
        return f"{operation}: {details.get('Code', 'error')}: {details.get('Message', '')}"
    return str(error)
