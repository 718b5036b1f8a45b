"""Small builders of valid events for tests: import as `factories` (tests/ is put on sys.path)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from events import EventStore, NewEvent, Recorded, open_store

ANNOUNCE_DATA: dict[str, Any] = {
    "title": "Korea-Japan summit in Tokyo",
    "kind": "bilateral_summit",
    "participants": [
        {"name": "Lee Jae Myung", "country": "KR", "role": "President"},
        {"name": "Shigeru Ishiba", "country": "JP", "role": "Prime Minister"},
    ],
    "location": {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"},
    "schedule": {"start": "2025-08-23T16:55", "end": "2025-08-23T18:30"},
    "status": "tentative",
}


def announce_data(**changes: Any) -> dict[str, Any]:
    """A fresh copy of valid SummitAnnounced data, with some top-level fields replaced."""
    data = copy.deepcopy(ANNOUNCE_DATA)
    data.update(changes)
    return data


SID = "kr-jp-2025-tokyo"


def announce(
    summit_id: str = SID,
    *,
    event_id: str | None = None,
    recorded_by: str | None = None,
    recorded_at: str | None = None,
    **changes: Any,
) -> NewEvent:
    """A valid SummitAnnounced NewEvent (data fields overridable as keywords)."""
    data = announce_data(**changes)
    return _new(summit_id, "SummitAnnounced", data, event_id, recorded_by, recorded_at)


def note(
    text: str = "Reported by both foreign ministries.",
    summit_id: str = SID,
    *,
    event_id: str | None = None,
    recorded_by: str | None = None,
    recorded_at: str | None = None,
) -> NewEvent:
    """A valid SummitNoted NewEvent."""
    return _new(summit_id, "SummitNoted", {"note": text}, event_id, recorded_by, recorded_at)


def confirm(summit_id: str = SID, *, event_id: str | None = None) -> NewEvent:
    """A valid SummitConfirmed NewEvent."""
    return _new(summit_id, "SummitConfirmed", {}, event_id, None, None)


def _new(
    summit_id: str,
    event_type: str,
    data: dict[str, Any],
    event_id: str | None,
    recorded_by: str | None,
    recorded_at: str | None,
) -> NewEvent:
    return NewEvent.of(
        summit_id,
        event_type,
        data,
        event_id=event_id,
        recorded_by=recorded_by,
        recorded_at=recorded_at,
    )


# CONTRACT section 3's table, written out independently of calendar_core.rules:
# event type -> the statuses it may follow.
CONTRACT_ALLOWED: dict[str, set[str]] = {
    "SummitConfirmed": {"tentative"},
    "ScheduleRefined": {"tentative", "confirmed"},
    "SummitRescheduled": {"tentative", "confirmed", "postponed", "cancelled"},
    "SummitPostponed": {"tentative", "confirmed"},
    "SummitCancelled": {"tentative", "confirmed", "postponed"},
    "SummitCompleted": {"tentative", "confirmed"},
    "ParticipantsChanged": {"tentative", "confirmed", "postponed", "cancelled", "completed"},
    "DetailsAmended": {"tentative", "confirmed", "postponed", "cancelled", "completed"},
    "SummitNoted": {"tentative", "confirmed", "postponed", "cancelled", "completed"},
    "EntryRetracted": {"tentative", "confirmed", "postponed", "cancelled", "completed"},
}


def read_stream(log: EventStore, summit_id: str, until: int | None = None) -> list[Recorded]:
    """One summit's records, in version order."""
    return list(log.read(summit_id=summit_id, until=until))


@contextmanager
def announced_log(path: Path, summits: int, ids: str = "summit-{}") -> Iterator[EventStore]:
    """A SQLite log at `path` where `summits` summits were announced (ids: summit-0, ...)."""
    store = open_store(str(path))
    drafts = [announce(ids.format(n)).draft for n in range(summits)]
    assert store.import_events(drafts, expected_head=0) == summits
    try:
        yield store
    finally:
        store.close()
