"""The live calendar's as-of views: cached by position, bounded in estimated bytes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from calendar_core.point import Point
from calendar_core.projection import build
from events import open_store
from web.demo import load_demo
from web.live import SUMMIT_BYTES, LiveCalendar


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=40))
def test_views_stay_within_the_byte_bound_and_equal_a_fold(positions: list[int]) -> None:
    """Whatever positions are asked for, the cache keeps under its bound, and every view is
    the calendar folded from position 1."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "demo.sqlite3"))
        load_demo(store)
        bound = 6 * SUMMIT_BYTES
        live = LiveCalendar(store, cache_bytes=bound)
        with live.lock:
            for position in positions:
                view = live.view(Point(at_position=position))
                assert view.calendar == build(store.read(until=position))
                assert live.cached_bytes() <= max(bound, 4 * SUMMIT_BYTES)
        store.close()
