"""The runtime's two timelines: the clock (waits, compressed at speed) and wall time (ages)."""

from __future__ import annotations

import pytest

from local_aws.clock import ManualClock, SystemClock


class FakeTime:
    """Real time for a test: moved by hand, wall and monotonic together."""

    def __init__(self, start: float) -> None:
        self.wall = start
        self.monotonic = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.monotonic += seconds


def test_a_fast_clock_compresses_waits_but_wall_time_runs_at_real_speed() -> None:
    real = FakeTime(1_800_000_000.0)
    clock = SystemClock(60, wall_time=lambda: real.wall, monotonic=lambda: real.monotonic)

    real.advance(120)

    assert clock.now() == pytest.approx(1_800_000_000.0 + 120 * 60)
    assert clock.wall() == pytest.approx(1_800_000_000.0 + 120)
    assert clock.speed == 60


def test_running_for_starts_the_clock_as_if_it_had_already_run() -> None:
    real = FakeTime(1_800_000_000.0)
    clock = SystemClock(
        60, running_for=90, wall_time=lambda: real.wall, monotonic=lambda: real.monotonic
    )

    assert clock.now() == pytest.approx(1_800_000_000.0 - 90 + 90 * 60)
    assert clock.wall() == pytest.approx(1_800_000_000.0)


def test_a_manual_clock_moves_its_wall_time_with_it() -> None:
    clock = ManualClock(100.0)

    clock.advance(30)

    assert (clock.now(), clock.wall(), clock.speed) == (130.0, 130.0, 1.0)


@pytest.mark.parametrize("speed", [0, -1])
def test_a_clock_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        SystemClock(speed)
