"""Fuzzing the producer's parsers: X API v2 pages and SSM parameter values.

Every input either parses or is rejected with the parser's own typed error and a reason; nothing
else escapes, and a rejected credential never appears in the error text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from producer.credentials import (
    APP_ONLY_KEY,
    USER_CONTEXT_KEYS,
    CredentialsError,
    load_credentials,
)
from producer.pages import MalformedPageError, SearchPage, parse_search_page, parse_trends
from tweet_record import make_topic

FUZZ = settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FETCHED_AT = datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)
TOPIC = make_topic("#Europe", "trend", woeid=1)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
ids = st.from_regex(r"[0-9]{1,19}", fullmatch=True) | json_values
tweets = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "text": st.text(max_size=60) | json_values,
        "created_at": st.just("2026-11-22T10:59:58.000Z") | st.text(max_size=30) | json_values,
        "author_id": ids,
        "lang": st.sampled_from(["en", "es", "ja"]) | json_values,
        "public_metrics": json_values,
        "entities": json_values,
        "edit_history_tweet_ids": json_values,
    },
)
users = st.fixed_dictionaries({"id": ids}, optional={"username": json_values, "name": json_values})
search_pages = st.fixed_dictionaries(
    {},
    optional={
        "data": st.lists(tweets | json_values, max_size=5) | json_values,
        "includes": st.fixed_dictionaries({}, optional={"users": st.lists(users | json_values)})
        | json_values,
        "meta": st.fixed_dictionaries(
            {}, optional={"next_token": json_values, "result_count": json_values}
        )
        | json_values,
    },
)


@FUZZ
@given(search_pages | json_values)
def test_any_search_response_parses_or_is_rejected_with_a_reason(page: Any) -> None:
    try:
        parsed = parse_search_page(page, TOPIC, FETCHED_AT)
    except MalformedPageError as rejected:
        assert str(rejected)
        return
    assert isinstance(parsed, SearchPage)
    assert len(parsed.records) + parsed.skipped == len(parsed.tweet_ids)
    assert parsed.next_token is None or isinstance(parsed.next_token, str)


trend_pages = st.fixed_dictionaries(
    {},
    optional={
        "data": st.lists(
            st.fixed_dictionaries(
                {}, optional={"trend_name": json_values, "tweet_count": json_values}
            )
            | json_values,
            max_size=6,
        )
        | json_values
    },
)


@FUZZ
@given(trend_pages | json_values, st.integers(min_value=0, max_value=10))
@example(page={"data": [{"trend_name": "0"}]}, limit=0)  # found by this test: limit 0 gave 1
def test_any_trends_response_parses_or_is_rejected_with_a_reason(page: Any, limit: int) -> None:
    try:
        topics = parse_trends(page, 1, limit)
    except MalformedPageError as rejected:
        assert str(rejected)
        return
    assert len(topics) <= limit
    assert all(topic["kind"] == "trend" and topic["name"].strip() for topic in topics)


class FakeParameters:
    """Answers GetParametersByName as Powertools' SSMProvider does, from fuzzed values."""

    def __init__(self, values: dict[str, Any], missing: set[str]) -> None:
        self.values = values
        self.missing = missing

    def get_parameters_by_name(self, parameters: dict[str, Any], **_: Any) -> dict[str, Any]:
        answer = {name: self.values.get(name) for name in parameters if name not in self.missing}
        answer["_errors"] = sorted(self.missing)
        return answer

    def clear_cache(self) -> None:
        """Nothing cached."""


PLACEHOLDER_VALUE = "SET_ME"
ALL_KEYS = (*USER_CONTEXT_KEYS, APP_ONLY_KEY)
canary_values = st.text(min_size=1, max_size=24).map(lambda text: f"canary-{text}")
parameter_values = st.one_of(
    canary_values,
    st.just(PLACEHOLDER_VALUE),
    st.just(""),
    st.just("   "),
    st.none(),
    st.integers(),
)


@FUZZ
@given(
    st.fixed_dictionaries(dict.fromkeys(ALL_KEYS, parameter_values)),
    st.sets(st.sampled_from(ALL_KEYS)),
)
def test_any_ssm_values_load_or_fail_naming_the_parameters(
    values: dict[str, Any], missing_keys: set[str]
) -> None:
    prefix = "/twitter/"
    provider = FakeParameters(
        {f"{prefix}{key}": value for key, value in values.items()},
        {f"{prefix}{key}" for key in missing_keys},
    )

    def usable(key: str) -> bool:
        value = values[key]
        return (
            key not in missing_keys
            and isinstance(value, str)
            and value.strip() not in ("", PLACEHOLDER_VALUE)
        )

    try:
        credentials = load_credentials(prefix, PLACEHOLDER_VALUE, provider)  # type: ignore[arg-type]
    except CredentialsError as error:
        message = str(error)
        assert not usable(APP_ONLY_KEY)
        assert not all(usable(key) for key in USER_CONTEXT_KEYS)
        for key in ALL_KEYS:
            assert (f"{prefix}{key}" in message) == (not usable(key))
        for value in values.values():
            if isinstance(value, str) and value.startswith("canary-"):
                assert value not in message
        return
    assert usable(APP_ONLY_KEY) or all(usable(key) for key in USER_CONTEXT_KEYS)
    for key in ALL_KEYS:
        assert getattr(credentials, key) == (values[key] if usable(key) else None)
