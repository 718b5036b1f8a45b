"""The bundled demo log: valid, sourced, in time order, and importable under the calendar rules."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from calendar_core.demo import demo_lines
from calendar_core.point import Point, position_of
from calendar_core.projection import build
from calendar_core.query import summit_json
from calendar_core.service import ImportCheck
from events import Draft, EventIdTaken, EventStore, FixedClock, NewEvent, open_store, parse_stamp
from events.schedule import Schedule, parse_local

IMPORT_KEYS = {"summit_id", "type", "data", "event_id", "recorded_by", "recorded_at"}


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in demo_lines()]


def _new(row: dict[str, Any]) -> NewEvent:
    return NewEvent.of(
        row["summit_id"],
        row["type"],
        row["data"],
        event_id=row["event_id"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
    )


def _drafts() -> Iterator[Draft]:
    for row in _rows():
        yield _new(row).draft


def _imported(store: EventStore) -> EventStore:
    """The store with the demo log imported as the file says (no rule checks)."""
    assert store.import_events(_drafts(), expected_head=0) == len(_rows())
    return store


def _clock_after_last() -> FixedClock:
    last = max(parse_stamp(row["recorded_at"]) for row in _rows())
    return FixedClock(last + timedelta(hours=1))


def _japan_visit_id() -> str:
    """The summit announced with a two-day window in Asia/Tokyo (found from the file)."""
    for row in _rows():
        data = row["data"]
        if (
            row["type"] == "SummitAnnounced"
            and data["location"]["timezone"] == "Asia/Tokyo"
            and data["schedule"].get("end") not in (None, data["schedule"]["start"])
        ):
            return str(row["summit_id"])
    raise AssertionError("no multi-day Tokyo visit in the demo log")


def test_every_line_is_an_import_object_that_validates() -> None:
    rows = _rows()
    assert len(rows) >= 10
    for row in rows:
        assert set(row) == IMPORT_KEYS
        assert row["recorded_by"] == "desk"
        assert row["recorded_at"].endswith("Z")
        _new(row)  # raises on invalid data


def test_event_ids_are_unique_uuids_written_literally() -> None:
    ids = [row["event_id"] for row in _rows()]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 36 and i.count("-") == 4 for i in ids)


def test_recorded_at_never_goes_backwards() -> None:
    stamps = [parse_stamp(row["recorded_at"]) for row in _rows()]
    assert all(a <= b for a, b in itertools.pairwise(stamps))


def test_every_event_cites_a_dated_source_with_a_url() -> None:
    for row in _rows():
        source = row["data"].get("source")
        assert source is not None, row["event_id"]
        assert source["url"].startswith("https://")
        assert source.get("publisher")
        assert source.get("published_on")
        # A fact is not recorded before the day before it was published (time zones aside).
        published = parse_stamp(source["published_on"] + "T00:00:00Z")
        assert parse_stamp(row["recorded_at"]) >= published - timedelta(days=1)


def test_each_stream_starts_with_its_one_announcement() -> None:
    seen: set[str] = set()
    for row in _rows():
        first = row["summit_id"] not in seen
        assert (row["type"] == "SummitAnnounced") == first, row
        seen.add(row["summit_id"])


def test_imports_into_an_empty_memory_store() -> None:
    store = _imported(open_store("memory:", _clock_after_last()))
    assert store.verify().ok
    # The log refuses the same event_ids again, all or nothing.
    with pytest.raises(EventIdTaken):
        store.import_events(_drafts(), expected_head=len(_rows()))
    assert store.head().position == len(_rows())  # type: ignore[union-attr]


def test_imports_into_a_real_sqlite_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "d.sqlite3"), _clock_after_last())
    try:
        _imported(store)
        report = store.verify()
        assert report.ok
        assert report.checked == len(_rows())
    finally:
        store.close()


def _checked_import(store: EventStore) -> tuple[int, int]:
    check = ImportCheck(store)
    lines = ((n, _new(row)) for n, row in enumerate(_rows(), start=1))
    return store.import_events(check.drafts(lines), expected_head=check.head), check.skipped


def test_passes_the_calendar_rules() -> None:
    store = open_store("memory:", _clock_after_last())
    assert _checked_import(store) == (len(_rows()), 0)
    # Importing the same file again is a no-op: every line is already in the log.
    assert _checked_import(store) == (0, len(_rows()))
    assert store.head().position == len(_rows())  # type: ignore[union-attr]


def test_calendar_shows_the_japan_visit_by_day_until_refined() -> None:
    store = _imported(open_store("memory:", _clock_after_last()))
    visit = _japan_visit_id()
    announced = next(
        row for row in _rows() if row["summit_id"] == visit and row["type"] == "SummitAnnounced"
    )
    cut = parse_stamp(announced["recorded_at"])

    head = len(_rows())
    then = build(store.read(until=position_of(store, Point(as_of=cut), head))).summits[visit]
    assert then.schedule.precision == "day"
    assert then.schedule == Schedule(**announced["data"]["schedule"])
    shown = summit_json(then)
    assert shown["schedule"] == announced["data"]["schedule"]
    assert shown["start_utc"] is None and shown["end_utc"] is None

    now = build(store.read()).summits[visit]
    assert now.status == "completed"
    # Whatever refined it later lies inside the announced days.
    first_day = parse_local(then.schedule.start).wall[:3]
    last_day = parse_local(then.schedule.end or then.schedule.start).wall[:3]
    assert first_day <= parse_local(now.schedule.start).wall[:3] <= last_day


def test_projection_holds_every_summit_of_the_file() -> None:
    store = _imported(open_store("memory:", _clock_after_last()))
    calendar = build(store.read())
    assert set(calendar.summits) == {row["summit_id"] for row in _rows()}
    assert calendar.position == len(_rows())
    completed = {row["summit_id"] for row in _rows() if row["type"] == "SummitCompleted"}
    done = {sid for sid, summit in calendar.summits.items() if summit.status == "completed"}
    assert done == completed
