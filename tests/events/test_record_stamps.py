"""`format_stamp` writes every aware instant in the one UTC form and `parse_stamp` reads it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.record import format_stamp, parse_stamp

ZONES = st.sampled_from(
    [UTC, ZoneInfo("UTC"), ZoneInfo("Asia/Seoul"), ZoneInfo("America/New_York")]
    + [timezone(timedelta(minutes=m)) for m in (-570, -300, 0, 345, 840)]
)
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9998, 12, 30), timezones=ZONES
)


@given(INSTANTS)
def test_a_stamp_is_the_utc_wall_time_with_z_and_reads_back(instant: datetime) -> None:
    utc = instant.astimezone(UTC)
    text = format_stamp(instant)
    assert text == utc.replace(tzinfo=None).isoformat() + "Z"
    assert parse_stamp(text) == utc  # (== instant is False for fold-ambiguous wall times)
    assert parse_stamp(text).utcoffset() == timedelta(0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_stamp(datetime(2025, 6, 1, 12, 0))


def test_stamps_of_one_second_share_its_text_and_keep_their_fractions() -> None:
    """Stamps within one second differ only in their fraction; a whole second has none."""
    second = datetime(2025, 8, 25, 13, 59, 59, tzinfo=UTC)
    stamps = [format_stamp(second + timedelta(microseconds=us)) for us in (0, 7, 999_999, 0)]
    assert stamps == [
        "2025-08-25T13:59:59Z",
        "2025-08-25T13:59:59.000007Z",
        "2025-08-25T13:59:59.999999Z",
        "2025-08-25T13:59:59Z",
    ]
    assert format_stamp(second + timedelta(seconds=1)) == "2025-08-25T14:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-01T00:00:00",
        "2025-06-01T00:00:00+00:00",
        "2025-06-01T00:00:00.5Z",
        "2025-06-01 00:00:00Z",
        "2025-06-01T00:00:00z",
        "2025-06-01T00:00:00Z\n",
        "\u0662025-06-01T00:00:00Z",
        "2025-06-01T00:00:60Z",
        "2025-13-01T00:00:00Z",
    ],
)
def test_only_the_exact_utc_form_is_read(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stamp(text)
