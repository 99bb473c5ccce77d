"""Settings parsing, the tracer choice, and what importing the handler costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from function_support.environment import ConfigurationError
from producer.config import ProducerConfig

BASE = {"STREAM_NAME": "s", "TABLE_NAME": "t"}
SRC = Path(__file__).resolve().parents[2] / "src"


def test_defaults() -> None:
    config = ProducerConfig.from_env(BASE)

    assert config.source == "x"
    assert config.ssm_prefix == "/twitter/"
    assert config.trend_woeids == (1,)
    assert config.search_queries is None
    assert config.max_results_per_page == 100
    assert config.replay_dataset_uri is None
    assert config.secret_placeholder is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["aws lambda", "#python", "aws lambda"]', ("aws lambda", "#python")),
        ("aws lambda; #python ;; (a OR b) lang:en", ("aws lambda", "#python", "(a OR b) lang:en")),
        ("", ()),
    ],
)
def test_search_queries_json_or_semicolons(raw: str, expected: tuple[str, ...]) -> None:
    assert ProducerConfig.from_env({**BASE, "SEARCH_QUERIES": raw}).search_queries == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STREAM_NAME": "s"}, "TABLE_NAME is required"),
        ({**BASE, "TWEET_SOURCE": "firehose"}, "TWEET_SOURCE must be one of"),
        ({**BASE, "MAX_RESULTS_PER_PAGE": "5"}, "between 10 and 100"),
        ({**BASE, "MAX_PAGES_PER_TOPIC": "many"}, "must be an integer"),
        ({**BASE, "TREND_WOEIDS": "1,x"}, "comma-separated integers"),
        ({**BASE, "SEARCH_QUERIES": '["a", 1]'}, "list of strings"),
        ({**BASE, "TWEET_SOURCE": "replay"}, "needs REPLAY_DATASET_URI"),
        ({**BASE, "REPLAY_SHIFT_TIMESTAMPS": "maybe"}, "REPLAY_SHIFT_TIMESTAMPS must be one of"),
    ],
)
def test_invalid_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProducerConfig.from_env(env)


def test_woeids_and_prefix_normalised() -> None:
    config = ProducerConfig.from_env(
        {**BASE, "TREND_WOEIDS": "1, 23424977,1", "TWITTER_SSM_PREFIX": "/acme"}
    )
    assert config.trend_woeids == (1, 23424977)
    assert config.ssm_prefix == "/acme/"
    assert ProducerConfig.from_env({**BASE, "TREND_WOEIDS": "none"}).trend_woeids == ()


def test_placeholder_and_dataset_location_come_from_the_environment() -> None:
    config = ProducerConfig.from_env(
        {
            **BASE,
            "TWEET_SOURCE": "replay",
            "REPLAY_DATASET_URI": "s3://lake/replay/",
            "TWITTER_SECRET_PLACEHOLDER": "CHANGE_ME",
        }
    )
    assert config.replay_dataset_uri == "s3://lake/replay/"
    assert config.secret_placeholder == "CHANGE_ME"


def test_the_producer_hard_codes_no_placeholder() -> None:
    """Terraform's twitter_secret_placeholder, passed as TWITTER_SECRET_PLACEHOLDER, is the one
    source of truth."""
    sources = "".join(path.read_text() for path in (SRC / "producer").rglob("*.py"))
    assert "SET_ME" not in sources


def test_importing_the_handler_defers_heavy_modules() -> None:
    """boto3, tweepy/requests and the X-Ray SDK load on first use, not on import."""
    probe = (
        "import sys, app\n"
        "heavy = ['boto3', 'tweepy', 'requests', 'aws_xray_sdk.core', "
        "'aws_lambda_powertools.utilities.parameters', 'botocore.client', 'botocore.exceptions']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {"PYTHONPATH": f"{SRC / 'producer'}:{SRC}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )

    assert result.stdout.strip() == ""


def test_in_lambda_with_tracing_on_the_xray_provider_is_deferred() -> None:
    """Tracing is on in Lambda, but the X-Ray SDK loads at the first traced call, not on import."""
    probe = (
        "import sys, app\n"
        "print(app.tracer.disabled, type(app.tracer.provider).__name__, "
        "'aws_xray_sdk.core' in sys.modules)\n"
    )
    env = {
        "PYTHONPATH": f"{SRC / 'producer'}:{SRC}",
        "PATH": "/usr/bin:/bin",
        "LAMBDA_TASK_ROOT": str(SRC / "producer"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )

    assert result.stdout.split() == ["False", "DeferredXRayProvider", "False"]
