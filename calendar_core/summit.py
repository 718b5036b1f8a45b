"""A summit's state, folded from its events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from events.record import Recorded
from events.schema import Location, Participant, Schedule, Source
from events.upcast import CURRENT_SCHEMA_VERSION, upcast


class Status(StrEnum):
    """Where a summit stands."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    RETRACTED = "retracted"


@dataclass(frozen=True)
class Change:
    """The latest change, as the feed's DESCRIPTION tells it."""

    type: str
    recorded_at: str
    summary: str
    source: Source | None


@dataclass(frozen=True)
class Summit:
    """The calendar's view of one summit after some prefix of its stream."""

    summit_id: str
    title: str
    kind: str
    status: Status
    resumes_as: Status | None  # while postponed or cancelled: the status a reschedule restores
    disputed: bool
    schedule: Schedule
    location: Location
    participants: tuple[Participant, ...]
    description: str | None
    sources: tuple[Source, ...]
    outcome: str | None
    documents: tuple[str, ...]
    version: int  # events applied from its stream
    sequence: int  # iCalendar SEQUENCE: grows on every change of time, place or status
    created_at: str  # recorded_at of SummitAnnounced
    updated_at: str  # recorded_at of its last event
    last_change: Change


# Statuses whose change the feed must announce with a higher SEQUENCE.
_OFF = (Status.POSTPONED, Status.CANCELLED)
_SUMMARY_LIMIT = 200


def participant_key(participant: Participant) -> tuple[str, str | None, str | None]:
    """Who a participant is, regardless of role: name (case-insensitive), country, organization."""
    return (participant.name.casefold(), participant.country, participant.organization)


@lru_cache(maxsize=1 << 14)
def _schedule(start: str, end: str | None) -> Schedule:
    # Stored data was validated on append and is covered by the hash chain: build without
    # re-validating (replay is the hot path).
    return Schedule.model_construct(start=start, end=end)


def _schedule_of(data: Mapping[str, Any]) -> Schedule:
    return _schedule(data["start"], data.get("end"))


def _location_of(data: Mapping[str, Any]) -> Location:
    return Location.model_construct(
        city=data.get("city"),
        country=data["country"],
        venue=data.get("venue"),
        timezone=data["timezone"],
    )


def _participant_of(data: Mapping[str, Any]) -> Participant:
    return Participant.model_construct(
        name=data["name"],
        country=data.get("country"),
        organization=data.get("organization"),
        role=data.get("role"),
    )


def _source_of(data: Mapping[str, Any] | None) -> Source | None:
    if data is None:
        return None
    return Source.model_construct(
        url=data["url"], publisher=data.get("publisher"), published_on=data.get("published_on")
    )


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SUMMARY_LIMIT else line[: _SUMMARY_LIMIT - 1] + "…"


def _because(text: str, reason: str | None) -> str:
    return _one_line(f"{text} ({reason})" if reason else text)


def _schedule_text(schedule: Schedule) -> str:
    return schedule.start if schedule.end is None else f"{schedule.start} to {schedule.end}"


def _place_text(location: Location) -> str:
    parts = [p for p in (location.venue, location.city, location.country) if p]
    return ", ".join(parts)


def _who(people: Iterable[Participant]) -> str:
    return ", ".join(p.name for p in people)


def _data(record: Recorded) -> Mapping[str, Any]:
    if record.schema_version == CURRENT_SCHEMA_VERSION:
        return record.data
    return upcast(record.type, record.schema_version, dict(record.data))


def _announce(record: Recorded, data: Mapping[str, Any], source: Source | None) -> Summit:
    status = Status(data["status"])
    return Summit(
        summit_id=record.summit_id,
        title=data["title"],
        kind=data["kind"],
        status=status,
        resumes_as=None,
        disputed=False,
        schedule=_schedule_of(data["schedule"]),
        location=_location_of(data["location"]),
        participants=tuple(_participant_of(p) for p in data["participants"]),
        description=data.get("description"),
        sources=() if source is None else (source,),
        outcome=None,
        documents=(),
        version=record.version,
        sequence=0,
        created_at=record.recorded_at,
        updated_at=record.recorded_at,
        last_change=Change(record.type, record.recorded_at, f"Announced ({status})", source),
    )


def evolve(summit: Summit | None, record: Recorded) -> Summit:
    """The summit after one more event of its stream (the event was checked when recorded)."""
    data = _data(record)
    raw_source = data.get("source")
    source = _source_of(raw_source)
    kind = record.type
    if kind == "SummitAnnounced":
        return _announce(record, data, source)
    if summit is None:
        raise ValueError(f"{record.summit_id}: {kind} at version {record.version} before announce")
    changes: dict[str, Any] = {}
    moved = False  # time, place or status changed: SEQUENCE grows
    status = summit.status
    if kind == "SummitConfirmed":
        status, summary = Status.CONFIRMED, "Confirmed"
    elif kind == "ScheduleRefined":
        changes["schedule"] = _schedule_of(data["schedule"])
        moved, summary = True, f"Schedule refined to {_schedule_text(changes['schedule'])}"
    elif kind == "SummitRescheduled":
        moved, parts = True, []
        if "schedule" in data:
            changes["schedule"] = _schedule_of(data["schedule"])
            parts.append(f"to {_schedule_text(changes['schedule'])}")
        if "location" in data:
            changes["location"] = _location_of(data["location"])
            parts.append(f"in {_place_text(changes['location'])}")
        if status in _OFF:
            status = summit.resumes_as or Status.TENTATIVE
        summary = _because("Rescheduled " + " ".join(parts), data.get("reason"))
    elif kind == "ParticipantsChanged":
        gone = {participant_key(_participant_of(p)) for p in data.get("withdrawn", ())}
        added = tuple(_participant_of(p) for p in data.get("added", ()))
        kept = tuple(p for p in summit.participants if participant_key(p) not in gone)
        changes["participants"] = kept + added
        said = []
        if added:
            said.append(f"added {_who(added)}")
        if gone:
            said.append(f"withdrawn {_who(_participant_of(p) for p in data['withdrawn'])}")
        summary = _one_line("Participants " + "; ".join(said))
    elif kind == "SummitPostponed":
        status, summary = Status.POSTPONED, _because("Postponed", data.get("reason"))
    elif kind == "SummitCancelled":
        status, summary = Status.CANCELLED, _because("Cancelled", data.get("reason"))
    elif kind == "SummitCompleted":
        status, summary = Status.COMPLETED, "Held"
        if "schedule" in data:
            changes["schedule"] = _schedule_of(data["schedule"])
            summary = f"Held {_schedule_text(changes['schedule'])}"
        if "outcome" in data:
            changes["outcome"] = data["outcome"]
            summary = _one_line(f"{summary}: {data['outcome']}")
        if "documents" in data:
            changes["documents"] = tuple(data["documents"])
    elif kind == "DetailsAmended":
        named = [f for f in ("title", "kind", "description", "venue") if f in data]
        for field in ("title", "kind", "description"):
            if field in data:
                changes[field] = data[field]
        if "venue" in data and data["venue"] != summit.location.venue:
            changes["location"] = replace_location(summit.location, venue=data["venue"])
            moved = True
        summary = "Details amended: " + ", ".join(named)
    elif kind == "SummitNoted":
        if data.get("disputed") is not None:
            changes["disputed"] = data["disputed"]
        prefix = "Disputed" if data.get("disputed") else "Noted"
        summary = _one_line(f"{prefix}: {data['note']}")
    elif kind == "EntryRetracted":
        status, summary = Status.RETRACTED, _because("Retracted", data.get("reason"))
    else:
        raise ValueError(f"unknown event type {kind!r}")
    if status is not summit.status:
        moved = True
        changes["status"] = status
        changes["disputed"] = False
        if status in _OFF:
            changes["resumes_as"] = summit.resumes_as if summit.status in _OFF else summit.status
        else:
            changes["resumes_as"] = None
    if source is not None and all(s.url != source.url for s in summit.sources):
        changes["sources"] = (*summit.sources, source)
    return replace(
        summit,
        **changes,
        version=record.version,
        sequence=summit.sequence + 1 if moved else summit.sequence,
        updated_at=record.recorded_at,
        last_change=Change(kind, record.recorded_at, summary, source),
    )


def replace_location(location: Location, **fields: Any) -> Location:
    """A copy of a location with some fields changed (no re-validation)."""
    return Location.model_construct(**{**location.__dict__, **fields})


def fold(records: Iterable[Recorded]) -> Summit | None:
    """A summit's state after its stream (None for an empty stream)."""
    summit: Summit | None = None
    for record in records:
        summit = evolve(summit, record)
    return summit
