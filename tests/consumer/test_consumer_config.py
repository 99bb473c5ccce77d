"""The consumer's configuration: one object, every setting checked before a record is read."""

from __future__ import annotations

import pytest

from consumer.config import ConsumerConfig
from function_support.environment import ConfigurationError

ENVIRONMENT = {"TABLE_NAME": "t", "LAKE_BUCKET": "b"}


def test_defaults_and_values() -> None:
    assert ConsumerConfig.from_environ(ENVIRONMENT) == ConsumerConfig("t", "b", 7, "vader")
    configured = {**ENVIRONMENT, "TTL_DAYS": "30", "SENTIMENT_ENGINE": " Comprehend "}
    assert ConsumerConfig.from_environ(configured) == ConsumerConfig("t", "b", 30, "comprehend")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LAKE_BUCKET": "b"}, "TABLE_NAME is required"),
        ({"TABLE_NAME": "t"}, "LAKE_BUCKET is required"),
        ({**ENVIRONMENT, "SENTIMENT_ENGINE": "bert"}, "SENTIMENT_ENGINE must be one of"),
        ({**ENVIRONMENT, "TTL_DAYS": "7d"}, "TTL_DAYS must be a whole number"),
        ({**ENVIRONMENT, "TTL_DAYS": "0"}, "TTL_DAYS must be a positive number"),
    ],
)
def test_a_bad_setting_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ConsumerConfig.from_environ(environ)
