"""Every function builds its clients one way, and one call's worst case fits its timeout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from function_support.clients import (
    BOTOCORE_MAX_ATTEMPTS,
    BOTOCORE_MAX_BACKOFF_SECONDS,
    Timeouts,
    client_config,
    new_client,
)

ROOT_MODULE = Path(__file__).resolve().parents[2] / "terraform" / "main.tf"


def terraform_timeout(module: str) -> int:
    """The ``timeout_seconds`` the root module gives a function module (literal or local)."""
    text = ROOT_MODULE.read_text(encoding="utf-8")
    block = text[text.index(f'module "{module}" {{') :]
    value = re.search(r"^\s*timeout_seconds\s*=\s*(\S+)", block, re.MULTILINE)
    assert value is not None, module
    raw = value.group(1)
    if raw.startswith("local."):
        local = re.search(rf"^\s*{raw.removeprefix('local.')}\s*=\s*(\d+)", text, re.MULTILINE)
        assert local is not None, raw
        raw = local.group(1)
    return int(raw)


def function_timeouts() -> list[tuple[str, Timeouts]]:
    from api.app import CLIENT_TIMEOUTS as API
    from consumer.app import CLIENT_TIMEOUTS as CONSUMER
    from producer.config import CLIENT_TIMEOUTS as PRODUCER
    from tweet_record.sentiment import COMPREHEND_TIMEOUTS

    return [
        ("producer", PRODUCER),
        ("producer", COMPREHEND_TIMEOUTS),
        ("consumer", CONSUMER),
        ("consumer", COMPREHEND_TIMEOUTS),
        ("transformer", COMPREHEND_TIMEOUTS),
        ("api_function", API),
    ]


@pytest.mark.parametrize(("module", "timeouts"), function_timeouts())
def test_one_call_whose_every_attempt_times_out_still_ends_within_the_function_timeout(
    module: str, timeouts: Timeouts
) -> None:
    """A call that outlives the function is cut by Lambda mid-retry, with no log of why; the
    function's own error handling only runs if the call gives up first."""
    assert timeouts.worst_case_call_seconds() < terraform_timeout(module)


def test_the_worst_case_counts_every_attempt_and_the_backoff_between() -> None:
    assert Timeouts(connect=1, read=2).worst_case_call_seconds() == (
        BOTOCORE_MAX_ATTEMPTS * 3 + BOTOCORE_MAX_BACKOFF_SECONDS
    )


def test_clients_use_botocores_standard_retries_and_the_functions_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Standard mode retries throttling and transient errors with jittered backoff; legacy mode
    (boto3's default) retries fewer errors ("Retries", boto3 developer guide,
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = new_client("dynamodb", Timeouts(connect=0.5, read=1.5), pool_connections=16)
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": BOTOCORE_MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout) == (0.5, 1.5)
    assert config.max_pool_connections == 16
    assert client_config(Timeouts(1, 2), validate=False).parameter_validation is False
