"""Firehose record transformation: one stream record in, one lake line (or a verdict) out.

- ``Ok``: the record parsed; its data becomes one flattened JSON line ending in ``\\n``.
- ``Dropped``: a configured filter excluded it (``DROP_RETWEETS``, ``ALLOWED_LANGUAGES``).
- ``ProcessingFailed``: it can never be transformed; the raw data is returned unchanged so
  Firehose keeps it under ``errors/``.

Response size: Lambda answers at most 6 MB. The request (≤ 6 MB, Firehose's buffer ≤ 3 MB of
record data, base64-encoded, plus per-record metadata) is a bound the response shares: a
flattened line is shorter than its stream record for real tweets (it drops nesting, entity
offsets, author duplicates and ``edit_history_tweet_ids``), and each response entry carries less
metadata than its request entry. If a batch of unusual records would still push the response
past the limit, the records that grew the most are answered ``ProcessingFailed`` with their
original data (kept in ``errors/``, never lost) until it fits.

Version 2 records carry the producer's sentiment label; only version 1 records are scored here.
A sentiment service outage (``SentimentUnavailableError``, Comprehend engine only) is not a verdict
on any record: it propagates, the invocation fails, and Firehose retries it (then, after its
configured retry duration, delivers the records to ``errors/`` itself).
"""

from __future__ import annotations

import os
from base64 import b64encode
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from function_support.environment import env_flag
from tweet_record.lake import encode_lake_line, lake_row
from tweet_record.parse import ParsedTweet, RecordRejectedError, decode_base64, parse_stream_record
from tweet_record.sentiment import SentimentEngine, sentiment_labels

RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
RESPONSE_MARGIN_BYTES = 64 * 1024
"""Room for what the estimate does not see (the runtime's own envelope)."""

Result = Literal["Ok", "Dropped", "ProcessingFailed"]


@dataclass(frozen=True)
class Filters:
    drop_retweets: bool = False
    allowed_languages: frozenset[str] = frozenset()
    """Lower-case X ``lang`` codes; empty means every language (and tweets without one)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Filters:
        languages = environ.get("ALLOWED_LANGUAGES", "")
        return cls(
            drop_retweets=env_flag(environ, "DROP_RETWEETS"),
            allowed_languages=frozenset(
                code.strip().lower() for code in languages.split(",") if code.strip()
            ),
        )

    def keeps(self, tweet: ParsedTweet) -> bool:
        if self.drop_retweets and tweet.is_retweet:
            return False
        if self.allowed_languages:
            return tweet.lang is not None and tweet.lang.lower() in self.allowed_languages
        return True


@dataclass
class Verdict:
    record_id: str
    result: Result
    data: str
    original_data: str
    reason: str | None = None


@dataclass
class Transformation:
    verdicts: list[Verdict] = field(default_factory=list)
    oversize_fallbacks: int = 0

    def count(self, result: Result) -> int:
        return sum(1 for verdict in self.verdicts if verdict.result == result)


def transform(
    records: Iterable[tuple[str, str]], engine: SentimentEngine, filters: Filters
) -> Transformation:
    """``(recordId, base64 data)`` pairs → one verdict per record, in order."""
    outcome = Transformation()
    kept: list[tuple[int, ParsedTweet]] = []
    for record_id, data in records:
        try:
            tweet = parse_stream_record(decode_base64(data))
        except RecordRejectedError as rejected:
            verdict = Verdict(record_id, "ProcessingFailed", data, data, str(rejected))
        else:
            if filters.keeps(tweet):
                kept.append((len(outcome.verdicts), tweet))
                verdict = Verdict(record_id, "Ok", "", data)
            else:
                verdict = Verdict(record_id, "Dropped", "", data)
        outcome.verdicts.append(verdict)

    labels = sentiment_labels(engine, [tweet for _, tweet in kept])
    for (index, tweet), label in zip(kept, labels, strict=True):
        line = encode_lake_line(lake_row(tweet, label))
        outcome.verdicts[index].data = b64encode(line).decode("ascii")
    outcome.oversize_fallbacks = fit_response(outcome.verdicts)
    return outcome


ENTRY_OVERHEAD_BYTES = 48
"""``{"recordId": "", "result": "", "data": ""}, `` is 44 bytes with ``json.dumps`` spacing."""


def entry_size(verdict: Verdict) -> int:
    """Bytes of one record's entry in the response JSON (all of it is ASCII)."""
    return len(verdict.record_id) + len(verdict.result) + len(verdict.data) + ENTRY_OVERHEAD_BYTES


def response_size(verdicts: Iterable[Verdict]) -> int:
    return 16 + sum(entry_size(verdict) for verdict in verdicts)


def fit_response(
    verdicts: list[Verdict], limit: int = RESPONSE_LIMIT_BYTES - RESPONSE_MARGIN_BYTES
) -> int:
    """Fall back to ``ProcessingFailed`` + original data for the biggest growers until it fits."""
    size = response_size(verdicts)
    if size <= limit:
        return 0
    growers = sorted(
        (v for v in verdicts if v.result == "Ok"),
        key=lambda v: len(v.data) - len(v.original_data),
        reverse=True,
    )
    fallbacks = 0
    for verdict in growers:
        if size <= limit:
            break
        size -= len(verdict.data) - len(verdict.original_data) + len("Ok") - len("ProcessingFailed")
        verdict.result, verdict.data = "ProcessingFailed", verdict.original_data
        verdict.reason = "response would exceed Lambda's 6 MB limit"
        fallbacks += 1
    return fallbacks
