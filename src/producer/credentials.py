"""X API credentials from SSM SecureString parameters, checked before the first API call.

A fresh stack holds Terraform's placeholder until the operator sets the real values: that is
"not configured yet", not a failure, so the run says which parameters to set and ends normally
(no retry, nothing in the dead-letter queue), and the first run after they are set uses them.
Search works with the bearer token (app-only) or the four OAuth 1.0a user-context values; trends
need the bearer token. Secret values are never formatted into a message or log record; only
parameter names are.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from function_support.clients import client_config
from function_support.environment import ConfigurationError
from producer.config import CLIENT_TIMEOUTS

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

logger = logging.getLogger(__name__)

USER_CONTEXT_KEYS = ("consumer_key", "consumer_secret", "access_token_key", "access_token_secret")
"""OAuth 1.0a user context: all four together, or none."""
APP_ONLY_KEY = "bearer_token"
CACHE_SECONDS = 300


class CredentialsError(ConfigurationError):
    """Credentials not set yet (missing or the placeholder): an operator must set them. The
    handler ends such a run normally instead of raising, as a fresh stack is not failing."""


@dataclass(frozen=True)
class XCredentials:
    consumer_key: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    access_token_key: str | None = field(default=None, repr=False)
    access_token_secret: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)

    @property
    def has_user_context(self) -> bool:
        return all(getattr(self, key) is not None for key in USER_CONTEXT_KEYS)


def load_credentials(
    prefix: str, placeholder: str | None = None, provider: SSMProvider | None = None
) -> XCredentials:
    """One cached GetParameters call (decrypted) for all keys; raises CredentialsError naming the
    parameters to set when neither the bearer token nor the four user-context values are set.
    A value equal to `placeholder` (Terraform's) or blank counts as not set. Cached for
    CACHE_SECONDS so warm invocations make no SSM call."""
    provider = provider or _default_provider()
    names = {key: f"{prefix}{key}" for key in (*USER_CONTEXT_KEYS, APP_ONLY_KEY)}
    with _response_bodies_unlogged():
        fetched: dict[str, Any] = provider.get_parameters_by_name(
            parameters={name: {} for name in names.values()},
            decrypt=True,
            max_age=CACHE_SECONDS,
            raise_on_error=False,
        )
    missing = set(fetched.get("_errors", []))
    unset = {"", placeholder.strip()} if placeholder else {""}
    values: dict[str, str | None] = {}
    states: dict[str, str] = {}
    for key, name in names.items():
        value = None if name in missing else fetched.get(name)
        usable = isinstance(value, str) and value.strip() not in unset
        values[key] = value if usable and isinstance(value, str) else None
        if not usable:
            states[name] = "is missing" if value is None else "still holds the placeholder"
    credentials = XCredentials(**values)
    if credentials.bearer_token is None and not credentials.has_user_context:
        # Not even the placeholders stay cached: the operator's fix must show on the next run.
        provider.clear_cache()  # type: ignore[no-untyped-call]  # untyped in Powertools
        problems = [f"SSM parameter {name} {state}" for name, state in states.items()]
        raise CredentialsError(
            "X API credentials not set: set bearer_token (search and trends) or all four of "
            f"{', '.join(USER_CONTEXT_KEYS)} (search only) as the README's deploy guide says; "
            + "; ".join(problems)
        )
    return credentials


def forget_cached_credentials() -> None:
    """After the API refused the credentials (401), re-read them on the next run, not in 5 min."""
    if _default_provider.cache_info().currsize:
        _default_provider().clear_cache()  # type: ignore[no-untyped-call]


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


@functools.cache
def _default_provider() -> SSMProvider:
    """Created on first use: importing Powertools parameters imports boto3, which the cold start
    should not pay for before it is needed (and replay mode never needs it)."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider  # noqa: PLC0415

    return SSMProvider(boto_config=client_config(CLIENT_TIMEOUTS))
