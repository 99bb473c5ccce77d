"""The trendstream stream record: one definition shared by the producer, consumer and transformer.

Producer side::

    from tweet_record import build_stream_record, encode_stream_record, make_topic, utc_now
    record = build_stream_record(make_topic("#Europe", "trend", woeid=1), tweet, author, utc_now())
    record = with_sentiment(record, "POSITIVE")  # version 2: scored once, by the producer
    data = encode_stream_record(record)          # Kinesis Data; partition key = tweet["id"]

Consumer / transformer side::

    from tweet_record import parse_stream_record, RecordRejectedError
    try:
        tweet = parse_stream_record(data)        # ParsedTweet; .sentiment None for version 1
    except RecordRejectedError as rejected:           # .reason (RejectReason), .detail
        ...

Plain Python: nothing here talks to AWS except the Comprehend sentiment engine, on demand.
"""

from tweet_record.parse import (
    MAX_RECORD_BYTES,
    ParsedTweet,
    RecordRejectedError,
    RejectReason,
    parse_stream_record,
)
from tweet_record.record import (
    authors_by_id,
    build_stream_record,
    encode_stream_record,
    make_topic,
    with_sentiment,
)
from tweet_record.schema import SCHEMA_VERSION, SCHEMA_VERSION_1, StreamRecord, Topic, XObject
from tweet_record.timestamps import (
    InvalidTimestampError,
    format_utc,
    format_utc_seconds,
    normalize_utc,
    parse_utc,
    utc_now,
)

__all__ = [
    "MAX_RECORD_BYTES",
    "SCHEMA_VERSION",
    "SCHEMA_VERSION_1",
    "InvalidTimestampError",
    "ParsedTweet",
    "RecordRejectedError",
    "RejectReason",
    "StreamRecord",
    "Topic",
    "XObject",
    "authors_by_id",
    "build_stream_record",
    "encode_stream_record",
    "format_utc",
    "format_utc_seconds",
    "make_topic",
    "normalize_utc",
    "parse_stream_record",
    "parse_utc",
    "utc_now",
    "with_sentiment",
]
