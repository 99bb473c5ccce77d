"""The demo's poison records: put on the stream by the demo itself, byte for byte."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from trendstream_cli.demo import POISON, put_poison_records
from tweet_record import RecordRejectedError, parse_stream_record

STREAM = "trendstream-local-tweets"


@pytest.mark.usefixtures("aws")
def test_the_demo_puts_each_poison_payload_as_recorded() -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    entries = [json.loads(line) for line in POISON.read_text(encoding="utf-8").splitlines()]

    assert put_poison_records(kinesis, STREAM) == len(entries) > 0

    [shard] = kinesis.list_shards(StreamName=STREAM)["Shards"]
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(r["PartitionKey"], r["Data"]) for r in records] == [
        (e["partition_key"], base64.b64decode(e["data_base64"])) for e in entries
    ]
    reasons = []
    for record in records:
        with pytest.raises(RecordRejectedError) as rejected:
            parse_stream_record(record["Data"])
        reasons.append(rejected.value.reason)
    assert reasons == [entry["reason"] for entry in entries]
