"""ImportCheck remembers the import's own lines: a repeated event_id is seen within one import."""

from __future__ import annotations

from typing import Any

import pytest
from factories import read_stream

from calendar_core.projection import fold
from calendar_core.service import ImportCheck
from events import EventStore, ImportRejected, NewEvent

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


def run_import(store: EventStore, *events: NewEvent) -> tuple[int, int]:
    """(added, skipped) of importing these lines."""
    check = ImportCheck(store)
    lines = list(enumerate(events, start=1))
    return store.import_events(check.drafts(lines), expected_head=check.head), check.skipped


def test_the_same_event_twice_in_one_import_is_taken_once(store: EventStore) -> None:
    confirm = NewEvent.of(SID, "SummitConfirmed", {}, event_id=CONFIRM_ID)
    # The rules would refuse a second confirmation: the repeat must be seen as already there.
    announce = NewEvent.of(SID, "SummitAnnounced", ANNOUNCE)
    assert run_import(store, announce, confirm, confirm) == (2, 1)
    summit = fold(read_stream(store, SID))
    assert summit is not None and (summit.version, summit.status) == (2, "confirmed")
    # The whole file again: every line is in the log already.
    assert run_import(store, announce, confirm, confirm) == (0, 3)
    assert store.head().position == 2  # type: ignore[union-attr]


def test_a_repeated_event_id_with_other_content_in_one_import_is_refused(
    store: EventStore,
) -> None:
    confirm = NewEvent.of(SID, "SummitConfirmed", {}, event_id=CONFIRM_ID)
    noted = NewEvent.of(SID, "SummitNoted", {"note": "Other content"}, event_id=CONFIRM_ID)
    announce = NewEvent.of(SID, "SummitAnnounced", ANNOUNCE)
    with pytest.raises(ImportRejected) as caught:
        run_import(store, announce, confirm, noted)
    assert caught.value.line == 3
    assert f"event_id {CONFIRM_ID} is already used by another event" in caught.value.message
    assert store.head() is None  # all or nothing
