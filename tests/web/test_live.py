"""The live calendar's as-of views: cached by position, bounded in estimated bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendar_core.point import Point
from calendar_core.projection import build
from events import open_store
from web import live as live_module
from web.demo import load_demo
from web.live import SUMMIT_BYTES, LiveCalendar


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=40),
    st.sampled_from(["rewound", "from a snapshot"]),
)
def test_views_stay_within_the_byte_bound_and_equal_a_fold(positions: list[int], how: str) -> None:
    """Whatever positions are asked for, the cache keeps under its bound, and every view is
    the calendar folded from position 1, whether the live calendar is rewound to it or it is
    folded on from the nearest snapshot (taken when rewinding would read too many records)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        if how == "from a snapshot":
            patch.setattr(live_module, "REWIND_RECORDS", -(1 << 30))
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
