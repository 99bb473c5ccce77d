"""Proof that a deployed stack works end to end, from the outside, with marked synthetic tweets.

`trendstream verify` is a client of the stack and nothing more: it puts a few uniquely marked
`trendstream.tweet/1` records on the stream (one of them twice, plus one poison record) and reads
back, through the same APIs a user has, what the deployed services made of them: the table's
tweet items and per-minute stats, the poison record in the quarantine, the rows in the lake, and
what a named Athena query of the workgroup returns over them (Athena on AWS; the same named query
through DuckDB on the emulator, which does not run SQL). It then deletes what the consumer wrote
for its synthetic topics. The lake and the quarantine are append-only and keep their copies.

Every stage has a deadline; the lake's is derived from the delivery stream's buffering, since
Firehose holds records for its processor's and its destination's buffering intervals.
"""

from trendstream_cli.verification.batch import TOPIC_PREFIX, Batch, SyntheticTweet, make_batch
from trendstream_cli.verification.checks import (
    LAKE_MARGIN_SECONDS,
    PUT_ATTEMPTS,
    CheckFailedError,
    FirehoseBuffering,
    LakeCheck,
    Observation,
    QuarantineCheck,
    SyntheticPut,
    check_table,
    delete_topics,
    firehose_buffering,
    hour_prefixes,
    put_batch,
)
from trendstream_cli.verification.named_query import (
    AthenaEngine,
    DuckDbEngine,
    QueryCheck,
    QueryEngineName,
    choose_engine,
    scoped_to_topics,
)
from trendstream_cli.verification.runner import (
    DEFAULT_NAMED_QUERY,
    DEFAULT_POLL_SECONDS,
    DEFAULT_QUERY_SECONDS,
    DEFAULT_TABLE_SECONDS,
    STAGES,
    Options,
    Report,
    Stage,
    StageName,
    Status,
    Verifier,
    failure_message,
)
from trendstream_cli.verification.target import (
    NoDeploymentError,
    Target,
    TargetError,
    local_target,
    outputs_file_target,
    terraform_target,
)

__all__ = [
    "DEFAULT_NAMED_QUERY",
    "DEFAULT_POLL_SECONDS",
    "DEFAULT_QUERY_SECONDS",
    "DEFAULT_TABLE_SECONDS",
    "LAKE_MARGIN_SECONDS",
    "PUT_ATTEMPTS",
    "STAGES",
    "TOPIC_PREFIX",
    "AthenaEngine",
    "Batch",
    "CheckFailedError",
    "DuckDbEngine",
    "FirehoseBuffering",
    "LakeCheck",
    "NoDeploymentError",
    "Observation",
    "Options",
    "QuarantineCheck",
    "QueryCheck",
    "QueryEngineName",
    "Report",
    "Stage",
    "StageName",
    "Status",
    "SyntheticPut",
    "SyntheticTweet",
    "Target",
    "TargetError",
    "Verifier",
    "check_table",
    "choose_engine",
    "delete_topics",
    "failure_message",
    "firehose_buffering",
    "hour_prefixes",
    "local_target",
    "make_batch",
    "outputs_file_target",
    "put_batch",
    "scoped_to_topics",
    "terraform_target",
]
