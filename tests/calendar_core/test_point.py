"""point.position_of, the one place as-of is decided, against a linear scan of recorded_at."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import factories
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendar_core.point import BeyondHead, Point, position_of
from events import EventStore, FixedClock
from events.memory import MemoryEventStore
from events.sqlite import SQLiteEventStore

START = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
# Steps between stamps: repeats are common (one second holds many events), and tiny steps.
STEPS = st.sampled_from(
    [timedelta(0)] * 3
    + [timedelta(microseconds=1), timedelta(milliseconds=1), timedelta(seconds=1)]
    + [timedelta(hours=5)]
)
ZONES = [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-4, minutes=-30))]


@contextmanager
def opened(kind: str, clock: FixedClock) -> Iterator[EventStore]:
    if kind == "memory":
        yield MemoryEventStore(clock)
        return
    with tempfile.TemporaryDirectory() as folder:
        log = SQLiteEventStore(Path(folder) / "log.sqlite3", clock)
        try:
            yield log
        finally:
            log.close()


def fill(log: EventStore, clock: FixedClock, stamps: list[datetime]) -> None:
    """One event recorded at each stamp, in order."""
    for n, stamp in enumerate(stamps):
        clock.set(stamp)
        new = factories.announce() if n == 0 else factories.note(f"report {n}")
        (record,) = log.append([new.draft])
        assert record.instant == stamp


def scan(stamps: list[datetime], instant: datetime, head: int) -> int:
    """The last position up to `head` recorded at or before the instant: a linear scan."""
    found = 0
    for position, stamp in enumerate(stamps[:head], start=1):
        if stamp <= instant:
            found = position
    return found


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_as_of_is_the_last_position_recorded_by_then(kind: str, data: st.DataObject) -> None:
    steps = data.draw(st.lists(STEPS, max_size=30), label="steps")
    stamps: list[datetime] = []
    for step in steps:
        stamps.append((stamps[-1] if stamps else START) + step)
    clock = FixedClock(START)
    with opened(kind, clock) as log:
        fill(log, clock, stamps)
        near = [s + d for s in stamps for d in (timedelta(microseconds=-1), timedelta(0))]
        first, last = (stamps[0], stamps[-1]) if stamps else (START, START)
        instants = [
            first - timedelta(days=400),  # before the first event
            first - timedelta(microseconds=1),
            last,
            last + timedelta(microseconds=1),
            last + timedelta(days=400),  # after the last event
            *data.draw(st.lists(st.sampled_from(near), max_size=8) if near else st.just([])),
            data.draw(
                st.datetimes(
                    min_value=(first - timedelta(hours=1)).replace(tzinfo=None),
                    max_value=(last + timedelta(hours=1)).replace(tzinfo=None),
                    timezones=st.just(UTC),
                ),
                label="any instant",
            ),
        ]
        for instant in instants:
            head = data.draw(st.integers(0, len(stamps)), label="head")
            for zone in ZONES:  # the same instant, written in any offset
                point = Point(as_of=instant.astimezone(zone))
                assert position_of(log, point, head) == scan(stamps, instant, head), (
                    instant,
                    head,
                )
            assert position_of(log, Point(as_of=instant), len(stamps)) == scan(
                stamps, instant, len(stamps)
            )


@given(head=st.integers(0, 50), asked=st.integers(0, 60))
def test_a_position_is_itself_up_to_the_head(head: int, asked: int) -> None:
    log = MemoryEventStore(FixedClock(START))  # positions are not looked up in the log
    if asked > head:
        with pytest.raises(BeyondHead, match=f"head is at position {head}"):
            position_of(log, Point(at_position=asked), head)
    else:
        assert position_of(log, Point(at_position=asked), head) == asked
    assert position_of(log, Point(), head) == head
