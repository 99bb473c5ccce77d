"""The transformer's settings, read from its environment once per execution environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from firehose_transformer.transform import Filters
from function_support.environment import ConfigurationError
from tweet_record.sentiment import ENGINES


@dataclass(frozen=True)
class TransformerConfig:
    filters: Filters
    sentiment_engine: str
    """Scores version 1 records only; version 2 records carry the producer's label."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> TransformerConfig:
        engine = environ.get("SENTIMENT_ENGINE", "").strip().lower() or "vader"
        if engine not in ENGINES:
            raise ConfigurationError(
                f"SENTIMENT_ENGINE must be one of {sorted(ENGINES)}, not {engine!r}"
            )
        return cls(filters=Filters.from_env(environ), sentiment_engine=engine)
