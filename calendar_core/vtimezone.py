"""Outlook-safe VTIMEZONE blocks (yearly RRULE observances) derived from the tz database."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

__all__ = [
    "Observance",
    "Transition",
    "VTimezoneError",
    "observances",
    "transitions",
    "vtimezone",
    "vtimezone_bytes",
]

# Scan step: no zone in the tz database changes its offset and back within a week (the
# shortest gaps are Morocco's month-long Ramadan pauses).
_STEP = timedelta(days=7)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class VTimezoneError(ValueError):
    """A zone whose transitions the generated VTIMEZONE does not reproduce."""


@dataclass(frozen=True)
class Transition:
    """One change of UTC offset, as the tz database has it."""

    instant: datetime  # aware, UTC
    offset_from: timedelta
    offset_to: timedelta
    is_dst: bool  # daylight saving time after the change
    name: str  # abbreviation after the change

    @property
    def wall_before(self) -> datetime:
        """The local wall time just before the change (RFC 5545 observance DTSTART, naive)."""
        return (self.instant + self.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class Observance:
    """A STANDARD or DAYLIGHT subcomponent: a start, then a yearly rule or a list of dates."""

    is_dst: bool
    offset_from: timedelta
    offset_to: timedelta
    name: str
    start: datetime  # naive wall time before the first onset
    month: int | None = None  # yearly rule: BYMONTH
    byday: str | None = None  # yearly rule: one occurrence such as "2SU" or "-1SU"
    until: datetime | None = None  # aware UTC onset of the rule's last occurrence
    rdates: tuple[datetime, ...] = ()  # further onsets (naive wall time before each)

    def onsets(self, end: datetime) -> list[tuple[datetime, timedelta]]:
        """Every (UTC onset, offset after) this observance implies up to `end` (aware UTC)."""
        walls = [self.start, *self.rdates]
        if self.month is not None and self.byday is not None:
            walls = []
            for year in range(self.start.year, end.year + 1):
                day = _nth_weekday(year, self.month, self.byday)
                wall = self.start.replace(year=day.year, month=day.month, day=day.day)
                if wall < self.start:
                    continue
                if self.until is not None and _utc(wall, self.offset_from) > self.until:
                    break
                walls.append(wall)
        found = [(_utc(wall, self.offset_from), self.offset_to) for wall in walls]
        return [item for item in found if item[0] <= end]


def _utc(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _nth_weekday(year: int, month: int, byday: str) -> date:
    """The date a single-occurrence BYDAY value (like "-1SU" or "2SU") names in a month."""
    weekday = _WEEKDAYS.index(byday[-2:])
    nth = int(byday[:-2])
    days = _calendar.monthrange(year, month)[1]
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, days)
    return last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-nth - 1))


def _clock(wall: datetime) -> tuple[int, int, int]:
    """Hour, minute and second of a wall time."""
    return wall.hour, wall.minute, wall.second


def _bydays(day: date) -> set[str]:
    """The BYDAY values that name this day within its month."""
    code = _WEEKDAYS[day.weekday()]
    found = {f"{(day.day - 1) // 7 + 1}{code}"}
    if day.day + 7 > _calendar.monthrange(day.year, day.month)[1]:
        found.add(f"-1{code}")
    return found


def transitions(zone: str, start: datetime, end: datetime) -> list[Transition]:
    """Every offset change of `zone` in [start, end) (aware datetimes), to the second."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> timedelta:
        value = at.astimezone(tz).utcoffset()
        assert value is not None
        return value

    found: list[Transition] = []
    at, current = start, offset(start)
    while at < end:
        nxt = min(at + _STEP, end)
        after = offset(nxt)
        if after != current:
            low, high = int(at.timestamp()), int(nxt.timestamp())
            while high - low > 1:
                mid = (low + high) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == current:
                    low = mid
                else:
                    high = mid
            instant = datetime.fromtimestamp(high, UTC)
            local = instant.astimezone(tz)
            found.append(
                Transition(
                    instant=instant,
                    offset_from=current,
                    offset_to=offset(instant),
                    is_dst=bool(local.dst()),
                    name=local.tzname() or "",
                )
            )
            current = offset(instant)
            if current != after:  # a second change within the step: look again from here
                nxt = instant
        at = nxt
    return found


def _window(first_year: int, last_year: int) -> tuple[datetime, datetime, datetime]:
    """Scan from a year before the range to a year after it; check from the range's start."""
    scan_start = datetime(first_year - 1, 1, 1, tzinfo=UTC)
    check_start = datetime(first_year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    scan_end = datetime(last_year + 2, 1, 1, tzinfo=UTC)
    return scan_start, check_start, scan_end


def _leading(zone: str, at: datetime) -> Observance:
    """The state at the start of the scan, for zones with no change before the range."""
    local = at.astimezone(ZoneInfo(zone))
    offset = local.utcoffset()
    assert offset is not None
    return Observance(
        is_dst=bool(local.dst()),
        offset_from=offset,
        offset_to=offset,
        name=local.tzname() or "",
        start=datetime(local.year, 1, 1),
    )


def _rule_observances(changes: list[Transition], last_year: int) -> list[Observance]:
    """Group changes into yearly rules over consecutive years; leftovers become RDATE lists."""
    runs: list[tuple[list[Transition], set[str]]] = []
    for change in changes:
        wall = change.wall_before
        key = (change.is_dst, change.offset_from, change.offset_to, change.name)
        candidates = _bydays(wall.date())
        for run, days in reversed(runs):
            head, tail = run[0], run[-1]
            if (
                (head.is_dst, head.offset_from, head.offset_to, head.name) == key
                and tail.wall_before.year == wall.year - 1
                and tail.wall_before.month == wall.month
                and _clock(tail.wall_before) == _clock(wall)
                and days & candidates
            ):
                run.append(change)
                days &= candidates
                break
        else:
            runs.append(([change], candidates))
    result: list[Observance] = []
    singles: dict[tuple[bool, timedelta, timedelta, str], list[Transition]] = {}
    for run, days in runs:
        head, tail = run[0], run[-1]
        if len(run) < 2:
            key = (head.is_dst, head.offset_from, head.offset_to, head.name)
            singles.setdefault(key, []).append(head)
            continue
        open_ended = tail.wall_before.year >= last_year + 1
        result.append(
            Observance(
                is_dst=head.is_dst,
                offset_from=head.offset_from,
                offset_to=head.offset_to,
                name=head.name,
                start=head.wall_before,
                month=head.wall_before.month,
                byday=min(days, key=lambda d: (not d.startswith("-"), d)),
                until=None if open_ended else _until(tail),
            )
        )
    result.extend(_rdate_observances(singles))
    return result


def _until(last: Transition) -> datetime:
    """UNTIL for a rule whose last occurrence is `last`: in UTC, as RFC 5545 requires.

    East of Greenwich the UTC onset is earlier than the wall time on the same date, and some
    readers (dateutil, hence vobject) compare UNTIL with the wall time as if both were UTC,
    dropping the last occurrence. The later of the two readings includes it either way and
    is still months before the next year's occurrence.
    """
    return max(last.instant, last.wall_before.replace(tzinfo=UTC))


def _rdate_observances(
    groups: dict[tuple[bool, timedelta, timedelta, str], list[Transition]],
) -> list[Observance]:
    return [
        Observance(
            is_dst=is_dst,
            offset_from=offset_from,
            offset_to=offset_to,
            name=name,
            start=items[0].wall_before,
            rdates=tuple(item.wall_before for item in items[1:]),
        )
        for (is_dst, offset_from, offset_to, name), items in groups.items()
    ]


def _check(
    zone: str, found: list[Observance], changes: list[Transition], window: tuple[datetime, ...]
) -> bool:
    """True when the observances imply exactly the tz database's offsets over the range."""
    _, check_start, scan_end = window
    onsets = sorted(item for obs in found for item in obs.onsets(scan_end) if item[0] < scan_end)
    before = [item for item in onsets if item[0] <= check_start]
    expected_now = check_start.astimezone(ZoneInfo(zone)).utcoffset()
    if not before or before[-1][1] != expected_now:
        return False
    implied = [item for item in onsets if item[0] > check_start]
    actual = [(c.instant, c.offset_to) for c in changes if c.instant > check_start]
    return implied == actual


@lru_cache(maxsize=512)
def observances(zone: str, first_year: int, last_year: int) -> tuple[Observance, ...]:
    """The observances for `zone`, correct for every instant of first_year..last_year."""
    window = _window(first_year, last_year)
    scan_start, check_start, scan_end = window
    changes = transitions(zone, scan_start, scan_end)
    lead = [] if any(c.instant <= check_start for c in changes) else [_leading(zone, scan_start)]
    found = lead + _rule_observances(changes, last_year)
    if not _check(zone, found, changes, window):
        # Irregular zone (no yearly rule fits): list every change as an RDATE.
        found = lead + _rdate_observances(_group_all(changes))
    if _check(zone, found, changes, window):
        return tuple(sorted(found, key=lambda o: (o.start, o.is_dst, o.rdates)))
    raise VTimezoneError(f"{zone}: cannot express its {first_year}-{last_year} offsets")


def _group_all(
    changes: list[Transition],
) -> dict[tuple[bool, timedelta, timedelta, str], list[Transition]]:
    groups: dict[tuple[bool, timedelta, timedelta, str], list[Transition]] = {}
    for change in changes:
        key = (change.is_dst, change.offset_from, change.offset_to, change.name)
        groups.setdefault(key, []).append(change)
    return groups


def vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE component for `zone` (TZID = the IANA name) covering the years given."""
    found = observances(zone, first_year, last_year)
    component = Timezone()
    component.add("TZID", zone)
    if any(obs.rdates or (obs.month is None and obs.offset_from != obs.offset_to) for obs in found):
        component.add(
            "COMMENT", "Irregular changes are listed as RDATEs: they follow no yearly rule"
        )
    for obs in found:
        sub = TimezoneDaylight() if obs.is_dst else TimezoneStandard()
        sub.add("DTSTART", obs.start)
        if obs.month is not None:
            rule: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": obs.month, "BYDAY": obs.byday}
            if obs.until is not None:
                rule["UNTIL"] = obs.until
            sub.add("RRULE", rule)
        if obs.rdates:
            # DTSTART repeated as an RDATE: RFC 5545 counts it once, and ical.js ignores
            # DTSTART in an observance that has RDATEs.
            for rdate in (obs.start, *obs.rdates):
                sub.add("RDATE", rdate)
        sub.add("TZOFFSETFROM", obs.offset_from)
        sub.add("TZOFFSETTO", obs.offset_to)
        if obs.name:
            sub.add("TZNAME", obs.name)
        component.add_component(sub)
    return component


@lru_cache(maxsize=512)
def vtimezone_bytes(zone: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE block's bytes (CRLF lines), built once per zone and year range."""
    return bytes(vtimezone(zone, first_year, last_year).to_ical())
