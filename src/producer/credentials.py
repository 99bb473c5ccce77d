"""X API credentials from SSM SecureString parameters, checked before the first API call.

Why fail fast with the exact `aws ssm put-parameter` command: a fresh stack holds Terraform's
placeholder, and the operator's next step is always to set the real value. Secret values are never
formatted into a message or log record; only parameter names are.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

logger = logging.getLogger(__name__)

PLACEHOLDER_VALUE = "SET_ME"
REQUIRED_KEYS = ("consumer_key", "consumer_secret", "access_token_key", "access_token_secret")
OPTIONAL_KEYS = ("bearer_token",)
CACHE_SECONDS = 300


class CredentialsError(Exception):
    """Credentials missing or still the placeholder: an operator must set them; retrying won't."""


@dataclass(frozen=True)
class XCredentials:
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token_key: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    bearer_token: str | None = field(default=None, repr=False)


def put_parameter_command(name: str) -> str:
    return f"aws ssm put-parameter --name {name} --type SecureString --overwrite --value ..."


def load_credentials(prefix: str, provider: SSMProvider | None = None) -> XCredentials:
    """One cached GetParameters call (decrypted) for all keys; raises CredentialsError naming the
    parameters to set. Cached for CACHE_SECONDS so warm invocations make no SSM call."""
    provider = provider or _default_provider()
    names = {key: f"{prefix}{key}" for key in (*REQUIRED_KEYS, *OPTIONAL_KEYS)}
    with _response_bodies_unlogged():
        fetched: dict[str, Any] = provider.get_parameters_by_name(
            parameters={name: {} for name in names.values()},
            decrypt=True,
            max_age=CACHE_SECONDS,
            raise_on_error=False,
        )
    missing = set(fetched.get("_errors", []))
    values: dict[str, str | None] = {}
    problems: list[str] = []
    for key, name in names.items():
        value = None if name in missing else fetched.get(name)
        usable = isinstance(value, str) and value.strip() not in ("", PLACEHOLDER_VALUE)
        if key in REQUIRED_KEYS and not usable:
            state = "is missing" if value is None else "still holds the placeholder"
            problems.append(
                f"SSM parameter {name} {state}; set it with: {put_parameter_command(name)}"
            )
        values[key] = value if usable and isinstance(value, str) else None
    if problems:
        # Not even the placeholders stay cached: the operator's fix must show on the next run.
        provider.clear_cache()  # type: ignore[no-untyped-call]  # untyped in Powertools
        logger.error("X API credentials are not configured", extra={"problems": problems})
        raise CredentialsError("; ".join(problems))
    return XCredentials(
        consumer_key=_text(values["consumer_key"]),
        consumer_secret=_text(values["consumer_secret"]),
        access_token_key=_text(values["access_token_key"]),
        access_token_secret=_text(values["access_token_secret"]),
        bearer_token=values["bearer_token"],
    )


def _text(value: str | None) -> str:
    if value is None:  # unreachable after validation; keeps the types honest
        raise CredentialsError("credential validation failed")
    return value


def forget_cached_credentials() -> None:
    """After the API refused the credentials (401), re-read them on the next run, not in 5 min."""
    if _provider is not None:
        _provider.clear_cache()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _response_bodies_unlogged() -> Iterator[None]:
    """botocore logs every response body at DEBUG, decrypted SecureString values included; with
    the function's log level at DEBUG that would put the secrets in CloudWatch."""
    body_logger = logging.getLogger("botocore.parsers")
    previous = body_logger.level
    body_logger.setLevel(max(previous, logging.INFO))
    try:
        yield
    finally:
        body_logger.setLevel(previous)


_provider: SSMProvider | None = None


def _default_provider() -> SSMProvider:
    """Created on first use: importing Powertools parameters imports boto3, which the cold start
    should not pay for before it is needed (and replay mode never needs it)."""
    global _provider  # noqa: PLW0603 - one lazily created provider per execution environment
    if _provider is None:
        from aws_lambda_powertools.utilities.parameters import SSMProvider  # noqa: PLC0415

        _provider = SSMProvider()
    return _provider
