"""Small builders of valid events for tests: import as `factories` (tests/ is put on sys.path)."""

from __future__ import annotations

import copy
from typing import Any

from events import NewEvent

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


def announce(
    *,
    event_id: str | None = None,
    recorded_by: str | None = None,
    recorded_at: str | None = None,
    **changes: Any,
) -> NewEvent:
    """A valid SummitAnnounced NewEvent (data fields overridable as keywords)."""
    return _new("SummitAnnounced", announce_data(**changes), event_id, recorded_by, recorded_at)


def note(
    text: str = "Reported by both foreign ministries.",
    *,
    event_id: str | None = None,
    recorded_by: str | None = None,
    recorded_at: str | None = None,
) -> NewEvent:
    """A valid SummitNoted NewEvent."""
    return _new("SummitNoted", {"note": text}, event_id, recorded_by, recorded_at)


def confirm(*, event_id: str | None = None) -> NewEvent:
    """A valid SummitConfirmed NewEvent."""
    return _new("SummitConfirmed", {}, event_id, None, None)


def _new(
    event_type: str,
    data: dict[str, Any],
    event_id: str | None,
    recorded_by: str | None,
    recorded_at: str | None,
) -> NewEvent:
    extra: dict[str, Any] = {"recorded_by": recorded_by, "recorded_at": recorded_at}
    if event_id is not None:
        extra["event_id"] = event_id
    return NewEvent.of(event_type, data, **extra)


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
