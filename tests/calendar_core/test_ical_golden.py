"""Golden feeds: the demo log's feed and one single-event file, compared byte for byte.

The demo log (calendar_core/demo.jsonl) is imported into a memory store, folded into the
projection, and rendered; the result must equal tests/calendar_core/golden/*.ics exactly.
After an intended change to the output, regenerate the files with

    DIPLOCAL_REGEN_GOLDEN=1 .venv/bin/pytest -q tests/calendar_core/test_ical_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar as ICalendar
from interop.feedcases import OPTIONS, repeated_runs

from calendar_core.demo import demo_lines
from calendar_core.ical import FeedRenderer
from calendar_core.projection import Calendar, build
from calendar_core.query import Query, select
from events import FixedClock, NewEvent
from events.memory import MemoryEventStore

GOLDEN = Path(__file__).resolve().parent / "golden"
SINGLE_ID = "kr-us-2025-08-washington"


@pytest.fixture(scope="module")
def demo() -> Calendar:
    store = MemoryEventStore(FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    drafts = []
    for line in demo_lines():
        raw = json.loads(line)
        new = NewEvent.of(
            raw["summit_id"],
            raw["type"],
            raw["data"],
            event_id=raw["event_id"],
            recorded_by=raw["recorded_by"],
            recorded_at=raw["recorded_at"],
        )
        drafts.append(new.draft)
    store.import_events(drafts, expected_head=0)
    return build(store.read())


def _compare(name: str, body: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("DIPLOCAL_REGEN_GOLDEN") == "1":
        path.write_bytes(body)
    assert path.exists(), f"{path} is missing: set DIPLOCAL_REGEN_GOLDEN=1 to create it"
    assert body == path.read_bytes(), f"{name} changed; see the module docstring to regenerate"


def test_demo_feed_matches_the_golden_file(demo: Calendar) -> None:
    summits = select(demo, Query(frozenset(), frozenset(), frozenset()))
    assert len(summits) >= 3
    body = FeedRenderer(OPTIONS).feed(summits, last_modified=demo.last_recorded_at)
    _compare("demo-feed.ics", body)
    cal = vobject.readOne(body.decode("utf-8"), validate=True)
    assert len(cal.vevent_list) == len(summits)


def test_single_event_file_matches_the_golden_file(demo: Calendar) -> None:
    assert SINGLE_ID in demo.summits
    body = FeedRenderer(OPTIONS).single(demo.summits[SINGLE_ID])
    _compare(f"{SINGLE_ID}.ics", body)
    assert b"X-WR-CALNAME" not in body


def test_no_description_of_the_demo_feed_repeats_itself(demo: Calendar) -> None:
    """Each text is said once: the latest change does not repeat the outcome or description."""
    summits = select(demo, Query(frozenset(), frozenset(), frozenset()))
    body = FeedRenderer(OPTIONS).feed(summits, last_modified=demo.last_recorded_at)
    descriptions = [str(e["DESCRIPTION"]) for e in ICalendar.from_ical(body).walk("VEVENT")]
    assert any("Outcome: " in text for text in descriptions)
    for text in descriptions:
        assert repeated_runs(text) == [], text
