"""Wiring: environment -> config, source, AWS clients -> one ProducerRun.

boto3 clients are created on first use and kept for the life of the execution environment (warm
invocations reuse their connections); importing this module imports neither boto3 nor tweepy.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from function_support.clients import new_client
from function_support.environment import ConfigurationError
from producer.checkpoints import CheckpointStore
from producer.config import CLIENT_TIMEOUTS, ProducerConfig
from producer.credentials import CredentialsError, forget_cached_credentials, load_credentials
from producer.deadline import Deadline
from producer.kinesis_writer import KinesisWriter
from producer.run import ProducerRun, RunSummary
from producer.scoring import engine_from_config
from producer.sources import ReplaySource, TweetSource, XApiSource, XAuthError, open_dataset

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)


@functools.cache
def kinesis_client() -> KinesisClient:
    return new_client("kinesis", CLIENT_TIMEOUTS)


@functools.cache
def dynamodb_client() -> DynamoDBClient:
    return new_client("dynamodb", CLIENT_TIMEOUTS)


@functools.cache
def s3_client() -> S3Client:
    return new_client("s3", CLIENT_TIMEOUTS)


def make_source(config: ProducerConfig, deadline: Deadline) -> TweetSource:
    if config.source == "replay":
        if config.replay_dataset_uri is None:  # from_env refuses this; keeps the types honest
            raise ConfigurationError("TWEET_SOURCE=replay needs REPLAY_DATASET_URI")
        return ReplaySource(
            open_dataset(config.replay_dataset_uri, s3_client),
            shift_timestamps=config.replay_shift_timestamps,
        )
    credentials = load_credentials(config.ssm_prefix, config.secret_placeholder)
    return XApiSource(credentials, deadline, ssm_prefix=config.ssm_prefix)


def produce(
    remaining_millis: Callable[[], int], env: Mapping[str, str] | None = None
) -> RunSummary:
    """The handler's single call: configuration problems raise (the run cannot start); credentials
    not set yet end the run normally, flagged in the summary (a fresh stack is not failing, and a
    retry or the dead-letter queue would not help); per-topic problems are collected in the
    summary and the other topics go on."""
    config = ProducerConfig.from_env(env)
    engine = engine_from_config(os.environ if env is None else env)
    deadline = Deadline(remaining_millis, config.safety_margin_seconds)
    try:
        source = make_source(config, deadline)
    except CredentialsError as error:
        logger.warning("Nothing fetched: %s", error)
        return RunSummary(credentials_not_set=True, errors=[str(error)])
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
