"""Schedules in the venue's wall time and IANA zone, and the instants derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from events.schema import Schedule


class ScheduleError(ValueError):
    """A schedule that cannot be placed in time (DST gap, ambiguous time, bad window)."""


@dataclass(frozen=True)
class Timed:
    """Minute precision: aware datetimes in the venue's zone (pendulum/ZoneInfo tzinfo)."""

    start: datetime
    end: datetime | None  # None: an instant


@dataclass(frozen=True)
class AllDay:
    """Day precision: the first day and the day after the last (exclusive, as iCalendar's DTEND)."""

    first: date
    end_exclusive: date


@dataclass(frozen=True)
class Undated:
    """Month or year precision: "date to be set"; not in the feed."""

    precision: str  # "year" or "month"


When = Timed | AllDay | Undated


def resolve(schedule: Schedule, zone: str) -> When:
    """Place a schedule in time; refuses non-existent and ambiguous local times."""
    raise NotImplementedError
