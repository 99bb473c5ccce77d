"""Reading a function's environment: one truth rule, one error, for every function.

Switches read as Powertools reads its own (``POWERTOOLS_TRACE_DISABLED`` and the like, through its
``strtobool``): ``1``, ``y``, ``yes``, ``t``, ``true``, ``on`` are true and ``0``, ``n``, ``no``,
``f``, ``false``, ``off`` are false, in any case; unset or blank takes the default, and anything
else is a ``ConfigurationError``, so an operator's typo fails the cold start instead of silently
reading as "off".
"""

from __future__ import annotations

from collections.abc import Mapping

TRUTHY = frozenset({"1", "y", "yes", "t", "true", "on"})
FALSY = frozenset({"0", "n", "no", "f", "false", "off"})


class ConfigurationError(Exception):
    """A setting is missing or invalid: the function cannot work, and retrying will not help."""


def env_flag(environ: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    """``name`` read as a switch (blanks around the value ignored)."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUTHY:
        return True
    if raw in FALSY:
        return False
    raise ConfigurationError(
        f"{name} must be one of {sorted(TRUTHY)} or {sorted(FALSY)}, got {raw!r}"
    )


def required(environ: Mapping[str, str], name: str) -> str:
    """``name``'s value, blanks stripped; missing or blank is a ``ConfigurationError``."""
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required")
    return value


def int_in_range(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``name`` as an integer within [low, high]; unset or blank takes ``default``."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from error
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value
