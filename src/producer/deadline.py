"""The invocation's time budget: every wait and every new request checks it first, so the
producer finishes (and writes what it fetched) before Lambda kills it."""

from __future__ import annotations

from collections.abc import Callable


class Deadline:
    def __init__(self, remaining_millis: Callable[[], int], safety_margin_seconds: float) -> None:
        self._remaining_millis = remaining_millis
        self._margin = safety_margin_seconds

    def seconds_left(self) -> float:
        """Seconds usable before the safety margin, which is kept for writing and checkpointing."""
        return self._remaining_millis() / 1000.0 - self._margin

    def expired(self) -> bool:
        return self.seconds_left() <= 0

    def allows_wait(self, seconds: float) -> bool:
        """A wait is allowed only if work can still be done after it."""
        return seconds < self.seconds_left()


def backoff_delay(attempt: int, base: float, cap: float, jitter: Callable[[], float]) -> float:
    """Full jitter: a random share (``jitter()`` in [0, 1)) of ``base * 2 ** (attempt - 1)``,
    capped; the wait before retry ``attempt`` + 1 (AWS Architecture Blog, "Exponential Backoff
    And Jitter")."""
    return jitter() * min(cap, base * 2.0 ** (attempt - 1))


def unlimited() -> Deadline:
    """For scripts and tests that run outside an invocation."""
    return Deadline(lambda: 2**31, 0.0)
