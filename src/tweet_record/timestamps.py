"""UTC ISO-8601 timestamps as X API v2 writes them (``2022-10-07T22:50:18.000Z``).

Every timestamp the pipeline stores is normalised to one canonical form, millisecond precision
with a ``Z`` suffix, because DynamoDB sort keys and lake partitions compare them as strings:
``2022-10-07T22:50:18Z`` and ``2022-10-07T23:50:18+01:00`` must not sort as different instants.
Naive timestamps (no offset) are rejected rather than guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
_WHOLE_SECONDS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d\d:\d\d)\Z",
)


class InvalidTimestampError(ValueError):
    """The value is not an RFC 3339 timestamp with an explicit UTC offset."""


def parse_utc(value: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise InvalidTimestampError(f"not an RFC 3339 timestamp with an offset: {value!r:.64}")
    try:
        # Sub-microsecond digits are truncated by fromisoformat (3.11+), never rounded up.
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as error:
        raise InvalidTimestampError(f"invalid date or time: {value!r:.64}") from error
    if parsed.tzinfo is None:  # pragma: no cover - the pattern requires an offset
        raise InvalidTimestampError(f"naive timestamp: {value!r:.64}")
    return parsed.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """Canonical form ``YYYY-MM-DDTHH:MM:SS.mmmZ`` of an aware datetime."""
    if moment.tzinfo is None:
        raise InvalidTimestampError("naive datetime: attach a timezone before formatting")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def format_utc_seconds(moment: datetime) -> str:
    """Second-precision form ``YYYY-MM-DDTHH:MM:SSZ`` (the contract's ``fetched_at`` example)."""
    if moment.tzinfo is None:
        raise InvalidTimestampError("naive datetime: attach a timezone before formatting")
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def normalize_utc(value: str) -> str:
    """Canonical form of a timestamp string.

    The two forms the pipeline itself writes (X's ``….000Z`` and the producer's ``…:SSZ``) are
    only validated, not re-formatted: this runs twice per record in the consumer's hot path.
    """
    if isinstance(value, str):
        if _CANONICAL.match(value):
            canonical = value
        elif _WHOLE_SECONDS_Z.match(value):
            canonical = value[:19] + ".000Z"
        else:
            return format_utc(parse_utc(value))
        try:
            datetime.fromisoformat(canonical)
        except ValueError as error:
            raise InvalidTimestampError(f"invalid date or time: {value!r:.64}") from error
        return canonical
    return format_utc(parse_utc(value))


def utc_now() -> datetime:
    """The current time, always aware (``datetime.utcnow()`` is naive and deprecated)."""
    return datetime.now(UTC)


def minute_of(canonical: str) -> str:
    """``YYYY-MM-DDTHH:MM`` of a canonical timestamp: the per-minute stats bucket."""
    return canonical[:16]


def expiry_epoch(canonical: str, ttl_days: int) -> int:
    """Epoch seconds ``ttl_days`` after a canonical timestamp, for a TTL attribute."""
    return int((datetime.fromisoformat(canonical) + timedelta(days=ttl_days)).timestamp())
