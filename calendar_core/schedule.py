"""Schedules in the venue's wall time and IANA zone, and the instants derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.schema import Schedule, local_fields, local_precision


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

# A local wall time as (year, month, day, hour, minute): ordered, and never a naive datetime.
Wall = tuple[int, int, int, int, int]

_RANK = {"year": 0, "month": 1, "day": 2, "minute": 3}


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone by name; ScheduleError if this machine's tz database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{name!r} is not a time zone this server knows") from None


def _format_offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


@lru_cache(maxsize=1 << 14)
def place(value: str, zone: str) -> datetime:
    """A minute value as an aware datetime in `zone`; refuses DST gaps, overlaps, wrong offsets."""
    year, month, day, hour, minute, offset = local_fields(value)
    wall = value[:16]
    tz = zone_of(zone)
    early = datetime(year, month, day, hour, minute, tzinfo=tz, fold=0)
    late = early.replace(fold=1)
    early_offset, late_offset = early.utcoffset(), late.utcoffset()
    if early_offset != late_offset:
        # zoneinfo gives the two sides of a transition: a gap if the wall time does not survive a
        # round trip through UTC, an overlap if it does (it happens twice).
        back = early.astimezone(UTC).astimezone(tz)
        if (back.hour, back.minute, back.day) != (hour, minute, day):
            raise ScheduleError(f"{wall} does not exist in {zone} (clocks jump forward)")
        first, second = _format_offset(early_offset), _format_offset(late_offset)
        if offset is None:
            raise ScheduleError(
                f"{wall} happens twice in {zone} (clocks fall back): write {wall}{first} "
                f"for the first or {wall}{second} for the second"
            )
        if offset == first:
            return early
        if offset == second:
            return late
        raise ScheduleError(
            f"{wall}{offset} is neither reading of {wall} in {zone} ({first} or {second})"
        )
    if offset is not None and offset != _format_offset(early_offset):
        raise ScheduleError(
            f"{wall}{offset} does not match {zone}, which is at {_format_offset(early_offset)} then"
        )
    return early


def _next_day(year: int, month: int, day: int) -> date:
    return date(year, month, day) + timedelta(days=1)


@lru_cache(maxsize=1 << 14)
def _resolve(start: str, end: str | None, zone: str) -> When:
    precision = local_precision(start)
    if precision in ("year", "month"):
        zone_of(zone)
        return Undated(precision)
    if precision == "day":
        zone_of(zone)
        first = date(*local_fields(start)[:3])
        last = date(*local_fields(end)[:3]) if end is not None else first
        return AllDay(first, last + timedelta(days=1))
    begins = place(start, zone)
    if end is None:
        return Timed(begins, None)
    ends = place(end, zone)
    if ends.astimezone(UTC) <= begins.astimezone(UTC):  # same-zone comparison ignores fold
        raise ScheduleError(f"{end} in {zone} is not after {start}: the end must follow the start")
    return Timed(begins, ends)


def resolve(schedule: Schedule, zone: str) -> When:
    """Place a schedule in time; refuses non-existent and ambiguous local times."""
    return _resolve(schedule.start, schedule.end, zone)


def utc_bounds(schedule: Schedule, zone: str) -> tuple[datetime | None, datetime | None]:
    """Start and end as aware UTC datetimes for minute precision; (None, None) otherwise."""
    when = resolve(schedule, zone)
    if not isinstance(when, Timed):
        return None, None
    end = None if when.end is None else when.end.astimezone(UTC)
    return when.start.astimezone(UTC), end


def _wall(value: str) -> Wall:
    year, month, day, hour, minute, _ = local_fields(value)
    return (year, month, day, hour, minute)


def _after(value: str, precision: str) -> Wall:
    """The first wall time after the period a value names (exclusive upper bound)."""
    year, month, day, hour, minute, _ = local_fields(value)
    if precision == "year":
        return (year + 1, 1, 1, 0, 0)
    if precision == "month":
        return (year + 1, 1, 1, 0, 0) if month == 12 else (year, month + 1, 1, 0, 0)
    if precision == "day":
        following = _next_day(year, month, day)
        return (following.year, following.month, following.day, 0, 0)
    later = datetime(year, month, day, hour, minute, tzinfo=UTC) + timedelta(minutes=1)
    return (later.year, later.month, later.day, later.hour, later.minute)


def window(schedule: Schedule) -> tuple[Wall, Wall]:
    """The local wall-time interval [lo, hi) a schedule covers."""
    precision = schedule.precision
    lo = _wall(schedule.start)
    if precision == "minute":
        hi = _wall(schedule.end) if schedule.end is not None else _after(schedule.start, "minute")
        return lo, hi
    return lo, _after(schedule.end or schedule.start, precision)


def is_refinement(old: Schedule, new: Schedule) -> bool:
    """True if `new` lies inside `old`'s window and is narrower or of finer precision."""
    old_lo, old_hi = window(old)
    new_lo, new_hi = window(new)
    if not (old_lo <= new_lo and new_hi <= old_hi):
        return False
    old_rank, new_rank = _RANK[old.precision], _RANK[new.precision]
    if new_rank < old_rank:
        return False
    return new_rank > old_rank or (new_lo, new_hi) != (old_lo, old_hi)


def describe(schedule: Schedule) -> str:
    """A schedule as an editor writes it: `2025-08-23`, `2025-08-23 to 2025-08-24`."""
    if schedule.end is None:
        return schedule.start
    return f"{schedule.start} to {schedule.end}"


def sort_instant(schedule: Schedule, zone: str) -> datetime:
    """A UTC instant to order summits by: the start, or midnight local of a coarser window."""
    try:
        when = resolve(schedule, zone)
    except ScheduleError:
        when = None
    if isinstance(when, Timed):
        return when.start.astimezone(UTC)
    year, month, day, hour, minute = window(schedule)[0]
    try:
        tz: ZoneInfo | None = zone_of(zone)
    except ScheduleError:
        tz = None
    local = datetime(year, month, day, hour, minute, tzinfo=tz or UTC)
    return local.astimezone(UTC)
