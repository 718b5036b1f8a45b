"""Text UTF-8 cannot hold (a lone surrogate, escaped as \\ud800 in JSON) is refused cleanly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events import EventStore
from web.cli.log import parse_line


def test_a_lone_surrogate_in_event_data_is_a_422_and_nothing_is_stored(
    seeded: Any, store: EventStore
) -> None:
    head = store.head()
    response = seeded("kr-jp-2025-tokyo", "SummitNoted", {"note": "broken \ud800 text"})
    assert response.status_code == 422  # refused, not a 500 from inside the store
    assert store.head() == head


def test_an_imported_line_with_a_lone_surrogate_is_refused_by_name() -> None:
    line = json.dumps(
        {"summit_id": "kr-jp-2025", "type": "SummitNoted", "data": {"note": "\udc80"}}
    )
    with pytest.raises(ValueError, match=r"data\.note"):
        parse_line(line)
