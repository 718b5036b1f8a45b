"""The schedule grammar of events/schedule.py (its one parser, `parse_local`, and the Schedule
model) agrees with a plain reading of CONTRACT section 3: four precisions, ASCII digits only,
the whole text and nothing after it, years 1900-2200."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from events.schedule import FIRST_YEAR, LAST_YEAR, PATTERN, Schedule, parse_local
from events.schema import field_errors, validate_event

_FORM = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})([+-][0-9]{2}:[0-9]{2})?)?)?)?"
)
PRECISIONS = ("year", "month", "day", "minute")


def reference_parts(value: str) -> tuple[int, tuple[int, ...], str | None] | None:
    """(precision rank, local parts, offset) of a valid value, None for an invalid one."""
    match = _FORM.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, offset = match.groups()
    rank = sum(part is not None for part in (month, day, hour))
    parts = (int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0))
    if not 1900 <= parts[0] <= 2200:
        return None
    try:
        date(*parts[:3])
    except ValueError:
        return None
    if parts[3] > 23 or parts[4] > 59:
        return None
    if offset is not None and (int(offset[1:3]) > 18 or int(offset[4:]) > 59):
        return None
    return rank, parts, offset


def reference_ok(start: str, end: str | None) -> bool:
    """Whether a schedule is valid: each value alone, then the end against the start."""
    first = reference_parts(start)
    if first is None:
        return False
    if end is None:
        return True
    last = reference_parts(end)
    if last is None or last[0] != first[0]:
        return False
    if last[1] != first[1]:
        return last[1] > first[1]
    return first[0] < 3 or first[2] != last[2]  # equal minutes only on two sides of an overlap


def two_digits(top: int) -> st.SearchStrategy[str]:
    return st.integers(0, top).map(lambda n: f"{n:02d}")


years = st.one_of(st.integers(0, 9999), st.integers(1895, 1905), st.integers(2195, 2205))
values = st.one_of(
    st.builds(
        lambda y, m, d, hh, mm, off, cut, tail: f"{y:04d}-{m}-{d}T{hh}:{mm}{off}"[:cut] + tail,
        years,
        two_digits(14),
        two_digits(33),
        two_digits(25),
        two_digits(61),
        st.sampled_from(["", "+09:00", "-05:00", "-04:00", "+19:00", "+05:61"]),
        st.sampled_from([4, 7, 10, 16, 22, 30]),
        st.sampled_from(["", "", "", "\n", " ", "Z", "\u0663"]),
    ),
    st.text(alphabet="0123456789-T:+ \u0663\uff11\u00b2\n", max_size=23),
)


def accepted(start: str, end: str | None) -> bool:
    """Whether the Schedule model takes these values."""
    try:
        Schedule(start=start, end=end)
    except ValidationError:
        return False
    return True


@given(values)
def test_the_parser_reads_what_the_plain_reading_reads(value: str) -> None:
    """Accepted or refused alike; when accepted, the same precision, wall time and offset."""
    expected = reference_parts(value)
    try:
        local = parse_local(value)
    except ValueError as error:
        assert expected is None
        assert str(error)  # refused in words
        return
    assert expected is not None
    rank, parts, offset = expected
    assert (local.precision, local.wall, local.offset, local.text) == (
        PRECISIONS[rank],
        parts,
        offset,
        value,
    )


@given(values, st.one_of(st.none(), values))
def test_the_model_agrees_with_the_plain_reading(start: str, end: str | None) -> None:
    assert accepted(start, end) == reference_ok(start, end)


@given(values)
def test_what_the_parser_accepts_matches_the_published_pattern(value: str) -> None:
    """The OpenAPI pattern is looser (it does not know ranges) but never refuses a valid value."""
    try:
        parse_local(value)
    except ValueError:
        return
    assert re.fullmatch(PATTERN.removeprefix("^").removesuffix("$"), value, re.ASCII)


@given(
    st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)),
    st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)),
    st.times(),
    st.times(),
)
def test_order_follows_the_instants_written(a: date, b: date, x: time, y: time) -> None:
    start, end = f"{a.isoformat()}T{x:%H:%M}", f"{b.isoformat()}T{y:%H:%M}"
    assert accepted(start, end) == (
        (b, y.replace(second=0, microsecond=0)) > (a, x.replace(second=0, microsecond=0))
    )


@pytest.mark.parametrize(
    "value",
    [
        "1900",
        "1900-01",
        "1900-01-01",
        "1900-01-01T00:00",
        "2200",
        "2200-12",
        "2200-12-31",
        "2200-12-31T23:59",
        "2200-12-31T23:59+14:00",
    ],
)
def test_the_first_and_last_supported_years_are_accepted(value: str) -> None:
    assert parse_local(value).wall[0] in (1900, 2200)
    assert Schedule(start=value).start == value


@pytest.mark.parametrize(
    "value",
    ["0001", "1899", "1899-12-31T23:59", "2201", "2201-01-01", "9999-12-31T23:59", "0000"],
)
def test_years_outside_1900_2200_are_refused_in_words(value: str) -> None:
    with pytest.raises(ValueError, match="outside the supported 1900-2200"):
        parse_local(value)
    with pytest.raises(ValidationError) as caught:
        Schedule(start="2025", end=value[:4])
    assert field_errors(caught.value) == [
        ("end", f"year {value[:4]} is outside the supported 1900-2200")
    ]


@pytest.mark.parametrize(
    "value",
    [
        "\u0662\u0660\u0662\u0665",  # Arabic-Indic digits
        "\uff12\uff10\uff12\uff15",  # full-width digits
        "2025-0\u0668",
        "2025-08-2\u0663",
        "2025-08-23T1\u0666:55",
        "2025-08-23T16:55+0\u0669:00",
        "202\u00b2",  # superscript two
        "\U0001d7d0\U0001d7ce\U0001d7d0\U0001d7d3",  # mathematical bold digits
    ],
)
def test_non_ascii_digits_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must be YYYY"):
        parse_local(value)
    assert not accepted(value, None)


@pytest.mark.parametrize(
    "value",
    [
        "2025\n",
        "2025-08\n",
        "2025-08-23\n",
        "2025-08-23T16:55\n",
        "2025-08-23T16:55+09:00\n",
        "2025\r\n",
        " 2025",
        "2025 ",
        "\n2025",
        "2025-08-23T16:55Z",
        "2025-08-23T16:55:00",
    ],
)
def test_nothing_may_follow_or_precede_the_value(value: str) -> None:
    """Not even a final newline (which a `$` would let through)."""
    with pytest.raises(ValueError, match="must be YYYY"):
        parse_local(value)
    assert not accepted(value, None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-13", "month 13 does not exist"),
        ("2025-00-01", "month 0 does not exist"),
        ("2025-02-29", "2025-02-29 is not a calendar date"),
        ("2025-08-23T24:00", "hour must be 00-23 and minute 00-59"),
        ("2025-08-23T16:60", "hour must be 00-23 and minute 00-59"),
        ("2025-08-23T16:55+19:00", "offset out of range"),
        ("2025/08/23", "must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)"),
    ],
)
def test_refusals_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_local(value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "precision", "wall", "offset"),
    [
        ("2025", "year", (2025, 1, 1, 0, 0), None),
        ("2025-08", "month", (2025, 8, 1, 0, 0), None),
        ("2024-02-29", "day", (2024, 2, 29, 0, 0), None),
        ("2025-08-23T00:00", "minute", (2025, 8, 23, 0, 0), None),
        ("2025-11-02T01:30-05:00", "minute", (2025, 11, 2, 1, 30), "-05:00"),
    ],
)
def test_a_value_parses_to_its_precision_wall_time_and_offset(
    value: str, precision: str, wall: tuple[int, ...], offset: str | None
) -> None:
    local = parse_local(value)
    assert (local.precision, local.wall, local.offset) == (precision, wall, offset)
    schedule = Schedule(start=value)
    assert schedule.precision == precision
    assert schedule.describe() == value


def test_a_schedule_describes_itself_and_is_strict() -> None:
    """Start to end as an editor writes it; only strings, no unknown keys."""
    assert Schedule(start="2025-08-23", end="2025-08-24").describe() == "2025-08-23 to 2025-08-24"
    with pytest.raises(ValidationError):
        Schedule(start=2025)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Schedule.model_validate({"start": "2025", "zone": "UTC"})


def _announced(start: str, end: str) -> dict[str, object]:
    return {
        "title": "Grammar summit",
        "kind": "bilateral_summit",
        "participants": [{"name": "Someone", "country": "KR"}],
        "location": {"city": "Seoul", "country": "KR", "timezone": "Asia/Seoul"},
        "schedule": {"start": start, "end": end},
        "status": "confirmed",
    }


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2031-08-02", "2031-08-01", "end is before start"),
        ("2031-08-02T10:00", "2031-08-02T10:00", "end equals start"),
        ("2031-08", "2031-08-02", "end must have the same precision as start"),
    ],
)
def test_order_problems_are_reported_on_the_events_schedule(
    start: str, end: str, message: str
) -> None:
    """Through an event, the problem is named at `schedule`, in words."""
    with pytest.raises(ValidationError) as caught:
        validate_event("SummitAnnounced", _announced(start, end))
    assert field_errors(caught.value) == [("schedule", message)]


def test_one_minute_on_both_sides_of_an_overlap_is_a_schedule() -> None:
    """Equal wall times with different offsets are two instants (the zone decides their order)."""
    assert accepted("2025-11-02T01:30-04:00", "2025-11-02T01:30-05:00")
    assert not accepted("2025-11-02T01:30-04:00", "2025-11-02T01:30-04:00")
