"""Fixtures for the consumer: moto-backed table and lake bucket, the handler with fresh state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tests.consumer.consumer_helpers import BUCKET, TABLE, FakeLambdaContext
from tests.event_table import create_event_table


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "LAKE_BUCKET": BUCKET,
        "SENTIMENT_ENGINE": "vader",
        "TTL_DAYS": "30",
        "POWERTOOLS_SERVICE_NAME": "consumer",
        "POWERTOOLS_METRICS_NAMESPACE": "trendstream-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(moto_env: None) -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_event_table(dynamodb, TABLE)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def consumer_app(aws: None) -> Iterator[Any]:
    """The handler module with its lazily-built clients and runtime reset for this test."""
    from consumer import app

    cached = (app.dynamodb, app.s3, app.runtime)
    for function in cached:
        function.cache_clear()
    yield app
    for function in cached:
        function.cache_clear()
