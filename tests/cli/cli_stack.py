"""The data plane of a deployed stack as the read-side commands see it, built in moto.

What Terraform creates for the query path (a Glue table with partition projection, an Athena
workgroup with the stack's four named queries) and flattened tweets in the lake's partition
layout, written by the same encoder as the Firehose transformer.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3
import pyarrow as pa
from moto.athena.responses import AthenaResponse
from tests.event_table import create_event_table

from local_aws.record_format import arrow_type, parquet_object, record_rows
from tweet_record.lake import encode_lake_line
from tweet_record.schema import LakeRow

REGION = "us-east-1"
DATABASE = "trendstream_local"
TABLE = "tweets"
WORKGROUP = "trendstream-local"
BUCKET = "trendstream-local-lake-123456789012"

GLUE_COLUMNS: list[dict[str, str]] = [
    {"Name": "tweet_id", "Type": "string"},
    {"Name": "created_at", "Type": "string"},
    {"Name": "text", "Type": "string"},
    {"Name": "lang", "Type": "string"},
    {"Name": "topic", "Type": "string"},
    {"Name": "topic_kind", "Type": "string"},
    {"Name": "author_id", "Type": "string"},
    {"Name": "author_username", "Type": "string"},
    {"Name": "author_name", "Type": "string"},
    {"Name": "author_followers", "Type": "bigint"},
    {"Name": "hashtags", "Type": "array<string>"},
    {"Name": "mentions", "Type": "array<string>"},
    {"Name": "urls", "Type": "array<string>"},
    {"Name": "retweet_count", "Type": "bigint"},
    {"Name": "reply_count", "Type": "bigint"},
    {"Name": "like_count", "Type": "bigint"},
    {"Name": "quote_count", "Type": "bigint"},
    {"Name": "sentiment", "Type": "string"},
    {"Name": "fetched_at", "Type": "string"},
]
PARTITION_KEYS = ["year", "month", "day", "hour"]
JSON_STORAGE: dict[str, Any] = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
        "Parameters": {"ignore.malformed.json": "false"},
    },
}
PARQUET_STORAGE: dict[str, Any] = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}

_TABLE_REF = f'"{DATABASE}"."{TABLE}"'
_LAST_HOUR = (
    "concat(year, month, day, hour) >= "
    "date_format(current_timestamp - INTERVAL '1' HOUR, '%Y%m%d%H')"
)
_LAST_DAY = (
    "concat(year, month, day, hour) >= "
    "date_format(current_timestamp - INTERVAL '1' DAY, '%Y%m%d%H')"
)

_STACK_QUERY_TEMPLATES: dict[str, str] = {
    "top-topics-last-hour": """
        SELECT topic, topic_kind, count(DISTINCT tweet_id) AS tweets
        FROM $TABLE
        WHERE $LAST_HOUR
          AND from_iso8601_timestamp(created_at) >= current_timestamp - INTERVAL '1' HOUR
        GROUP BY topic, topic_kind
        ORDER BY tweets DESC
        LIMIT 20
    """,
    "sentiment-by-topic": """
        SELECT topic,
               count(DISTINCT tweet_id) AS tweets,
               count(DISTINCT CASE WHEN upper(sentiment) = 'POSITIVE'
                                   THEN tweet_id END) AS positive,
               count(DISTINCT CASE WHEN upper(sentiment) = 'NEGATIVE'
                                   THEN tweet_id END) AS negative,
               count(DISTINCT CASE WHEN upper(sentiment) = 'NEUTRAL'
                                   THEN tweet_id END) AS neutral,
               count(DISTINCT CASE WHEN upper(sentiment) = 'MIXED'
                                   THEN tweet_id END) AS mixed
        FROM $TABLE
        WHERE $LAST_DAY
        GROUP BY topic
        ORDER BY tweets DESC
    """,
    "top-hashtags": """
        SELECT lower(hashtag) AS hashtag, count(DISTINCT tweet_id) AS tweets
        FROM $TABLE
        CROSS JOIN UNNEST(hashtags) AS t (hashtag)
        WHERE $LAST_DAY
        GROUP BY lower(hashtag)
        ORDER BY tweets DESC
        LIMIT 20
    """,
    "most-engaged-tweets": """
        SELECT tweet_id,
               max(author_username) AS author_username,
               max(topic) AS topic,
               max(text) AS text,
               max(like_count + retweet_count + reply_count + quote_count) AS engagement
        FROM $TABLE
        WHERE $LAST_DAY
        GROUP BY tweet_id
        ORDER BY engagement DESC
        LIMIT 20
    """,
}
"""The stack's named queries as terraform/modules/lake/main.tf templates them."""

STACK_QUERIES: dict[str, str] = {
    name: template.replace("$TABLE", _TABLE_REF)
    .replace("$LAST_HOUR", _LAST_HOUR)
    .replace("$LAST_DAY", _LAST_DAY)
    for name, template in _STACK_QUERY_TEMPLATES.items()
}
"""The stack's named queries, as the workgroup holds them."""

STYLE_QUERIES: dict[str, str] = {
    "distinct-authors-last-hour": """
        SELECT topic, count(*) AS tweets, count(DISTINCT author_id) AS authors
        FROM trendstream_local.tweets
        WHERE date_parse(concat(year, month, day, hour), '%Y%m%d%H')
                >= date_trunc('hour', current_timestamp - interval '1' hour)
          AND from_iso8601_timestamp(created_at) > current_timestamp - interval '1' hour
        GROUP BY topic
        ORDER BY tweets DESC, topic
        LIMIT 10
    """,
    "net-sentiment": """
        SELECT topic,
               count(*) AS tweets,
               count_if(sentiment = 'POSITIVE') AS positive,
               count_if(sentiment = 'NEGATIVE') AS negative,
               round(avg(CASE sentiment WHEN 'POSITIVE' THEN 1.0
                                        WHEN 'NEGATIVE' THEN -1.0 ELSE 0.0 END), 3) AS net
        FROM tweets
        WHERE date_parse(created_at, '%Y-%m-%dT%H:%i:%s.%fZ')
                > current_timestamp - interval '24' hour
        GROUP BY topic
        ORDER BY tweets DESC, topic
    """,
    "hashtag-reach": """
        SELECT lower(tag) AS hashtag, count(*) AS uses, count(DISTINCT topic) AS topics
        FROM tweets
        CROSS JOIN UNNEST(hashtags) AS t(tag)
        WHERE from_iso8601_timestamp(created_at) > current_timestamp - interval '24' hour
        GROUP BY lower(tag)
        ORDER BY uses DESC, hashtag
        LIMIT 20
    """,
    "weighted-engagement-last-week": """
        SELECT tweet_id, topic, author_username,
               like_count + 2 * retweet_count + reply_count + quote_count AS engagement
        FROM tweets
        WHERE date_parse(concat(year, '-', month, '-', day), '%Y-%m-%d')
                >= current_date - interval '7' day
        ORDER BY engagement DESC, tweet_id
        LIMIT 3;
    """,
}
"""Other Athena idioms (date_parse, count_if, bare table names, a trailing `;`), run as SQL."""


def batch_get_named_query(self: AthenaResponse) -> str:
    """BatchGetNamedQuery as AWS answers it; moto 5.2.5 lacks it (see the report to the lead)."""
    found: list[dict[str, str]] = []
    unprocessed: list[dict[str, str]] = []
    for query_id in self._get_param("NamedQueryIds", []):
        query = self.athena_backend.get_named_query(query_id)
        if query is None:
            unprocessed.append(
                {
                    "NamedQueryId": query_id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": f"NamedQuery {query_id} does not exist",
                }
            )
            continue
        found.append(
            {
                "Name": query.name,
                "Description": query.description,
                "Database": query.database,
                "QueryString": query.query_string,
                "NamedQueryId": query.id,
                "WorkGroup": query.workgroup.name,
            }
        )
    return json.dumps({"NamedQueries": found, "UnprocessedNamedQueryIds": unprocessed})


def lake_row(
    tweet_id: str,
    created_at: dt.datetime,
    *,
    topic: str,
    author: str,
    hashtags: tuple[str, ...] = (),
    sentiment: str = "NEUTRAL",
    likes: int | None = 0,
    retweets: int | None = 0,
    replies: int | None = 0,
    quotes: int | None = 0,
) -> LakeRow:
    """A flattened tweet as the Firehose transformer writes it."""
    created = f"{created_at:%Y-%m-%dT%H:%M:%S}.{created_at.microsecond // 1000:03d}Z"
    return {
        "tweet_id": tweet_id,
        "created_at": created,
        "text": f"tweet {tweet_id} " + " ".join(f"#{tag}" for tag in hashtags),
        "lang": "en",
        "topic": topic,
        "topic_kind": "trend",
        "author_id": f"id-{author}",
        "author_username": author,
        "author_name": author.title(),
        "author_followers": 100,
        "hashtags": list(hashtags),
        "mentions": [],
        "urls": [],
        "retweet_count": retweets,
        "reply_count": replies,
        "like_count": likes,
        "quote_count": quotes,
        "sentiment": sentiment,
        "fetched_at": created,
    }


@dataclass
class LakeStack:
    """The query path of a deployed stack, and a way to put tweets in its lake."""

    session: boto3.session.Session
    outputs: dict[str, Any]
    named_query_ids: dict[str, str] = field(default_factory=dict)
    parquet: bool = False
    """The lake holds Parquet (Firehose's record format conversion) instead of JSON lines."""
    _sequence: int = 0

    def put_tweets(
        self, rows: list[LakeRow], *, compress: bool = False, key_name: str | None = None
    ) -> str:
        """Write `rows` as one object in the partition of the first row's created_at hour."""
        hour = dt.datetime.fromisoformat(rows[0]["created_at"])
        self._sequence += 1
        name = key_name or f"trendstream-local-tweets-1-{hour:%Y-%m-%d-%H}-{self._sequence:04d}"
        key = f"tweets/year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/{name}"
        lines = [encode_lake_line(row) for row in rows]
        body = b"".join(lines)
        if self.parquet:
            schema = pa.schema([(c["Name"], arrow_type(c["Type"])) for c in GLUE_COLUMNS])
            converted = [row for line in lines for row in record_rows(line, schema)]
            body = parquet_object(converted, schema, "SNAPPY")
        self.session.client("s3").put_object(
            Bucket=self.outputs["lake_bucket"],
            Key=key,
            Body=gzip.compress(body) if compress else body,
        )
        return key


def build_lake_stack(
    aws: boto3.session.Session,
    *,
    bucket: str = BUCKET,
    database: str = DATABASE,
    workgroup: str = WORKGROUP,
    parquet: bool = False,
) -> LakeStack:
    """Lake bucket, Glue table with partition projection, workgroup with the named queries; the
    table reads JSON lines with the OpenX SerDe, or Parquet as the stack's Terraform declares."""
    aws.client("s3").create_bucket(Bucket=bucket)
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": database})
    location = f"s3://{bucket}/tweets/"
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": TABLE,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "classification": "json",
                "projection.enabled": "true",
                "projection.year.type": "integer",
                "projection.year.range": "2024,2099",
                "projection.month.type": "integer",
                "projection.month.range": "1,12",
                "projection.month.digits": "2",
                "projection.day.type": "integer",
                "projection.day.range": "1,31",
                "projection.day.digits": "2",
                "projection.hour.type": "integer",
                "projection.hour.range": "0,23",
                "projection.hour.digits": "2",
                "storage.location.template": location
                + "year=${year}/month=${month}/day=${day}/hour=${hour}",
            },
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in PARTITION_KEYS],
            "StorageDescriptor": {
                "Columns": GLUE_COLUMNS,
                "Location": location,
                **(PARQUET_STORAGE if parquet else JSON_STORAGE),
            },
        },
    )
    athena = aws.client("athena")
    athena.create_work_group(
        Name=workgroup,
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{bucket}/athena/"}},
    )
    stack = LakeStack(
        session=aws,
        parquet=parquet,
        outputs={
            "lake_bucket": bucket,
            "athena_workgroup": workgroup,
            "glue_database": database,
            "glue_table": TABLE,
        },
    )
    for name, sql in STACK_QUERIES.items():
        # Terraform templates the table reference into the SQL: so does this.
        query = sql.replace(_TABLE_REF, f'"{database}"."{TABLE}"')
        stack.named_query_ids[name] = athena.create_named_query(
            Name=name, Database=database, QueryString=query, WorkGroup=workgroup
        )["NamedQueryId"]
    # A query of another workgroup must not be offered.
    athena.create_named_query(Name="elsewhere", Database=database, QueryString="SELECT 1")
    return stack


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


def build_status_stack(aws: boto3.session.Session, prefix: str) -> dict[str, Any]:
    """Every resource `status` inspects, healthy, named `<prefix>-...` like the stack's."""
    bucket = f"{prefix}-lake"
    lake = build_lake_stack(aws, bucket=bucket, database=prefix.replace("-", "_"), workgroup=prefix)
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=f"{prefix}-tweets", ShardCount=2)
    stream_arn = kinesis.describe_stream_summary(StreamName=f"{prefix}-tweets")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    dynamodb = aws.client("dynamodb")
    create_event_table(dynamodb, f"{prefix}-EventData")
    for index in range(25):
        dynamodb.put_item(
            TableName=f"{prefix}-EventData",
            Item={"pk": {"S": f"TOPIC#{index % 3}"}, "sk": {"S": f"TWEET#{index:03d}"}},
        )
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="tweets/year=2026/month=11/day=22/hour=10/a", Body=b"x" * 100)
    s3.put_object(Bucket=bucket, Key="tweets/year=2026/month=11/day=22/hour=11/b", Body=b"x" * 50)
    role = aws.client("iam").create_role(
        RoleName=f"{prefix}-lambda", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    lambda_client = aws.client("lambda")
    for name in ("producer", "consumer", "firehose-transformer", "api"):
        lambda_client.create_function(
            FunctionName=f"{prefix}-{name}",
            Runtime="python3.11",
            Role=role,
            Handler="app.lambda_handler",
            Code={"ZipFile": _zip()},
        )
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=f"{prefix}-consumer",
        StartingPosition="LATEST",
        BatchSize=100,
    )
    aws.client("firehose").create_delivery_stream(
        DeliveryStreamName=f"{prefix}-lake",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
        ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": f"arn:aws:s3:::{bucket}"},
    )
    queue_url = aws.client("sqs").create_queue(QueueName=f"{prefix}-consumer-failures")["QueueUrl"]
    dead_letter_url = aws.client("sqs").create_queue(QueueName=f"{prefix}-producer-dlq")["QueueUrl"]
    topic_arn = aws.client("sns").create_topic(Name=f"{prefix}-alarms")["TopicArn"]
    cloudwatch = aws.client("cloudwatch")
    for alarm in ("consumer-errors", "iterator-age"):
        cloudwatch.put_metric_alarm(
            AlarmName=f"{prefix}-{alarm}",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic_arn],
        )
    cloudwatch.put_metric_alarm(
        AlarmName=f"{prefix}-unrelated-alarm",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return {
        "outputs": {
            **lake.outputs,
            "stream_name": f"{prefix}-tweets",
            "stream_arn": stream_arn,
            "table_name": f"{prefix}-EventData",
            "lake_bucket": bucket,
            "delivery_stream_name": f"{prefix}-lake",
            "producer_function_name": f"{prefix}-producer",
            "consumer_function_name": f"{prefix}-consumer",
            "transformer_function_name": f"{prefix}-firehose-transformer",
            "api_function_name": f"{prefix}-api",
            "alarm_topic_arn": topic_arn,
            "on_failure_queue_url": queue_url,
            "producer_dead_letter_queue_url": dead_letter_url,
        },
        "mapping_uuid": mapping["UUID"],
        "session": aws,
    }
