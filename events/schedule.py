"""A summit's schedule, the one value type for when: its written forms, its window, its instants.

A schedule is local wall time in the venue's IANA zone at one of four precisions, written
`2025`, `2025-08`, `2025-08-23` or `2025-08-23T16:55` (CONTRACT section 3). A minute may carry
an offset (`2025-11-02T01:30-05:00`) that picks one reading of a time a DST overlap repeats.
Everything about that grammar and about placing it in time lives here: the parser, the
supported years, the window a value covers, refinement, and the DST gap and overlap rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

Precision = Literal["year", "month", "day", "minute"]
# A wall time as (year, month, day, hour, minute): ordered, and never a naive datetime.
Wall = tuple[int, int, int, int, int]

FIRST_YEAR, LAST_YEAR = 1900, 2200
"""The years a schedule may name: every zone's rules and every client compute them."""

FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)"
PATTERN = r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}([+-]\d{2}:\d{2})?)?)?)?$"
_FORM = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})([+-]\d{2}:\d{2})?)?)?)?", re.A
)
_RANK: dict[Precision, int] = {"year": 0, "month": 1, "day": 2, "minute": 3}


class ScheduleError(ValueError):
    """A schedule that cannot be placed in time (DST gap or overlap, end not after start)."""


@dataclass(frozen=True)
class Local:
    """One written schedule value, parsed."""

    text: str
    precision: Precision
    wall: Wall  # missing parts are 1 (month, day) or 0 (hour, minute)
    offset: str | None  # a minute's "+HH:MM", naming one side of a DST overlap


def parse_local(text: str) -> Local:
    """Parse a schedule value; ValueError says in words what is wrong."""
    match = _FORM.fullmatch(text)
    if match is None:
        raise ValueError(f"must be {FORMS}")
    year, month, day, hour, minute, offset = match.groups()
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValueError(f"year {year} is outside the supported {FIRST_YEAR}-{LAST_YEAR}")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"month {int(month)} does not exist")
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{text[:10]} is not a calendar date") from None
    if hour is not None and (int(hour) > 23 or int(minute) > 59):
        raise ValueError(f"{text[:16]}: hour must be 00-23 and minute 00-59")
    if offset is not None and (int(offset[1:3]) > 18 or int(offset[4:]) > 59):
        raise ValueError(f"{text}: offset out of range")
    precision: Precision = "minute" if hour else "day" if day else "month" if month else "year"
    wall = (int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0))
    return Local(text, precision, wall, offset)


# The grammar again as one regular expression, which pydantic-core checks without calling
# Python: years 1900-2200, the days each month has (29 February in leap years), hours 00-23,
# minutes 00-59, offsets up to 18:59. tests/events/test_schedule_grammar.py holds it to
# `parse_local`, whose words explain a refusal (see `problem`).
_YEAR = "(?:19[0-9]{2}|20[0-9]{2}|21[0-9]{2}|2200)"
_LEAP = (
    "(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:0[048]|[2468][048]|[13579][26])"
    "|21(?:0[48]|[2468][048]|[13579][26]))"
)
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP}-02-29)"
_TIME = "T(?:[01][0-9]|2[0-3]):[0-5][0-9](?:[+-](?:0[0-9]|1[0-8]):[0-5][0-9])?"
EXACT = f"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2]))?|{_DATE}(?:{_TIME})?)$"


class _LocalValue:
    """A schedule value checked by pydantic-core against EXACT (error type "local_time")."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.str_schema(pattern=EXACT),
            "local_time",
            custom_error_message=f"must be {FORMS}",
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": PATTERN, "description": FORMS}


LocalValue = Annotated[str, _LocalValue()]


def problem(value: object) -> str:
    """Why a schedule value was refused, in words."""
    if not isinstance(value, str):
        return f"must be {FORMS}"
    try:
        parse_local(value)
    except ValueError as error:
        return str(error)
    return f"must be {FORMS}"


class Schedule(BaseModel):
    """When, in the venue's local wall time; the written form gives the precision."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    start: LocalValue
    end: LocalValue | None = None

    @model_validator(mode="after")
    def _end_follows_start(self) -> Schedule:
        # Both values passed EXACT: one precision has one width up to the minute, so their
        # local parts compare as text; a minute's offset only tells equal local times apart.
        start, end = self.start, self.end
        if end is not None:
            if _precision(start) != _precision(end):
                raise ValueError("end must have the same precision as start")
            if end[:16] < start[:16]:
                raise ValueError("end is before start")
            if end == start and _precision(start) == "minute":  # a day may end on its start
                raise ValueError("end equals start")
        return self

    @property
    def precision(self) -> Precision:
        """Year, month, day or minute."""
        return _precision(self.start)

    def describe(self) -> str:
        """As an editor writes it: `2025-08-23`, `2025-08-23 to 2025-08-24`."""
        return self.start if self.end is None else f"{self.start} to {self.end}"


def _precision(value: str) -> Precision:
    """The precision of a value that passed EXACT, by its length."""
    return _BY_LENGTH.get(len(value), "minute")


_BY_LENGTH: dict[int, Precision] = {4: "year", 7: "month", 10: "day"}


@dataclass(frozen=True)
class Timed:
    """Minute precision: aware datetimes in the venue's zone."""

    start: datetime
    end: datetime | None  # None: an instant


@dataclass(frozen=True)
class AllDay:
    """Day precision: the first day and the day after the last (exclusive, as iCalendar's)."""

    first: date
    end_exclusive: date


@dataclass(frozen=True)
class Undated:
    """Month or year precision: "date to be set"; not in the feed."""

    precision: str


When = Timed | AllDay | Undated


@cache  # zoneinfo's own cache keeps only the 8 zones used last
def zone_of(name: str) -> ZoneInfo:
    """The IANA zone by name; ScheduleError if this machine's tz database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{name!r} is not a time zone this server knows") from None


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def place(local: Local, zone: str) -> datetime:
    """A minute value as an aware datetime in `zone`; refuses DST gaps, overlaps, wrong offsets."""
    tz = zone_of(zone)
    year, month, day, hour, minute = local.wall
    early = datetime(year, month, day, hour, minute, tzinfo=tz, fold=0)
    late = early.replace(fold=1)
    wall, first, second = local.text[:16], _offset_text(early.utcoffset()), None
    if early.utcoffset() != late.utcoffset():
        # Two readings: a gap if the wall time does not survive a round trip through UTC,
        # an overlap (it happens twice) if it does.
        back = early.astimezone(UTC).astimezone(tz)
        if (back.day, back.hour, back.minute) != (day, hour, minute):
            raise ScheduleError(f"{wall} does not exist in {zone} (clocks jump forward)")
        second = _offset_text(late.utcoffset())
        if local.offset is None:
            raise ScheduleError(
                f"{wall} happens twice in {zone} (clocks fall back): write {wall}{first} "
                f"for the first or {wall}{second} for the second"
            )
    if local.offset is None or local.offset == first:
        return early
    if local.offset == second:
        return late
    readings = first if second is None else f"{first} or {second}"
    raise ScheduleError(f"{local.text} does not match {zone}, which is at {readings} then")


def resolve(schedule: Schedule, zone: str) -> When:
    """Place a schedule in time; ScheduleError for local times that do not exist or repeat."""
    start = parse_local(schedule.start)
    end = None if schedule.end is None else parse_local(schedule.end)
    if start.precision in ("year", "month"):
        zone_of(zone)
        return Undated(start.precision)
    if start.precision == "day":
        zone_of(zone)
        last = date(*(end or start).wall[:3])
        return AllDay(date(*start.wall[:3]), last + timedelta(days=1))
    begins = place(start, zone)
    if end is None:
        return Timed(begins, None)
    ends = place(end, zone)
    if ends.astimezone(UTC) <= begins.astimezone(UTC):  # a same-zone comparison ignores fold
        raise ScheduleError(f"{end.text} in {zone} is not after {start.text}")
    return Timed(begins, ends)


def utc_bounds(schedule: Schedule, zone: str) -> tuple[datetime | None, datetime | None]:
    """Start and end as aware UTC datetimes for minute precision; (None, None) otherwise."""
    when = resolve(schedule, zone)
    if not isinstance(when, Timed):
        return None, None
    return when.start.astimezone(UTC), None if when.end is None else when.end.astimezone(UTC)


def _after(local: Local) -> Wall:
    """The first wall time after the period a value names."""
    year, month, day, hour, minute = local.wall
    if local.precision == "year":
        return (year + 1, 1, 1, 0, 0)
    if local.precision == "month":
        return (year + 1, 1, 1, 0, 0) if month == 12 else (year, month + 1, 1, 0, 0)
    step = timedelta(days=1) if local.precision == "day" else timedelta(minutes=1)
    later = datetime(year, month, day, hour, minute, tzinfo=UTC) + step
    return (later.year, later.month, later.day, later.hour, later.minute)


def window(schedule: Schedule) -> tuple[Wall, Wall]:
    """The local wall-time interval [lo, hi) a schedule covers."""
    start = parse_local(schedule.start)
    end = None if schedule.end is None else parse_local(schedule.end)
    if start.precision == "minute" and end is not None:
        return start.wall, end.wall
    return start.wall, _after(end or start)


def is_refinement(old: Schedule, new: Schedule) -> bool:
    """Whether `new` lies inside `old`'s window and is narrower or finer."""
    (old_lo, old_hi), (new_lo, new_hi) = window(old), window(new)
    if not (old_lo <= new_lo and new_hi <= old_hi):
        return False
    old_rank, new_rank = _RANK[old.precision], _RANK[new.precision]
    return new_rank > old_rank or (new_rank == old_rank and (new_lo, new_hi) != (old_lo, old_hi))


def sort_instant(schedule: Schedule, zone: str) -> datetime:
    """A UTC instant to order summits by: the start, or local midnight of a coarser window."""
    try:
        when = resolve(schedule, zone)
        tz: ZoneInfo = zone_of(zone)
    except ScheduleError:  # the tz database changed under a recorded time
        when, tz = None, ZoneInfo("UTC")
    if isinstance(when, Timed):
        return when.start.astimezone(UTC)
    return datetime(*window(schedule)[0], tzinfo=tz).astimezone(UTC)
