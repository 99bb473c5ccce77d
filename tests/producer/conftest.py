"""Producer test fixtures: moto-backed AWS in process (no server, no port), fresh lazy clients."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from producer_helpers import REGION, STREAM, TABLE
from tests.event_table import create_event_table

from producer import credentials, service

UNSET_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "TWEET_SOURCE",
    "TWITTER_SSM_PREFIX",
    "TREND_WOEIDS",
    "SEARCH_QUERIES",
    "MAX_PAGES_PER_TOPIC",
    "MAX_RESULTS_PER_PAGE",
    "MAX_TRENDS",
    "REPLAY_DATASET_URI",
    "REPLAY_SHIFT_TIMESTAMPS",
    "TWITTER_SECRET_PLACEHOLDER",
    "SAFETY_MARGIN_SECONDS",
)


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no endpoint override (moto intercepts in process), fresh lazy clients."""
    for name in UNSET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "trendstream-test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "producer")
    service.kinesis_client.cache_clear()
    service.dynamodb_client.cache_clear()
    credentials._default_provider.cache_clear()
    yield
    service.kinesis_client.cache_clear()
    service.dynamodb_client.cache_clear()
    credentials._default_provider.cache_clear()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto with the stream and the table the producer writes to."""
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        kinesis.create_stream(StreamName=STREAM, ShardCount=2)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_event_table(dynamodb, TABLE)
        yield


@pytest.fixture
def producer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_NAME", STREAM)
    monkeypatch.setenv("TABLE_NAME", TABLE)
