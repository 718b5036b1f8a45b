"""Schedules: wall time + IANA zone -> instants, DST gaps and overlaps, windows, refinements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from events.schedule import (
    AllDay,
    Schedule,
    ScheduleError,
    Timed,
    Undated,
    is_refinement,
    parse_local,
    resolve,
    sort_instant,
    utc_bounds,
    window,
)
from events.schema import field_errors


def at_offset(wall: str, hours: float) -> datetime:
    """The UTC instant of a wall time at a known fixed offset (computed without the tz database)."""
    local = datetime.fromisoformat(wall).replace(tzinfo=timezone(timedelta(hours=hours)))
    return local.astimezone(UTC)


# (zone, wall time, the zone's UTC offset at that time, from published rules)
KNOWN = [
    ("Asia/Tokyo", "2025-08-23T16:55", 9),
    ("America/New_York", "2025-03-08T12:00", -5),  # the day before spring-forward
    ("America/New_York", "2025-03-10T12:00", -4),  # the day after
    ("America/New_York", "2025-03-09T01:59", -5),  # the last minute before the jump
    ("America/New_York", "2025-03-09T03:00", -4),  # the first minute after
    ("America/New_York", "2025-11-01T12:00", -4),  # before fall-back
    ("America/New_York", "2025-11-03T12:00", -5),  # after
    ("Europe/Berlin", "2025-01-15T10:00", 1),
    ("Europe/Berlin", "2025-06-15T10:00", 2),
    ("America/Edmonton", "2025-01-15T10:00", -7),
    ("America/Edmonton", "2025-06-16T10:00", -6),  # G7 Kananaskis
    ("Australia/Lord_Howe", "2025-07-01T12:00", 10.5),  # standard time: +10:30
    ("Australia/Lord_Howe", "2025-01-15T12:00", 11),  # summer time is only 30 minutes ahead
    ("America/Mexico_City", "2021-07-15T12:00", -5),  # the last summers with DST
    ("America/Mexico_City", "2023-07-15T12:00", -6),  # DST abolished in 2022
]


@pytest.mark.parametrize(("zone", "wall", "hours"), KNOWN)
def test_a_minute_lands_on_the_instant_the_zone_rules_give(
    zone: str, wall: str, hours: float
) -> None:
    start, end = utc_bounds(Schedule(start=wall), zone)
    assert start == at_offset(wall, hours)
    assert end is None


def test_resolve_keeps_the_wall_time_in_the_venue_zone() -> None:
    when = resolve(Schedule(start="2025-08-23T16:55", end="2025-08-23T18:30"), "Asia/Tokyo")
    assert isinstance(when, Timed)
    assert (when.start.hour, when.start.minute) == (16, 55)
    assert str(when.start.tzinfo) == "Asia/Tokyo"
    assert when.end is not None and when.end - when.start == timedelta(minutes=95)


def test_a_range_across_the_spring_forward_is_one_hour_shorter_in_real_time() -> None:
    schedule = Schedule(start="2025-03-09T01:00", end="2025-03-09T04:00")
    start, end = utc_bounds(schedule, "America/New_York")
    assert start == at_offset("2025-03-09T01:00", -5)
    assert end == at_offset("2025-03-09T04:00", -4)
    assert end - start == timedelta(hours=2)


@pytest.mark.parametrize(
    ("zone", "wall"),
    [
        ("America/New_York", "2025-03-09T02:30"),
        ("America/New_York", "2025-03-09T02:00"),
        ("Europe/Berlin", "2025-03-30T02:15"),
        ("Australia/Lord_Howe", "2025-10-05T02:15"),  # 02:00 -> 02:30
        ("America/Edmonton", "2025-03-09T02:59"),
    ],
)
def test_a_time_in_the_spring_forward_gap_is_refused(zone: str, wall: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        resolve(Schedule(start=wall), zone)
    assert str(caught.value) == f"{wall} does not exist in {zone} (clocks jump forward)"


def test_the_gap_message_reads_as_the_desk_expects() -> None:
    with pytest.raises(ScheduleError, match="does not exist"):
        utc_bounds(Schedule(start="2025-03-09T02:30"), "America/New_York")
    message = "2025-03-09T02:30 does not exist in America/New_York (clocks jump forward)"
    with pytest.raises(ScheduleError) as caught:
        resolve(Schedule(start="2025-03-09T02:30"), "America/New_York")
    assert str(caught.value) == message


def test_a_gap_in_the_end_is_refused_too() -> None:
    with pytest.raises(ScheduleError, match="2025-03-30T02:30 does not exist"):
        resolve(Schedule(start="2025-03-30T01:00", end="2025-03-30T02:30"), "Europe/Berlin")


@pytest.mark.parametrize(
    ("zone", "wall", "first", "second"),
    [
        ("America/New_York", "2025-11-02T01:30", -4, -5),
        ("Europe/Berlin", "2025-10-26T02:30", 2, 1),
        ("Australia/Lord_Howe", "2025-04-06T01:45", 11, 10.5),  # 02:00 -> 01:30
    ],
)
def test_an_ambiguous_time_needs_an_offset_that_picks_a_side(
    zone: str, wall: str, first: float, second: float
) -> None:
    with pytest.raises(ScheduleError, match="happens twice"):
        resolve(Schedule(start=wall), zone)

    def offset(hours: float) -> str:
        minutes = round(hours * 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    early, _ = utc_bounds(Schedule(start=wall + offset(first)), zone)
    late, _ = utc_bounds(Schedule(start=wall + offset(second)), zone)
    assert early == at_offset(wall, first)
    assert late == at_offset(wall, second)
    assert early is not None and late is not None and early < late
    with pytest.raises(ScheduleError) as caught:
        resolve(Schedule(start=wall + "+03:00"), zone)
    assert str(caught.value) == (
        f"{wall}+03:00 does not match {zone}, which is at {offset(first)} or {offset(second)} then"
    )


def test_the_ambiguity_message_offers_both_readings() -> None:
    with pytest.raises(ScheduleError) as caught:
        resolve(Schedule(start="2025-11-02T01:30"), "America/New_York")
    text = str(caught.value)
    assert "2025-11-02T01:30-04:00" in text and "2025-11-02T01:30-05:00" in text


def test_an_offset_on_an_unambiguous_time_must_match_the_zone() -> None:
    assert utc_bounds(Schedule(start="2025-07-01T10:00-04:00"), "America/New_York")[0] == at_offset(
        "2025-07-01T10:00", -4
    )
    with pytest.raises(ScheduleError, match="does not match America/New_York"):
        resolve(Schedule(start="2025-07-01T10:00-05:00"), "America/New_York")


def test_an_end_that_is_earlier_in_real_time_is_refused() -> None:
    # Locally 01:40 follows 01:30, but 01:40 EDT (05:40Z) is before 01:30 EST (06:30Z).
    schedule = Schedule(start="2025-11-02T01:30-05:00", end="2025-11-02T01:40-04:00")
    with pytest.raises(ScheduleError, match="not after"):
        resolve(schedule, "America/New_York")


def test_both_readings_of_an_overlap_make_an_hour_long_range() -> None:
    schedule = Schedule(start="2025-11-02T01:30-04:00", end="2025-11-02T01:30-05:00")
    start, end = utc_bounds(schedule, "America/New_York")
    assert start is not None and end is not None and end - start == timedelta(hours=1)


def test_days_are_all_day_with_an_exclusive_end() -> None:
    assert resolve(Schedule(start="2025-08-23"), "Asia/Tokyo") == AllDay(
        date(2025, 8, 23), date(2025, 8, 24)
    )
    assert resolve(Schedule(start="2025-12-31", end="2026-01-01"), "Asia/Tokyo") == AllDay(
        date(2025, 12, 31), date(2026, 1, 2)
    )
    assert utc_bounds(Schedule(start="2025-08-23"), "Asia/Tokyo") == (None, None)


@pytest.mark.parametrize(("start", "precision"), [("2025", "year"), ("2025-08", "month")])
def test_years_and_months_are_undated(start: str, precision: str) -> None:
    assert resolve(Schedule(start=start), "Asia/Tokyo") == Undated(precision)
    assert utc_bounds(Schedule(start=start), "Asia/Tokyo") == (None, None)


def test_a_zone_the_machine_does_not_know_is_a_schedule_error() -> None:
    # The schema refuses unknown zones on input; a stored one that vanished must not crash.
    with pytest.raises(ScheduleError, match="not a time zone"):
        resolve(Schedule(start="2025-08-23T10:00"), "Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("start", "end", "lo", "hi"),
    [
        ("2025", None, (2025, 1, 1, 0, 0), (2026, 1, 1, 0, 0)),
        ("2025-12", None, (2025, 12, 1, 0, 0), (2026, 1, 1, 0, 0)),
        ("2024-02", "2024-03", (2024, 2, 1, 0, 0), (2024, 4, 1, 0, 0)),
        ("2025-08-23", "2025-08-24", (2025, 8, 23, 0, 0), (2025, 8, 25, 0, 0)),
        ("2025-08-23T16:55", None, (2025, 8, 23, 16, 55), (2025, 8, 23, 16, 56)),
        ("2025-12-31T23:59", None, (2025, 12, 31, 23, 59), (2026, 1, 1, 0, 0)),
        ("2025-08-23T16:55", "2025-08-23T18:30", (2025, 8, 23, 16, 55), (2025, 8, 23, 18, 30)),
    ],
)
def test_window_is_the_local_interval_covered(
    start: str, end: str | None, lo: tuple[int, ...], hi: tuple[int, ...]
) -> None:
    assert window(Schedule(start=start, end=end)) == (lo, hi)


def s(start: str, end: str | None = None) -> Schedule:
    return Schedule(start=start, end=end)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (s("2025-08"), s("2025-08-23", "2025-08-24"), True),
        (s("2025-08-23", "2025-08-24"), s("2025-08-23T16:55"), True),
        (s("2025-08-23", "2025-08-24"), s("2025-08-24"), True),
        (s("2025"), s("2025-08"), True),
        (s("2025-08-23"), s("2025-08-23T00:00", "2025-08-24T00:00"), True),  # finer, same span
        (
            s("2025-08-23T10:00", "2025-08-23T12:00"),
            s("2025-08-23T10:30", "2025-08-23T11:00"),
            True,
        ),
        (s("2025-08-23"), s("2025-08-25"), False),  # a move, not a refinement
        (s("2025-08-23"), s("2025-08-23"), False),  # the same again
        (s("2025-08-23T16:55"), s("2025-08-23T16:55"), False),
        (s("2025-08"), s("2025-08-31", "2025-09-01"), False),  # runs past the month
        (s("2025-08-23"), s("2025-08"), False),  # coarser
        (
            s("2025-08-23T10:00", "2025-08-23T12:00"),
            s("2025-08-23T11:00", "2025-08-23T13:00"),
            False,
        ),
    ],
)
def test_is_refinement(old: Schedule, new: Schedule, expected: bool) -> None:
    assert is_refinement(old, new) is expected


@pytest.mark.parametrize("start", ["1900", "1900-01-01", "2200-12", "2200-12-31T23:59"])
def test_the_supported_years_reach_1900_and_2200(start: str) -> None:
    assert Schedule(start=start).start == start
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo"):
        sort_instant(Schedule(start=start), zone)  # computable in any zone


@pytest.mark.parametrize("start", ["0001-01-01", "1899-12-31T23:59", "2201", "9999-12-31"])
def test_years_outside_1900_to_2200_are_refused(start: str) -> None:
    with pytest.raises(ValueError, match="outside the supported 1900-2200"):
        parse_local(start)
    with pytest.raises(ValidationError) as refused:
        Schedule(start=start)
    assert "outside the supported 1900-2200" in field_errors(refused.value)[0][1]


def test_parse_local_reads_precision_wall_and_offset() -> None:
    local = parse_local("2025-11-02T01:30-05:00")
    assert (local.precision, local.wall, local.offset) == ("minute", (2025, 11, 2, 1, 30), "-05:00")
    assert parse_local("2025-08").wall == (2025, 8, 1, 0, 0)
    assert Schedule(start="2025-08-23T16:55").precision == "minute"
    assert Schedule(start="2025-08-23", end="2025-08-24").describe() == "2025-08-23 to 2025-08-24"
