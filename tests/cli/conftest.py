"""Fixtures for the read-side CLI commands: in-process moto and the stack's query path."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from cli_stack import (
    GLUE_COLUMNS,
    REGION,
    LakeStack,
    batch_get_named_query,
    build_lake_stack,
)
from moto import mock_aws
from moto.athena.responses import AthenaResponse
from tests.tweet_record.tweet_samples import LAKE_COLUMNS


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """In-process moto; boto3 never leaves the process whatever the environment says."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    if not hasattr(AthenaResponse, "batch_get_named_query"):
        monkeypatch.setattr(
            AthenaResponse, "batch_get_named_query", batch_get_named_query, raising=False
        )
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


@pytest.fixture
def lake_stack(aws: boto3.session.Session) -> LakeStack:
    assert tuple(column["Name"] for column in GLUE_COLUMNS) == LAKE_COLUMNS
    return build_lake_stack(aws)
