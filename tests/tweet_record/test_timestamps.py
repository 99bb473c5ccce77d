from datetime import UTC, datetime, timedelta, timezone

import pytest

from tweet_record.timestamps import (
    InvalidTimestampError,
    expiry_epoch,
    format_utc,
    format_utc_seconds,
    minute_of,
    normalize_utc,
    parse_utc,
)


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("2022-10-07T22:50:18.000Z", "2022-10-07T22:50:18.000Z"),
        ("2022-10-07T22:50:18Z", "2022-10-07T22:50:18.000Z"),
        ("2022-10-07T22:50:18.5Z", "2022-10-07T22:50:18.500Z"),
        ("2022-10-07T22:50:18.123456789Z", "2022-10-07T22:50:18.123Z"),
        ("2022-10-07T23:50:18+01:00", "2022-10-07T22:50:18.000Z"),
        ("2022-10-07T20:50:18.250-02:00", "2022-10-07T22:50:18.250Z"),
        ("2022-10-07t22:50:18z", "2022-10-07T22:50:18.000Z"),
        ("2022-10-07 22:50:18+00:00", "2022-10-07T22:50:18.000Z"),
        ("2022-10-08T00:10:00+01:30", "2022-10-07T22:40:00.000Z"),
    ],
)
def test_normalize_gives_one_canonical_utc_form(value: str, canonical: str) -> None:
    assert normalize_utc(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "2022-10-07T22:50:18",  # naive
        "2022-10-07T22:50:18.000",  # naive
        "2022-10-07",
        "2022-02-30T00:00:00Z",  # no such day
        "2022-02-30T00:00:00.000Z",  # canonical shape, invalid date
        "2022-10-07T24:00:00Z",
        "2022-10-07T22:50:18+25:00",
        "20221007T225018Z",  # ISO basic form: not RFC 3339
        "2022-W40-5T22:50:18Z",
        "yesterday",
        "",
        "2022-10-07T22:50:18.000Z\n",
    ],
)
def test_normalize_rejects_naive_and_invalid(value: str) -> None:
    with pytest.raises(InvalidTimestampError):
        normalize_utc(value)


def test_parse_utc_returns_aware_utc() -> None:
    parsed = parse_utc("2022-10-07T23:50:18+01:00")
    assert parsed == datetime(2022, 10, 7, 22, 50, 18, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_parse_utc_rejects_non_strings() -> None:
    with pytest.raises(InvalidTimestampError):
        parse_utc(1665183018)  # type: ignore[arg-type]


def test_formatting_converts_to_utc_and_rejects_naive() -> None:
    moment = datetime(2026, 11, 22, 12, 0, 3, 987654, tzinfo=timezone(timedelta(hours=1)))
    assert format_utc(moment) == "2026-11-22T11:00:03.987Z"
    assert format_utc_seconds(moment) == "2026-11-22T11:00:03Z"
    with pytest.raises(InvalidTimestampError):
        format_utc(datetime(2026, 11, 22, 11, 0, 3))
    with pytest.raises(InvalidTimestampError):
        format_utc_seconds(datetime(2026, 11, 22, 11, 0, 3))


def test_minute_epoch_and_expiry() -> None:
    canonical = "2026-11-22T10:59:58.000Z"
    assert minute_of(canonical) == "2026-11-22T10:59"
    assert expiry_epoch(canonical, 0) == 1795345198
    assert expiry_epoch(canonical, 30) == 1795345198 + 30 * 86400
