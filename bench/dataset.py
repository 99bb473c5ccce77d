"""Realistic stream records for the benchmarks, from the replay dataset generator.

The generator writes X API v2 search pages; they are turned into stream records by the
producer's own page parser, labelled with VADER once per tweet as the producer's
``ScoringWriter`` does, and encoded, so the benchmarks feed the consumer and the transformer
exactly the version 2 bytes the producer would put on the stream.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.generate_replay_dataset import generate

from producer.pages import parse_search_page
from tweet_record import StreamRecord, encode_stream_record, with_sentiment
from tweet_record.schema import Topic
from tweet_record.sentiment import SentimentDocument, VaderEngine

FETCHED_AT = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)
"""Fixed, so the same ``--tweets`` always gives the same bytes."""


@dataclass(frozen=True)
class StreamRecordBytes:
    partition_key: str
    data: bytes
    topic: str
    tweet_id: str
    unscored: StreamRecord
    """The record before the producer labels it (what the producer benchmark starts from)."""


def replay_records(pairs: int) -> list[StreamRecordBytes]:
    """``pairs`` stream records, one per (topic, tweet) of a freshly generated dataset."""
    with tempfile.TemporaryDirectory(prefix="trendstream-bench-replay-") as directory:
        out = Path(directory) / "dataset"
        manifest = generate(out, pairs, seed=20261122)
        return list(_records(out, manifest))


def _records(out: Path, manifest: dict[str, Any]) -> list[StreamRecordBytes]:
    records: list[StreamRecordBytes] = []
    engine = VaderEngine()
    labels: dict[str, str] = {}
    for entry in manifest["topics"]:
        topic: Topic = {"name": entry["name"], "kind": entry["kind"]}
        if "woeid" in entry:
            topic["woeid"] = entry["woeid"]
        search = json.loads((out / entry["file"]).read_text(encoding="utf-8"))
        for page in search["pages"]:
            for record in parse_search_page(page, topic, FETCHED_AT).records:
                tweet = record["tweet"]
                if tweet["id"] not in labels:
                    document = SentimentDocument(tweet["text"], tweet.get("lang"))
                    labels[tweet["id"]] = str(engine.classify([document])[0])
                records.append(
                    StreamRecordBytes(
                        partition_key=tweet["id"],
                        data=encode_stream_record(with_sentiment(record, labels[tweet["id"]])),
                        topic=topic["name"],
                        tweet_id=tweet["id"],
                        unscored=record,
                    )
                )
    return records
