"""Time as the local runtime's stand-ins see it.

Schedules, batching windows, buffer intervals and record ages are all read from a ``Clock`` so the
demo can run faster than real time (``SystemClock(speed=10)``) and tests can move time by hand
(``ManualClock.advance``) instead of sleeping. Lambda timeouts are not scaled: a function's
timeout is real time, as its code runs in real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, on this clock."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds`` of clock time or until ``stop`` is set; True when stopped."""


class SystemClock:
    """Wall-clock time, optionally running ``speed`` times faster from the moment it was made."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._origin_wall = time.time()
        self._origin_monotonic = time.monotonic()

    def now(self) -> float:
        return self._origin_wall + (time.monotonic() - self._origin_monotonic) * self.speed

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds) / self.speed)


class ManualClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(0.01)
