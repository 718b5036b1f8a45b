"""The schedule checks (written for speed) agree with a plain reading of CONTRACT section 3."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from events.schema import Location, Schedule, Source, _local_problem, field_errors

_FORM = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})([+-]\d{2}:\d{2})?)?)?)?", re.ASCII
)


def reference_parts(value: str) -> tuple[int, tuple[int, ...], str | None] | None:
    """(precision rank, local parts, offset) of a valid value, None for an invalid one."""
    match = _FORM.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, offset = match.groups()
    rank = sum(part is not None for part in (month, day, hour))
    parts = (int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0))
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


values = st.one_of(
    st.builds(
        lambda y, m, d, hh, mm, off, cut: f"{y:04d}-{m}-{d}T{hh}:{mm}{off}"[:cut],
        st.integers(0, 9999),
        two_digits(14),
        two_digits(33),
        two_digits(25),
        two_digits(61),
        st.sampled_from(["", "+09:00", "-05:00", "-04:00", "+19:00", "+05:61"]),
        st.sampled_from([4, 7, 10, 16, 22, 30]),
    ),
    st.text(alphabet="0123456789-T:+ ٣\n", max_size=23),
)


def accepted(start: str, end: str | None) -> bool:
    """Whether the Schedule model takes these values."""
    try:
        Schedule(start=start, end=end)
    except ValidationError:
        return False
    return True


@given(values, st.one_of(st.none(), values))
def test_the_fast_checks_agree_with_the_plain_reading(start: str, end: str | None) -> None:
    assert accepted(start, end) == reference_ok(start, end)


@given(st.dates(), st.dates(), st.times(), st.times())
def test_order_follows_the_instants_written(a: date, b: date, x: time, y: time) -> None:
    start, end = f"{a.isoformat()}T{x:%H:%M}", f"{b.isoformat()}T{y:%H:%M}"
    assert accepted(start, end) == (
        (b, y.replace(second=0, microsecond=0)) > (a, x.replace(second=0, microsecond=0))
    )


@given(values)
def test_the_pattern_and_the_worded_check_agree(value: str) -> None:
    """pydantic-core's regex accepts exactly what `_local_problem` finds nothing wrong with,
    and a refusal is worded by it."""
    try:
        Schedule(start=value)
    except ValidationError as error:
        assert field_errors(error) == [("start", _local_problem(value))]
    else:
        assert _local_problem(value) is None


def test_checks_made_in_pydantic_core_are_worded_with_the_value() -> None:
    """Country, zone and URL checks run without Python, yet name the bad value and field."""
    with pytest.raises(ValidationError) as caught:
        Location(country="XX", timezone="Mars/Olympus")
    assert field_errors(caught.value) == [
        ("country", "'XX' is not an ISO 3166-1 alpha-2 country code (like 'KR')"),
        ("timezone", "'Mars/Olympus' is not an IANA time zone of a place (like 'Asia/Tokyo')"),
    ]
    for url in ("ftp://example.org/x", "https://localhost/x", "https://a.b/" + "x" * 2040):
        with pytest.raises(ValidationError) as caught:
            Source(url=url)
        assert field_errors(caught.value) == [("url", "must be an absolute http(s) URL")]
    assert Source(url="HTTPS://www.mofa.go.jp/a/b?c=1#d").url.startswith("HTTPS://")
    assert Location(country="KR", timezone="Asia/Seoul").timezone == "Asia/Seoul"
