"""Text UTF-8 cannot hold (a lone surrogate, sent escaped as \\ud800) is refused as invalid data."""

from __future__ import annotations

from typing import Any

from events import EventStore


def test_a_lone_surrogate_in_event_data_is_a_422_and_nothing_is_stored(
    seeded: Any, store: EventStore
) -> None:
    head = store.head()
    response = seeded("kr-jp-2025-tokyo", "SummitNoted", {"note": "broken \ud800 text"})
    assert response.status_code == 422  # refused, not a 500 from inside the store
    assert store.head() == head
