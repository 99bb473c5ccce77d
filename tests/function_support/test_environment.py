"""Every function reads its switches with the truth values Powertools reads for its own."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.shared.functions import strtobool

from function_support.environment import (
    FALSY,
    TRUTHY,
    ConfigurationError,
    env_flag,
    int_in_range,
    required,
)


@pytest.mark.parametrize("value", ["1", "y", "YES", "t", " True ", "on"])
def test_the_spellings_powertools_reads_as_true_switch_on(value: str) -> None:
    assert env_flag({"SWITCH": value}, "SWITCH")
    assert strtobool(value.strip())  # the same spelling turns a Powertools switch on


@pytest.mark.parametrize("value", ["0", "n", "No", "f", " false ", "OFF"])
def test_the_spellings_powertools_reads_as_false_switch_off(value: str) -> None:
    assert not env_flag({"SWITCH": value}, "SWITCH", default=True)
    assert not strtobool(value.strip())


@pytest.mark.parametrize("default", [True, False])
def test_unset_or_blank_takes_the_default(default: bool) -> None:
    assert env_flag({}, "SWITCH", default=default) is default
    assert env_flag({"SWITCH": "  "}, "SWITCH", default=default) is default


def test_an_unknown_spelling_is_a_configuration_error_as_in_powertools() -> None:
    with pytest.raises(ConfigurationError, match="SWITCH must be one of"):
        env_flag({"SWITCH": "enabled"}, "SWITCH")
    with pytest.raises(ValueError, match="invalid truth value"):
        strtobool("enabled")


def test_the_truth_values_are_exactly_powertools_ones() -> None:
    spellings = TRUTHY | FALSY
    assert {value for value in spellings if strtobool(value)} == TRUTHY
    assert {value for value in spellings if not strtobool(value)} == FALSY


def test_required_and_ranged_values_name_the_variable() -> None:
    assert required({"TABLE_NAME": " t "}, "TABLE_NAME") == "t"
    with pytest.raises(ConfigurationError, match="TABLE_NAME is required"):
        required({"TABLE_NAME": " "}, "TABLE_NAME")
    assert int_in_range({}, "N", 5, 1, 10) == 5
    with pytest.raises(ConfigurationError, match="N must be between 1 and 10, got 11"):
        int_in_range({"N": "11"}, "N", 5, 1, 10)
    with pytest.raises(ConfigurationError, match="N must be an integer"):
        int_in_range({"N": "x"}, "N", 5, 1, 10)
