"""Clocks: the only way code learns the time, passed in rather than read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The machine's time, aware and in UTC (for the edges: CLI and web)."""
    return datetime.now(UTC)


class FixedClock:
    """A clock for tests: reads a set time, moved only by `advance` or `set`."""

    def __init__(self, start: datetime, *, tick: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs an aware start time")
        self.now = start.astimezone(UTC)
        self.tick = tick

    def __call__(self) -> datetime:
        now = self.now
        self.now = now + self.tick
        return now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta

    def set(self, instant: datetime) -> None:
        """Put the clock at an instant (tests may move it backwards to check the store)."""
        self.now = instant.astimezone(UTC)
