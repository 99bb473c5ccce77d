"""Producer settings read once from the environment, validated before any API call is made."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from function_support.clients import Timeouts
from function_support.environment import ConfigurationError, env_flag, int_in_range, required

DEFAULT_SSM_PREFIX = "/twitter/"
DEFAULT_WOEIDS = (1,)
DEFAULT_MAX_PAGES_PER_TOPIC = 10
DEFAULT_MAX_RESULTS_PER_PAGE = 100
DEFAULT_MAX_TRENDS = 10
DEFAULT_SAFETY_MARGIN_SECONDS = 20
SOURCES = frozenset({"x", "replay"})
CLIENT_TIMEOUTS = Timeouts(connect=5, read=15)
"""Every AWS call of the producer: a stuck call must not eat the invocation."""


@dataclass(frozen=True)
class ProducerConfig:
    stream_name: str
    table_name: str
    source: str = "x"
    ssm_prefix: str = DEFAULT_SSM_PREFIX
    trend_woeids: tuple[int, ...] = DEFAULT_WOEIDS
    search_queries: tuple[str, ...] | None = None
    """None means "not configured": replay then uses the dataset's own queries."""
    max_pages_per_topic: int = DEFAULT_MAX_PAGES_PER_TOPIC
    max_results_per_page: int = DEFAULT_MAX_RESULTS_PER_PAGE
    max_trends: int = DEFAULT_MAX_TRENDS
    replay_dataset_uri: str | None = None
    """Where the replay source reads its dataset: `s3://bucket/prefix/` or a local directory."""
    replay_shift_timestamps: bool = True
    """Replay dates the dataset to the run (REPLAY_SHIFT_TIMESTAMPS=false keeps it as recorded)."""
    secret_placeholder: str | None = None
    """The value Terraform creates the credential parameters with (TWITTER_SECRET_PLACEHOLDER):
    a parameter still holding it is not set. Terraform is its one source of truth."""
    safety_margin_seconds: float = float(DEFAULT_SAFETY_MARGIN_SECONDS)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProducerConfig:
        env = os.environ if env is None else env
        source = env.get("TWEET_SOURCE", "x").strip().lower() or "x"
        if source not in SOURCES:
            raise ConfigurationError(
                f"TWEET_SOURCE must be one of {sorted(SOURCES)}, got {source!r}"
            )
        prefix = env.get("TWITTER_SSM_PREFIX", DEFAULT_SSM_PREFIX) or DEFAULT_SSM_PREFIX
        replay_dataset_uri = env.get("REPLAY_DATASET_URI", "").strip() or None
        if source == "replay" and replay_dataset_uri is None:
            raise ConfigurationError(
                "TWEET_SOURCE=replay needs REPLAY_DATASET_URI (s3://bucket/prefix/ or a directory)"
            )
        return cls(
            stream_name=required(env, "STREAM_NAME"),
            table_name=required(env, "TABLE_NAME"),
            source=source,
            ssm_prefix=prefix if prefix.endswith("/") else prefix + "/",
            trend_woeids=parse_woeids(env.get("TREND_WOEIDS", "")),
            search_queries=parse_queries(env["SEARCH_QUERIES"])
            if "SEARCH_QUERIES" in env
            else None,
            max_pages_per_topic=int_in_range(
                env, "MAX_PAGES_PER_TOPIC", DEFAULT_MAX_PAGES_PER_TOPIC, 1, 1000
            ),
            max_results_per_page=int_in_range(
                env, "MAX_RESULTS_PER_PAGE", DEFAULT_MAX_RESULTS_PER_PAGE, 10, 100
            ),
            max_trends=int_in_range(env, "MAX_TRENDS", DEFAULT_MAX_TRENDS, 0, 50),
            replay_dataset_uri=replay_dataset_uri,
            replay_shift_timestamps=env_flag(env, "REPLAY_SHIFT_TIMESTAMPS", default=True),
            secret_placeholder=env.get("TWITTER_SECRET_PLACEHOLDER", "").strip() or None,
            safety_margin_seconds=float(
                int_in_range(env, "SAFETY_MARGIN_SECONDS", DEFAULT_SAFETY_MARGIN_SECONDS, 1, 600)
            ),
        )


def parse_woeids(raw: str) -> tuple[int, ...]:
    """`"1, 23424977"` -> (1, 23424977); empty means 1 (worldwide); "none" disables trends."""
    raw = raw.strip()
    if not raw:
        return DEFAULT_WOEIDS
    if raw.lower() == "none":
        return ()
    try:
        return tuple(dict.fromkeys(int(part) for part in raw.split(",") if part.strip()))
    except ValueError as error:
        raise ConfigurationError(
            f"TREND_WOEIDS must be comma-separated integers: {raw!r}"
        ) from error


def parse_queries(raw: str) -> tuple[str, ...]:
    """A JSON list (`["aws lambda", "#python"]`) or `;`-separated text; blanks, duplicates dropped.

    `;` rather than `,` because a search query may itself contain spaces, quotes, parentheses and
    commas; the JSON form is there for a query that needs a `;`.
    """
    raw = raw.strip()
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"SEARCH_QUERIES is not a valid JSON list: {error}") from error
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ConfigurationError("SEARCH_QUERIES as JSON must be a list of strings")
        items: list[str] = parsed
    else:
        items = raw.split(";")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
