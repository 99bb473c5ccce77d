"""Credentials from SSM (moto), and the handler end to end on the live-source path."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
import responses
from producer_helpers import REGION, FakeContext, load_event, read_stream, search_page, tweet
from test_x_api_source import SEARCH_URL, TRENDS_URL, UNAUTHORIZED

from function_support.environment import ConfigurationError
from producer.credentials import USER_CONTEXT_KEYS, CredentialsError, load_credentials

pytestmark = pytest.mark.usefixtures("aws")

CANARY = "canary-9d2e4b1f-do-not-log"


def put_parameters(values: dict[str, str], prefix: str = "/twitter/") -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    for key, value in values.items():
        ssm.put_parameter(Name=prefix + key, Value=value, Type="SecureString", Overwrite=True)


def all_keys(value: str = CANARY) -> dict[str, str]:
    return {key: f"{key}-{value}" for key in USER_CONTEXT_KEYS}


def test_loads_all_keys_decrypted_and_bearer_is_optional() -> None:
    put_parameters(all_keys())

    loaded = load_credentials("/twitter/")

    assert loaded.consumer_key == f"consumer_key-{CANARY}"
    assert loaded.access_token_secret == f"access_token_secret-{CANARY}"
    assert loaded.bearer_token is None
    assert CANARY not in repr(loaded)


def test_placeholder_bearer_token_counts_as_absent() -> None:
    put_parameters({**all_keys(), "bearer_token": "SET_ME"})

    assert load_credentials("/twitter/", "SET_ME").bearer_token is None


def test_the_placeholder_is_the_one_terraform_passes() -> None:
    """TWITTER_SECRET_PLACEHOLDER is the one source of truth: another value means not set."""
    put_parameters({**all_keys(), "consumer_key": "CHANGE_ME", "bearer_token": "CHANGE_ME"})

    with pytest.raises(CredentialsError, match="consumer_key still holds the placeholder"):
        load_credentials("/twitter/", "CHANGE_ME")
    assert load_credentials("/twitter/", "SET_ME").consumer_key == "CHANGE_ME"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_unset_credentials_are_a_configuration_error_the_handler_does_not_raise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One hierarchy for "the operator must fix the configuration": credentials not set are one
    (caught as such), yet only they end the run normally; any other configuration error raises."""
    with pytest.raises(ConfigurationError, match="X API credentials not set"):
        load_credentials("/nothing-set/")

    from producer.app import lambda_handler

    _handler_env(monkeypatch)
    monkeypatch.setenv("TWITTER_SSM_PREFIX", "/nothing-set/")
    event = load_event("eventbridge_scheduled.json")
    assert lambda_handler(event, FakeContext())["credentials_not_set"] is True

    monkeypatch.setenv("TWEET_SOURCE", "replay")  # without REPLAY_DATASET_URI
    with pytest.raises(ConfigurationError, match="REPLAY_DATASET_URI") as raised:
        lambda_handler(event, FakeContext())
    assert not isinstance(raised.value, CredentialsError)


def test_bearer_token_alone_is_enough() -> None:
    """Search works app-only with the bearer token; trends need it anyway."""
    put_parameters({**dict.fromkeys(USER_CONTEXT_KEYS, "SET_ME"), "bearer_token": f"b-{CANARY}"})

    loaded = load_credentials("/twitter/", "SET_ME")

    assert loaded.bearer_token == f"b-{CANARY}"
    assert not loaded.has_user_context


def test_nothing_set_names_the_parameters_without_leaking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values = {**all_keys(), "access_token_key": "SET_ME"}
    del values["consumer_secret"]
    put_parameters(values)

    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as raised:
        load_credentials("/twitter/", "SET_ME")

    message = str(raised.value)
    assert "/twitter/consumer_secret is missing" in message
    assert "/twitter/access_token_key still holds the placeholder" in message
    assert "/twitter/bearer_token is missing" in message
    assert "README" in message
    assert CANARY not in message
    assert CANARY not in caplog.text


def test_custom_prefix_is_used() -> None:
    put_parameters(all_keys(), prefix="/acme/x/")

    with pytest.raises(CredentialsError, match="/other/consumer_key is missing"):
        load_credentials("/other/")
    assert load_credentials("/acme/x/").consumer_key == f"consumer_key-{CANARY}"


def _handler_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_NAME", "trendstream-test-tweets")
    monkeypatch.setenv("TABLE_NAME", "trendstream-test-EventData")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")


def test_handler_on_the_x_source_end_to_end(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from producer.app import lambda_handler

    _handler_env(monkeypatch)
    monkeypatch.setenv("SEARCH_QUERIES", "aws lambda")
    put_parameters({**all_keys(), "bearer_token": f"bearer-{CANARY}"})
    with responses.RequestsMock() as api, caplog.at_level(logging.DEBUG):
        api.get(TRENDS_URL, json={"data": [{"trend_name": "#Europe", "tweet_count": 1}]})
        api.get(SEARCH_URL, json=search_page([tweet(101), tweet(100)]))
        api.get(SEARCH_URL, json=search_page([tweet(100, text="lambda news")]))

        result: dict[str, Any] = lambda_handler(
            load_event("eventbridge_scheduled.json"), FakeContext()
        )

    assert result["records_put"] == 3
    assert result["topics"] == 2
    assert "Producer run finished" in caplog.text  # the capture does work
    assert len(read_stream()) == 3
    output = capsys.readouterr().out
    [emf] = [json.loads(line) for line in output.splitlines() if '"RecordsPut"' in line]
    assert emf["RecordsPut"] in (3.0, [3.0])
    assert emf["TweetsFetched"] in (3.0, [3.0])
    assert emf["RateLimited"] in (0.0, [0.0])
    assert CANARY not in output
    assert CANARY not in caplog.text


def test_before_the_secrets_are_set_a_run_ends_normally_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fresh stack: no error (so no async retry and nothing in the dead-letter queue), a
    warning naming what to set, a CredentialsNotSet datapoint, and no TweetsFetched datapoint
    (the stack is not idle, it is waiting). The next run after the secrets are set fetches."""
    from producer.app import lambda_handler

    _handler_env(monkeypatch)
    monkeypatch.setenv("TWITTER_SECRET_PLACEHOLDER", "SET_ME")
    monkeypatch.setenv("TREND_WOEIDS", "none")
    monkeypatch.setenv("SEARCH_QUERIES", '["aws lambda"]')
    put_parameters({**dict.fromkeys(USER_CONTEXT_KEYS, "SET_ME"), "bearer_token": "SET_ME"})
    event = load_event("eventbridge_scheduled.json")

    with caplog.at_level(logging.DEBUG):
        result: dict[str, Any] = lambda_handler(event, FakeContext())

    assert result["credentials_not_set"] is True
    assert "/twitter/bearer_token still holds the placeholder" in caplog.text
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    # The first handler call of a process also prints Powertools' ColdStart document.
    datapoints = [
        document["CredentialsNotSet"] for document in emf if "CredentialsNotSet" in document
    ]
    assert datapoints in ([1.0], [[1.0]])
    assert not any("TweetsFetched" in document for document in emf)

    put_parameters({"bearer_token": f"bearer-{CANARY}"})
    with responses.RequestsMock() as api:
        api.get(SEARCH_URL, json=search_page([tweet(7)]))
        second: dict[str, Any] = lambda_handler(event, FakeContext())

    assert second["credentials_not_set"] is False
    assert second["records_put"] == 1
    assert CANARY not in capsys.readouterr().out + caplog.text


def test_a_run_whose_every_fetch_failed_is_not_silent(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from producer.app import lambda_handler

    _handler_env(monkeypatch)
    monkeypatch.setenv("SEARCH_QUERIES", '["aws lambda"]')
    put_parameters(all_keys())  # no bearer token: trends cannot work, search fails below
    with responses.RequestsMock() as api, caplog.at_level(logging.INFO):
        api.get(
            SEARCH_URL, status=403, json={"title": "Forbidden", "detail": "client-not-enrolled"}
        )
        result: dict[str, Any] = lambda_handler(
            load_event("eventbridge_scheduled.json"), FakeContext()
        )

    assert result["fetches"] == 2 and result["fetches_failed"] == 2
    assert result["all_fetches_failed"] is True
    assert "Every X API fetch of this run failed" in caplog.text
    output = capsys.readouterr().out
    [emf] = [json.loads(line) for line in output.splitlines() if '"AllFetchesFailed"' in line]
    assert emf["AllFetchesFailed"] in (1.0, [1.0])
    assert emf["FetchesFailed"] in (2.0, [2.0])
    assert emf["TweetsFetched"] in (0.0, [0.0])


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_401_never_logs_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from producer.app import lambda_handler
    from producer.sources import XAuthError

    _handler_env(monkeypatch)
    monkeypatch.setenv("TREND_WOEIDS", "none")
    monkeypatch.setenv("SEARCH_QUERIES", '["#python"]')
    put_parameters(all_keys())
    with (
        responses.RequestsMock() as api,
        caplog.at_level(logging.DEBUG),
        pytest.raises(XAuthError, match="check SSM parameters /twitter/consumer_key"),
    ):
        api.get(SEARCH_URL, status=401, json=UNAUTHORIZED)
        lambda_handler(load_event("eventbridge_scheduled.json"), FakeContext())

    assert CANARY not in capsys.readouterr().out + caplog.text


def test_a_fixed_parameter_is_seen_on_the_next_run_despite_the_cache() -> None:
    put_parameters({**all_keys(), "consumer_key": "SET_ME"})
    with pytest.raises(CredentialsError):
        load_credentials("/twitter/", "SET_ME")

    put_parameters({"consumer_key": "fixed-value"})

    assert load_credentials("/twitter/", "SET_ME").consumer_key == "fixed-value"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_after_a_401_the_credentials_are_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from producer.app import lambda_handler
    from producer.sources import XAuthError

    _handler_env(monkeypatch)
    monkeypatch.setenv("TREND_WOEIDS", "none")
    monkeypatch.setenv("SEARCH_QUERIES", "alpha")
    put_parameters(all_keys("old"))
    event = load_event("eventbridge_scheduled.json")
    with responses.RequestsMock() as api:
        api.get(SEARCH_URL, status=401, json=UNAUTHORIZED)
        with pytest.raises(XAuthError):
            lambda_handler(event, FakeContext())
        put_parameters(all_keys("new"))
        api.get(SEARCH_URL, json={"meta": {"result_count": 0}})

        lambda_handler(event, FakeContext())

        authorization = api.calls[-1].request.headers["Authorization"]
    assert "consumer_key-new" in authorization  # the OAuth 1.0a header names the consumer key
