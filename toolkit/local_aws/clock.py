"""Time as the local runtime's stand-ins see it.

Two timelines, never mixed in one measurement:

* **The clock** (``now``, ``wait``): schedules, batching windows and buffer intervals. These are
  waits for time to pass, which the demo compresses (``SystemClock(speed=60)`` runs a one-minute
  Firehose buffer in one second) and tests move by hand (``ManualClock.advance``) instead of
  sleeping. A wait starts and ends on the clock.
* **Wall time** (``wall``): a record's age. Kinesis stamps ``ApproximateArrivalTimestamp`` in
  real time (the emulator's, and what the functions see in their events), and the work a record
  waits for (invocations, function timeouts, retry back-off) runs in real time whatever the
  clock's speed. So ``MaximumRecordAgeInSeconds`` is measured from the wall-time arrival to the
  wall-time now: at 60x a record is discarded after the same real hour of failures as on AWS,
  not after a real minute (an age on the clock would expire every record still unprocessed 61 s
  after start, and a pipeline that merely lags would lose data AWS would deliver).

Lambda timeouts are not scaled either: a function's timeout is real time, as its code runs in real
time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    @property
    def speed(self) -> float:
        """Clock seconds per wall second."""

    def now(self) -> float:
        """Seconds since the epoch, on this clock."""

    def wall(self) -> float:
        """Seconds since the epoch in real time: the timeline of records' arrival stamps."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds`` of clock time or until ``stop`` is set; True when stopped."""


class SystemClock:
    """Wall-clock time, optionally running ``speed`` times faster from the moment it was made.

    ``running_for`` starts the clock as if it had already run that many wall seconds (a test of
    a runtime some time after its start, without waiting for it); ``wall_time`` and
    ``monotonic`` are the real time sources, replaceable in a test.
    """

    def __init__(
        self,
        speed: float = 1.0,
        *,
        running_for: float = 0.0,
        wall_time: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        if running_for < 0:
            raise ValueError("a clock cannot have run for a negative time")
        self._speed = speed
        self._wall_time = wall_time
        self._monotonic = monotonic
        self._origin_wall = wall_time() - running_for
        self._origin_monotonic = monotonic() - running_for

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._origin_wall + (self._monotonic() - self._origin_monotonic) * self._speed

    def wall(self) -> float:
        return self._wall_time()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds) / self._speed)


class ManualClock:
    """A clock that only moves when a test says so; its wall time moves with it (speed 1)."""

    speed = 1.0

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def wall(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(0.01)
