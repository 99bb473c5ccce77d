"""Wiring: environment -> config, source, AWS clients -> one ProducerRun.

boto3 clients are created on first use and kept for the life of the execution environment (warm
invocations reuse their connections); importing this module imports neither boto3 nor tweepy.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from producer.checkpoints import CheckpointStore
from producer.config import ProducerConfig
from producer.credentials import forget_cached_credentials, load_credentials
from producer.deadline import Deadline
from producer.kinesis_writer import KinesisWriter
from producer.run import ProducerRun, RunSummary
from producer.scoring import engine_from_config
from producer.sources import ReplaySource, TweetSource, XApiSource, XAuthError
from tweet_record.backoff import client_config

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient


def _client_config() -> Config:
    """Short timeouts and botocore's standard retries: a stuck call must not eat the invocation."""
    return client_config(connect_timeout=5, read_timeout=15)


@functools.cache
def kinesis_client() -> KinesisClient:
    import boto3  # noqa: PLC0415 - lazy: ~0.5 s of import kept off the cold start

    return boto3.client("kinesis", config=_client_config())


@functools.cache
def dynamodb_client() -> DynamoDBClient:
    import boto3  # noqa: PLC0415 - lazy: ~0.5 s of import kept off the cold start

    return boto3.client("dynamodb", config=_client_config())


def make_source(config: ProducerConfig, deadline: Deadline) -> TweetSource:
    if config.source == "replay":
        return ReplaySource(config.replay_dataset)
    return XApiSource(load_credentials(config.ssm_prefix), deadline, ssm_prefix=config.ssm_prefix)


def produce(
    remaining_millis: Callable[[], int], env: Mapping[str, str] | None = None
) -> RunSummary:
    """The handler's single call: configuration and credential problems raise (the run cannot
    start); per-topic problems are collected in the summary and the other topics go on."""
    config = ProducerConfig.from_env(env)
    engine = engine_from_config(os.environ if env is None else env)
    deadline = Deadline(remaining_millis, config.safety_margin_seconds)
    source = make_source(config, deadline)
    writer = KinesisWriter(config.stream_name, kinesis_client, deadline=deadline)
    checkpoints = CheckpointStore(config.table_name, dynamodb_client)
    run = ProducerRun(
        config,
        source=source,
        writer=writer,
        checkpoints=checkpoints,
        deadline=deadline,
        engine=engine,
    )
    try:
        return run.execute()
    except XAuthError:
        forget_cached_credentials()
        raise
