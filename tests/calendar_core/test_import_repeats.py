"""check_import keeps no per-line memory: a repeated event_id is found in the store."""

from __future__ import annotations

from typing import Any

import pytest

from calendar_core.service import check_import
from calendar_core.summit import fold
from events import EventIdReused, EventStore, NewEvent

SID = "kr-us-2026"
ANNOUNCE: dict[str, Any] = {
    "title": "Korea-US summit",
    "kind": "bilateral_summit",
    "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
    "location": {"country": "US", "timezone": "America/New_York"},
    "schedule": {"start": "2026-03"},
    "status": "tentative",
}
CONFIRM_ID = "c0ffee00-0000-4000-8000-00000000abcd"


def lines(*events: NewEvent) -> list[tuple[int, str, NewEvent]]:
    return [(n, SID, new) for n, new in enumerate(events, start=1)]


def test_the_same_event_twice_in_one_import_is_taken_once(store: EventStore) -> None:
    confirm = NewEvent.of("SummitConfirmed", {}, event_id=CONFIRM_ID)
    # The rules would refuse a second confirmation: the repeat must be seen as already there.
    items = lines(NewEvent.of("SummitAnnounced", ANNOUNCE), confirm, confirm)
    assert store.import_events(check_import(store, items)) == 2
    summit = fold(store.stream(SID))
    assert summit is not None and (summit.version, summit.status) == (2, "confirmed")


def test_a_repeated_event_id_with_other_content_in_one_import_is_refused(
    store: EventStore,
) -> None:
    confirm = NewEvent.of("SummitConfirmed", {}, event_id=CONFIRM_ID)
    noted = NewEvent.of("SummitNoted", {"note": "Other content"}, event_id=CONFIRM_ID)
    items = lines(NewEvent.of("SummitAnnounced", ANNOUNCE), confirm, noted)
    with pytest.raises(EventIdReused):
        store.import_events(check_import(store, items))
    assert store.head() is None  # all or nothing
