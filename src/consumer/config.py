"""The consumer's settings, read from its environment once per execution environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from function_support.environment import ConfigurationError, required
from tweet_record.items import ttl_days_from_env
from tweet_record.sentiment import ENGINES


@dataclass(frozen=True)
class ConsumerConfig:
    table_name: str
    lake_bucket: str
    """Where records that can never be stored are quarantined."""
    ttl_days: int
    sentiment_engine: str
    """Scores version 1 records only; version 2 records carry the producer's label."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ConsumerConfig:
        """Every setting checked before the first record is read; a bad one fails the batch
        with a message naming the variable, and nothing is written."""
        engine = environ.get("SENTIMENT_ENGINE", "").strip().lower() or "vader"
        if engine not in ENGINES:
            raise ConfigurationError(
                f"SENTIMENT_ENGINE must be one of {sorted(ENGINES)}, not {engine!r}"
            )
        try:
            ttl_days = ttl_days_from_env(environ)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        return cls(
            table_name=required(environ, "TABLE_NAME"),
            lake_bucket=required(environ, "LAKE_BUCKET"),
            ttl_days=ttl_days,
            sentiment_engine=engine,
        )
