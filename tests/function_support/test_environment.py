"""The functions' on/off switches read the truth values Powertools reads for its own."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.shared.functions import strtobool

from function_support.environment import TRUTHY, env_flag


@pytest.mark.parametrize("value", ["1", "y", "YES", "t", " True ", "on"])
def test_the_spellings_powertools_reads_as_true_switch_on(value: str) -> None:
    assert env_flag({"SWITCH": value}, "SWITCH")
    assert strtobool(value.strip())  # the same spelling turns a Powertools switch on


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SWITCH": ""},
        {"SWITCH": "0"},
        {"SWITCH": "off"},
        {"SWITCH": "no"},
        {"SWITCH": "enabled"},
    ],
)
def test_unset_false_or_unknown_is_off(environ: dict[str, str]) -> None:
    assert not env_flag(environ, "SWITCH")


def test_the_truth_values_are_exactly_powertools_ones() -> None:
    spellings = {"1", "y", "yes", "t", "true", "on", "0", "n", "no", "f", "false", "off"}
    assert {value for value in spellings if strtobool(value)} == TRUTHY
