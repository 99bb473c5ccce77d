"""Argument types for the local-stack commands (a wrong value is an argparse error, not a
traceback), and the one-line error those commands end with."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from rich.console import Console

from trendstream_cli.stack import MAX_PORT, MIN_PORT


def port(text: str) -> int:
    """A TCP port number, 1-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not MIN_PORT <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{value} is outside {MIN_PORT}-{MAX_PORT}")
    return value


def port_or_any(text: str) -> int:
    """A TCP port number, or 0 for any free port (the emulator says which it bound)."""
    return 0 if text.strip() == "0" else port(text)


def bounded_float(low: float, high: float, *, low_inclusive: bool = True) -> Callable[[str], float]:
    """A finite number in [low, high] (or (low, high] when `low_inclusive` is False)."""
    opening = "[" if low_inclusive else "("

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        above_low = value >= low if low_inclusive else value > low
        if not math.isfinite(value) or not above_low or value > high:
            raise argparse.ArgumentTypeError(f"{text} is outside {opening}{low:g}, {high:g}]")
        return value

    return parse


def print_error(message: object) -> None:
    """One error for the user on stderr: what went wrong and what to do, no traceback."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
