"""The feed at byte level: what lenient parsers let through (CRLF, folding, UTC stamps...)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zoneinfo
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar
from icalendar.parser.string import _foldline
from interop.feedcases import (
    OPTIONS,
    TRICKY_TITLE,
    generated_summits,
    interop_summits,
    render,
    repeated_runs,
)

from calendar_core import ical
from calendar_core.ical import DEFAULT_LENGTH, FeedRenderer, end_not_announced, fold
from calendar_core.meaning import summary
from calendar_core.summit import Status
from events.schema import KINDS, validate_event


@pytest.fixture(scope="module")
def body() -> bytes:
    return render(interop_summits() + generated_summits(40))


def _unfolded(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def _events(body: bytes) -> dict[str, list[str]]:
    """Unfolded content lines of each VEVENT, keyed by UID."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _unfolded(body):
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT" and current is not None:
            uid = next(x for x in current if x.startswith("UID:"))[4:]
            found[uid] = current
            current = None
        elif current is not None:
            current.append(line)
    return found


def _prop(lines: list[str], name: str) -> str:
    return next(line for line in lines if re.match(rf"{name}[;:]", line))


def test_crlf_only_and_no_bom(body: bytes) -> None:
    assert not body.startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert body.count(b"\n") == body.count(b"\r\n") == body.count(b"\r")


def test_lines_fit_75_octets_and_each_decodes_alone(body: bytes) -> None:
    lines = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # raises if a fold split a multi-octet character
    assert any(len(line) > 70 for line in lines), "nothing long enough to fold was tested"
    assert sum(1 for line in lines if line.startswith(b" ")) > 10


def test_one_calendar_with_its_properties_before_any_component(body: bytes) -> None:
    lines = _unfolded(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VCALENDAR") == 1
    head = lines[1 : lines.index("BEGIN:VTIMEZONE")]
    assert {
        "VERSION:2.0",
        f"PRODID:{OPTIONS.prodid}",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Summits",
        "NAME:Summits",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
        "LAST-MODIFIED:20250701T093000Z",
    } <= set(head)
    assert any(line.startswith("X-WR-CALDESC:") for line in head)
    # vdirsyncer's http storage takes a file's first UID: line as every item's id: a
    # calendar-level UID (RFC 7986) would collapse the feed into one item.
    assert not any(line.startswith(("UID:", "UID;")) for line in head)
    assert all(not line.startswith(("BEGIN:", "END:")) for line in head)
    assert not any(line.startswith("METHOD") for line in lines)


def test_vtimezones_come_first_sorted_by_tzid_and_cover_every_tzid(body: bytes) -> None:
    lines = _unfolded(body)
    tzids = [line[5:] for line in lines if line.startswith("TZID:")]
    assert tzids == sorted(tzids) and len(tzids) == len(set(tzids))
    last_vtimezone = max(i for i, line in enumerate(lines) if line == "END:VTIMEZONE")
    assert last_vtimezone < lines.index("BEGIN:VEVENT")
    used = set(re.findall(r";TZID=([^:;]+)", "\n".join(lines)))
    assert used == set(tzids)
    assert Calendar.from_ical(body).get_missing_tzids() == set()
    names = zoneinfo.available_timezones()
    assert all(tzid in names and "/" in tzid for tzid in used)  # IANA, never "+09:00"


def test_every_stamp_is_utc_and_no_time_floats(body: bytes) -> None:
    for uid, lines in _events(body).items():
        for name in ("DTSTAMP", "LAST-MODIFIED", "CREATED"):
            assert re.fullmatch(rf"{name}:\d{{8}}T\d{{6}}Z", _prop(lines, name)), uid
        assert _prop(lines, "DTSTAMP")[8:] == _prop(lines, "LAST-MODIFIED")[14:]
        for line in lines:
            if line.startswith(("DTSTART", "DTEND")):
                assert re.fullmatch(
                    r"DT(START|END)(;VALUE=DATE:\d{8}|;TZID=[A-Za-z_/]+:\d{8}T\d{6}|:\d{8}T\d{6}Z)",
                    line,
                ), line


def test_all_day_end_is_exclusive(body: bytes) -> None:
    visit = _events(body)["state-visit-aug@diplocal.example"]
    assert "DTSTART;VALUE=DATE:20250823" in visit
    assert "DTEND;VALUE=DATE:20250825" in visit
    for uid, lines in _events(body).items():
        start = _prop(lines, "DTSTART")
        if "VALUE=DATE" in start:
            assert _prop(lines, "DTEND")[-8:] > start[-8:], uid


def test_minute_times_carry_the_venue_zone(body: bytes) -> None:
    events = _events(body)
    tokyo = events["tokyo-2025@diplocal.example"]
    assert "DTSTART;TZID=Asia/Tokyo:20250823T165500" in tokyo
    assert "DTEND;TZID=Asia/Tokyo:20250823T180000" in tokyo


def test_every_timed_event_has_an_end_after_its_start(body: bytes) -> None:
    """Clients read a missing DTEND as 0 minutes, one hour or a day: the feed always writes one."""
    timed = 0
    for event in Calendar.from_ical(body).walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert "DTEND" in event and "DURATION" not in event, event["UID"]
        if isinstance(start, datetime):
            timed += 1
            assert event.decoded("DTEND") > start, event["UID"]
    assert timed > 20


@pytest.mark.parametrize(
    "summit_id", ["ny-after-fallback", "ny-instant-fallback", "berlin-instant-spring"]
)
def test_an_instant_is_shown_for_its_kinds_default_length(summit_id: str) -> None:
    """Start + DEFAULT_LENGTH[kind] of elapsed time, across DST changes too; DESCRIPTION says so."""
    summit = next(s for s in interop_summits() if s.summit_id == summit_id)
    assert summit.schedule.end is None
    event = Calendar.from_ical(FeedRenderer(OPTIONS).single(summit)).walk("VEVENT")[0]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    length = DEFAULT_LENGTH[summit.kind]
    assert end.astimezone(UTC) - start.astimezone(UTC) == length
    hours = int(length.total_seconds() // 3600)
    note = f"End not announced; shown as {hours} hour{'s' if hours > 1 else ''}"
    assert str(event["DESCRIPTION"]).split("\n")[1] == note


def test_an_instant_ending_in_a_repeated_hour_ends_in_utc(body: bytes) -> None:
    """00:30 EDT + 2 hours is the second 01:30 of the night: only UTC names it."""
    lines = _events(body)["ny-instant-fallback@diplocal.example"]
    assert "DTSTART;TZID=America/New_York:20251102T003000" in lines
    assert "DTEND:20251102T063000Z" in lines


def test_only_an_unannounced_end_is_called_unannounced(body: bytes) -> None:
    summits = interop_summits() + generated_summits(40)
    by_uid = {f"{s.summit_id}@{OPTIONS.uid_domain}": s.schedule for s in summits}
    told = 0
    for uid, lines in _events(body).items():
        schedule = by_uid[uid]
        unannounced = "T" in schedule.start and schedule.end is None
        assert ("End not announced" in _prop(lines, "DESCRIPTION")) == unannounced, uid
        told += unannounced
    assert told >= 4


def test_every_kind_has_a_default_length() -> None:
    assert set(DEFAULT_LENGTH) == set(KINDS)
    assert all(timedelta(0) < length <= timedelta(hours=12) for length in DEFAULT_LENGTH.values())
    assert end_not_announced("bilateral_summit") == "End not announced; shown as 2 hours"
    assert end_not_announced("sideline_meeting") == "End not announced; shown as 1 hour"


def test_the_second_reading_of_a_repeated_hour_is_written_in_utc(body: bytes) -> None:
    """RFC 5545 reads an ambiguous wall time as its first occurrence; ours is the second."""
    lines = _events(body)["ny-repeated-hour@diplocal.example"]
    assert "DTSTART:20251102T063000Z" in lines
    assert "DTEND;TZID=America/New_York:20251102T030000" in lines


def test_text_is_escaped_and_round_trips(body: bytes) -> None:
    tokyo = _events(body)["tokyo-2025@diplocal.example"]
    summary = _prop(tokyo, "SUMMARY")
    assert summary == (
        "SUMMARY:Lee\u2013Ishiba\\; trade\\, chips \\\\ security\\nday two "
        "🇰🇷🤝🇯🇵 이재명 대통령 石破茂首相 会談"
    )
    parsed = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    event = parsed["tokyo-2025@diplocal.example"]
    assert str(event["SUMMARY"]) == TRICKY_TITLE
    assert "Talks on trade; security, and the \\ path\nSecond line." in str(event["DESCRIPTION"])
    assert not any("\r" in line or "\n" in line for line in _unfolded(body))


def test_status_summary_and_membership() -> None:
    summits = {s.summit_id: s for s in interop_summits()}
    events = _events(render(list(summits.values())))
    assert "month-only@diplocal.example" not in events
    assert "retracted@diplocal.example" not in events
    want = {
        "berlin-spring": ("CANCELLED", "Cancelled: "),
        "berlin-autumn": ("CANCELLED", "Postponed: "),
        "ny-after-fallback": ("TENTATIVE", ""),
        "edmonton-g7": ("CONFIRMED", ""),
        "tokyo-2025": ("CONFIRMED", ""),
    }
    for summit_id, (status, prefix) in want.items():
        lines = events[f"{summit_id}@diplocal.example"]
        assert f"STATUS:{status}" in lines
        assert f"SUMMARY:{prefix}{summits[summit_id].title}" in lines or summit_id == "tokyo-2025"
        assert f"SEQUENCE:{summits[summit_id].sequence}" in lines
        assert "TRANSP:TRANSPARENT" in lines
        assert f"URL:https://diplocal.example/summits/{summit_id}" in lines


def test_description_and_location_tell_the_story() -> None:
    summit = replace(interop_summits()[0], disputed=True, status=Status.CANCELLED)
    event = Calendar.from_ical(FeedRenderer(OPTIONS).single(summit)).walk("VEVENT")[0]
    text = str(event["DESCRIPTION"])
    assert "Status: cancelled (disputed)" in text
    assert "Lee Jae Myung (President, South Korea)" in text
    assert "Announced, with a comma, and a; semicolon" in text
    assert "Yonhap: https://example.org/report" in text
    assert str(event["LOCATION"]) == "Somewhere, Japan"


def test_single_event_file_has_no_calendar_name() -> None:
    """O7: Outlook opens a file with X-WR-CALNAME as a new calendar, not an event."""
    body = FeedRenderer(OPTIONS).single(interop_summits()[1])
    text = body.decode()
    for name in ("X-WR-CALNAME", "NAME:", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "METHOD"):
        assert f"\r\n{name}" not in text
    assert text.count("BEGIN:VEVENT") == 1
    assert Calendar.from_ical(body).get_missing_tzids() == set()
    assert "TZID:America/New_York" in text


def test_same_input_same_bytes_and_one_render_per_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = ical.render_vevent

    def counting(summit: object, options: object) -> object:
        calls.append(summit.summit_id)  # type: ignore[attr-defined]
        return real(summit, options)  # type: ignore[arg-type]

    monkeypatch.setattr(ical, "render_vevent", counting)
    summits = generated_summits(30)
    renderer = FeedRenderer(OPTIONS)
    first = renderer.feed(summits, last_modified="2025-07-01T09:30:00Z")
    assert len(calls) == 30
    assert renderer.feed(summits, last_modified="2025-07-01T09:30:00Z") == first
    assert len(calls) == 30
    changed = replace(summits[7], version=summits[7].version + 1, title="Renamed", sequence=9)
    summits[7] = changed
    after = renderer.feed(summits, last_modified="2025-07-02T00:00:00Z")
    assert calls[30:] == [changed.summit_id]
    assert after == FeedRenderer(OPTIONS).feed(summits, last_modified="2025-07-02T00:00:00Z")
    assert re.search(rb"\r\nSUMMARY:(\w+: )?Renamed\r\n", after) and after != first


_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from interop.feedcases import generated_summits, interop_summits, render
print(hashlib.sha256(render(interop_summits() + generated_summits(60))).hexdigest())
"""


def test_bytes_do_not_depend_on_the_hash_seed() -> None:
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digests = set()
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT, tests_dir],
            capture_output=True,
            check=True,
            env=env,
            timeout=120,
        )
        digests.add(out.stdout.strip().decode())
    here = hashlib.sha256(render(interop_summits() + generated_summits(60))).hexdigest()
    assert digests == {here}


@given(st.text(alphabet=st.sampled_from("ab ;,\\^:é이😀"), max_size=400))
def test_fast_fold_is_icalendars_fold(line: str) -> None:
    """The renderer's ASCII fast path folds exactly as icalendar's to_ical would."""
    assert fold(line) == _foldline(line)


def test_feed_without_log_or_summits_is_still_one_calendar() -> None:
    """An empty log: no LAST-MODIFIED, no VTIMEZONE, the calendar properties still there."""
    body = FeedRenderer(OPTIONS).feed([], last_modified=None)
    lines = _unfolded(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "X-WR-CALNAME:Summits" in lines
    assert not any(line.startswith(("LAST-MODIFIED", "BEGIN:V")) for line in lines[1:])


_LONG = (
    "Held at the prime minister's residence on Aug. 23. The two sides issued their first joint "
    "press statement in 17 years, agreed to resume shuttle diplomacy, to cooperate in fields "
    "such as hydrogen and artificial intelligence, and to set up a consultative body."
)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"outcome": _LONG}, "Held; outcome recorded"),
        ({"outcome": "Joint statement\nsigned."}, "Held; outcome recorded"),
        (
            {"outcome": _LONG, "schedule": {"start": "2025-08-23"}},
            "Held 2025-08-23; outcome recorded",
        ),
        ({}, "Held"),
    ],
)
def test_description_says_the_outcome_once(data: dict[str, Any], said: str) -> None:
    """ "Held: Held at..." then "Outcome: Held at...": the change line keeps only its head."""
    base = interop_summits()[0]
    change = replace(
        base.last_change,
        type="SummitCompleted",
        summary=summary(validate_event("SummitCompleted", data)),
    )
    completed = replace(
        base, status=Status.COMPLETED, outcome=data.get("outcome"), last_change=change
    )
    event = Calendar.from_ical(FeedRenderer(OPTIONS).single(completed)).walk("VEVENT")[0]
    text = str(event["DESCRIPTION"])
    assert f"Latest change (2025-07-01): {said}\n" in text
    if "outcome" in data:
        assert text.endswith(f"Outcome: {data['outcome']}")
    assert repeated_runs(text) == []


def test_description_keeps_a_change_said_nowhere_else() -> None:
    """A note, or a summary that merely starts like the description, stays in full."""
    base = interop_summits()[0]
    assert base.description is not None
    for line in (
        summary(
            validate_event("SummitNoted", {"note": "Both foreign ministries confirmed the date."})
        ),
        f"Noted: {base.description[:20]}",
    ):
        note = replace(base, last_change=replace(base.last_change, summary=line))
        text = str(
            Calendar.from_ical(FeedRenderer(OPTIONS).single(note)).walk("VEVENT")[0]["DESCRIPTION"]
        )
        assert f"Latest change (2025-07-01): {line}\n" in text
