"""A VEVENT is written without building icalendar's component, byte for byte as icalendar
writes it: the same order of properties, escaping, time forms, TZIDs and folding."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Event

from calendar_core.ical import Value, _tzid_parameter, fold, to_ical

ZONES = sorted(zoneinfo.available_timezones())
TEXT_NAMES = ("UID", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS", "TRANSP")
STAMP_NAMES = ("DTSTAMP", "LAST-MODIFIED", "CREATED")


def reference_to_ical(properties: Sequence[tuple[str, Value]]) -> bytes:
    """The same bytes through icalendar's own Event: the reference for `to_ical`."""
    event = Event()
    for name, value in properties:
        event.add(name, value)
    lines = [fold(str(line)) for line in event.content_lines() if line]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _written_as_utc_off_utc(moment: datetime) -> bool:
    """A wall time in a zone icalendar takes as UTC (an alias of UTC today) at a time when
    that zone was not UTC: icalendar writes its digits with a Z, we write the instant."""
    return _tzid_parameter(str(moment.tzinfo)) == "" and moment.utcoffset() != timedelta(0)


text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=200)
uri = text.map(lambda value: value.replace("\n", " "))
wall = st.datetimes(datetime(1900, 1, 2), datetime(2200, 12, 30))
stamps = wall.map(lambda moment: moment.replace(tzinfo=UTC, microsecond=0))
zoned = (
    st.tuples(wall, st.sampled_from(ZONES))
    .map(lambda pair: pair[0].replace(tzinfo=zoneinfo.ZoneInfo(pair[1]), microsecond=0))
    .filter(lambda moment: not _written_as_utc_off_utc(moment))
)
days = st.dates(date(1900, 1, 1), date(2200, 12, 31))


@st.composite
def vevents(draw: st.DrawFn) -> list[tuple[str, Value]]:
    """The properties a summit's VEVENT has, with any values of their kinds, in any order."""
    properties: list[tuple[str, Value]] = [(name, draw(text)) for name in TEXT_NAMES]
    properties += [(name, draw(stamps)) for name in STAMP_NAMES]
    properties += [("SEQUENCE", draw(st.integers(0, 10**6))), ("URL", draw(uri))]
    starts = draw(st.sampled_from(["zoned", "utc", "day"]))
    strategy = {"zoned": zoned, "utc": stamps, "day": days}[starts]
    properties += [("DTSTART", draw(strategy)), ("DTEND", draw(strategy))]
    return draw(st.permutations(properties))


@settings(max_examples=300)
@given(vevents())
def test_a_vevent_is_written_as_icalendar_writes_it(properties: list[tuple[str, Value]]) -> None:
    assert to_ical(properties) == reference_to_ical(properties)


def test_every_zone_gets_the_tzid_icalendar_gives_it() -> None:
    """Zones icalendar takes as UTC are written in UTC; every other one with its TZID."""
    for zone in ZONES:
        moment = datetime(2025, 8, 23, 16, 55, tzinfo=zoneinfo.ZoneInfo(zone))
        properties: list[tuple[str, Value]] = [("DTSTART", moment), ("DTEND", moment)]
        assert to_ical(properties) == reference_to_ical(properties), zone


def test_a_uri_with_a_line_break_is_refused_by_both() -> None:
    properties: list[tuple[str, Value]] = [("URL", "https://example.org/\nX-EVIL:1")]
    with pytest.raises(ValueError, match=r"line break|CR or LF"):
        to_ical(properties)
    with pytest.raises(ValueError, match=r"line break|CR or LF"):
        reference_to_ical(properties)


def test_a_zone_that_was_not_utc_then_is_written_at_its_true_instant() -> None:
    """Africa/Accra is UTC today but was UTC+0:30 in 1946: icalendar writes such a wall time's
    digits with a Z (half an hour off); we write the instant it names."""
    moment = datetime(1946, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo("Africa/Accra"))
    assert _written_as_utc_off_utc(moment)
    assert b"DTSTART:19451231T233000Z" in to_ical([("DTSTART", moment)])
