"""VTIMEZONE blocks: yearly RRULE observances that reproduce the tz database in other readers."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from icalendar import Calendar

from calendar_core import vtimezone as vtz_module
from calendar_core.vtimezone import VTimezoneError, observances, vtimezone_bytes

DST_ZONES = (
    "Australia/Lord_Howe",
    "Europe/Berlin",
    "America/New_York",
    "America/Edmonton",
)
FIXED_ZONES = ("Asia/Tokyo", "Asia/Seoul")
ALL_ZONES = (
    *DST_ZONES,
    *FIXED_ZONES,
    "America/Mexico_City",
    "Africa/Casablanca",
    "Pacific/Fiji",
    "Asia/Tehran",
)


def _component(zone: str, first: int, last: int) -> Calendar:
    body = b"BEGIN:VCALENDAR\r\n" + vtimezone_bytes(zone, first, last) + b"END:VCALENDAR\r\n"
    return Calendar.from_ical(body).walk("VTIMEZONE")[0]


@pytest.mark.parametrize("zone", ALL_ZONES)
def test_another_reader_gets_the_tz_database_offsets(zone: str) -> None:
    """dateutil's tzical, reading only our block, agrees with zoneinfo every 7 hours."""
    first, last = 2020, 2029
    text = "BEGIN:VCALENDAR\r\n" + vtimezone_bytes(zone, first, last).decode() + "END:VCALENDAR\r\n"
    theirs = dateutil_tz.tzical(io.StringIO(text)).get(zone)
    ours = ZoneInfo(zone)
    at = datetime(first, 1, 2, tzinfo=UTC)
    checked = 0
    while at < datetime(last, 12, 30, tzinfo=UTC):
        local = at.astimezone(ours)
        wall = local.replace(tzinfo=None)
        early = wall.replace(tzinfo=ours, fold=0).utcoffset()
        late = wall.replace(tzinfo=ours, fold=1).utcoffset()
        if early == late:  # skip the repeated hour: a wall time there names two instants
            assert wall.replace(tzinfo=theirs).utcoffset() == local.utcoffset(), (zone, wall)
            checked += 1
        at += timedelta(hours=7)
    assert checked > 12_000


@pytest.mark.parametrize("zone", DST_ZONES)
def test_dst_zones_have_yearly_rules_outlook_can_read(zone: str) -> None:
    """R7: a STANDARD and a DAYLIGHT, each a YEARLY RRULE with one BYDAY occurrence."""
    component = _component(zone, 2020, 2029)
    assert component["TZID"] == zone
    kinds = {}
    for sub in component.subcomponents:
        rule = sub["RRULE"]
        assert rule["FREQ"] == ["YEARLY"]
        assert len(rule["BYMONTH"]) == 1
        (byday,) = rule["BYDAY"]
        assert re.fullmatch(r"-?[1-5](MO|TU|WE|TH|FR|SA|SU)", str(byday))
        assert "UNTIL" not in rule and "RDATE" not in sub
        kinds[sub.name] = sub
    assert set(kinds) == {"STANDARD", "DAYLIGHT"}


@pytest.mark.parametrize("zone", FIXED_ZONES)
def test_zones_without_dst_get_one_standard(zone: str) -> None:
    component = _component(zone, 2020, 2029)
    assert [sub.name for sub in component.subcomponents] == ["STANDARD"]
    (sub,) = component.subcomponents
    assert sub["TZOFFSETFROM"].td == sub["TZOFFSETTO"].td == timedelta(hours=9)


@pytest.mark.parametrize(
    ("zone", "daylight", "standard"),
    [
        ("Europe/Berlin", "020000", "030000"),
        ("America/New_York", "020000", "020000"),
        ("Australia/Lord_Howe", "020000", "020000"),
    ],
)
def test_dtstart_is_the_wall_time_before_the_change(
    zone: str, daylight: str, standard: str
) -> None:
    """RFC 5545: onset = DTSTART - TZOFFSETFROM, so DTSTART is read on the old clock."""
    text = vtimezone_bytes(zone, 2020, 2029).decode()
    blocks = dict(re.findall(r"BEGIN:(DAYLIGHT|STANDARD)\r\nDTSTART:\d{8}T(\d{6})", text))
    assert blocks == {"DAYLIGHT": daylight, "STANDARD": standard}


def test_lord_howe_changes_by_thirty_minutes_in_the_southern_hemisphere() -> None:
    component = _component("Australia/Lord_Howe", 2020, 2029)
    subs = {sub.name: sub for sub in component.subcomponents}
    assert subs["DAYLIGHT"]["TZOFFSETTO"].td == timedelta(hours=11)
    assert subs["STANDARD"]["TZOFFSETTO"].td == timedelta(hours=10, minutes=30)
    assert subs["DAYLIGHT"]["DTSTART"].dt.month == 10  # spring is in October
    assert subs["STANDARD"]["DTSTART"].dt.month == 4


def test_mexico_city_ends_its_dst_rules_with_until_in_2022() -> None:
    """The 2022 abolition: old rules end with a UTC UNTIL; afterwards only CST."""
    text = vtimezone_bytes("America/Mexico_City", 2020, 2029).decode()
    untils = re.findall(r"UNTIL=(\d{8}T\d{6}Z)", text)
    assert sorted(untils) == ["20220403T080000Z", "20221030T070000Z"]
    found = observances("America/Mexico_City", 2020, 2029)
    assert all(o.until is not None and o.until.year == 2022 for o in found)
    assert found[-1].offset_to == timedelta(hours=-6)


def test_a_range_after_the_change_has_a_single_standard() -> None:
    component = _component("America/Mexico_City", 2024, 2029)
    assert [sub.name for sub in component.subcomponents] == ["STANDARD"]


def test_irregular_zones_fall_back_to_rdates_and_say_so() -> None:
    text = vtimezone_bytes("Africa/Casablanca", 2020, 2029).decode()
    assert "COMMENT:Irregular changes are listed as RDATEs" in text
    assert "RDATE:" in text


def test_blocks_are_built_once_per_zone_and_range() -> None:
    assert vtimezone_bytes("Europe/Berlin", 2020, 2029) is vtimezone_bytes(
        "Europe/Berlin", 2020, 2029
    )


def test_a_zone_that_cannot_be_expressed_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-check is not decorative: when no form reproduces the zone, it refuses."""
    monkeypatch.setattr(vtz_module, "_check", lambda *args: False)
    with pytest.raises(VTimezoneError, match="Europe/Paris"):
        vtz_module.observances.__wrapped__("Europe/Paris", 2020, 2029)


def test_the_self_check_sees_a_wrong_rule() -> None:
    """A rule one week off fails the check against the tz database."""
    window = vtz_module._window(2020, 2029)
    changes = vtz_module.transitions("America/New_York", window[0], window[2])
    good = list(observances("America/New_York", 2020, 2029))
    assert vtz_module._check("America/New_York", good, changes, window)
    bad = [
        o if o.byday != "2SU" else vtz_module.Observance(**{**o.__dict__, "byday": "3SU"})
        for o in good
    ]
    assert not vtz_module._check("America/New_York", bad, changes, window)
