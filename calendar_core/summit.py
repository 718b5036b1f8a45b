"""A summit's state, folded from its events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from events.record import Entry, Recorded
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


# What a fold reads: a record as the log holds it, or its entry as projections read it.
Record = Entry | Recorded

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


@lru_cache(maxsize=1 << 12)
def _location(city: str | None, country: str, venue: str | None, timezone: str) -> Location:
    return Location.model_construct(city=city, country=country, venue=venue, timezone=timezone)


def _location_of(data: Mapping[str, Any]) -> Location:
    get = data.get
    return _location(get("city"), data["country"], get("venue"), data["timezone"])


@lru_cache(maxsize=1 << 14)
def _participant(
    name: str, country: str | None, organization: str | None, role: str | None
) -> Participant:
    return Participant.model_construct(
        name=name, country=country, organization=organization, role=role
    )


def _participant_of(data: Mapping[str, Any]) -> Participant:
    get = data.get
    return _participant(data["name"], get("country"), get("organization"), get("role"))


@lru_cache(maxsize=1 << 14)
def _source(url: str, publisher: str | None, published_on: str | None) -> Source:
    return Source.model_construct(url=url, publisher=publisher, published_on=published_on)


def _source_of(data: Mapping[str, Any] | None) -> Source | None:
    if data is None:
        return None
    return _source(data["url"], data.get("publisher"), data.get("published_on"))


_new = object.__new__


def _change(kind: str, recorded_at: str, summary: str, source: Source | None) -> Change:
    change: Change = _new(Change)
    change.__dict__.update(type=kind, recorded_at=recorded_at, summary=summary, source=source)
    return change


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


def _data(record: Record) -> Mapping[str, Any]:
    if record.schema_version == CURRENT_SCHEMA_VERSION:
        return record.data
    return upcast(record.type, record.schema_version, dict(record.data))


# A summit's fields while a stream is being folded; "last_change" may still be a tuple
# (type, recorded_at, data, source) whose one-line summary is written only when frozen.
State = dict[str, Any]
# What one event type does to a state: (new status or None, moved in time or place).
Effect = tuple[Status | None, bool]


def _announced(record: Record, data: Mapping[str, Any], source: Source | None) -> State:
    return {
        "summit_id": record.summit_id,
        "title": data["title"],
        "kind": data["kind"],
        "status": Status(data["status"]),
        "resumes_as": None,
        "disputed": False,
        "schedule": _schedule_of(data["schedule"]),
        "location": _location_of(data["location"]),
        "participants": tuple(_participant_of(p) for p in data["participants"]),
        "description": data.get("description"),
        "sources": () if source is None else (source,),
        "outcome": None,
        "documents": (),
        "version": record.version,
        "sequence": 0,
        "created_at": record.recorded_at,
        "updated_at": record.recorded_at,
        "last_change": (record.type, record.recorded_at, data, source),
    }


def _confirmed(state: State, data: Mapping[str, Any]) -> Effect:
    return Status.CONFIRMED, False


def _refined(state: State, data: Mapping[str, Any]) -> Effect:
    state["schedule"] = _schedule_of(data["schedule"])
    return None, True


def _rescheduled(state: State, data: Mapping[str, Any]) -> Effect:
    if "schedule" in data:
        state["schedule"] = _schedule_of(data["schedule"])
    if "location" in data:
        state["location"] = _location_of(data["location"])
    status = None
    if state["status"] in _OFF:
        status = state["resumes_as"] or Status.TENTATIVE
    return status, True


def _participants(state: State, data: Mapping[str, Any]) -> Effect:
    added = tuple(_participant_of(p) for p in data.get("added", ()))
    people = state["participants"]
    if "withdrawn" in data:
        gone = {participant_key(_participant_of(p)) for p in data["withdrawn"]}
        people = tuple(p for p in people if participant_key(p) not in gone)
    state["participants"] = people + added
    return None, False


def _postponed(state: State, data: Mapping[str, Any]) -> Effect:
    return Status.POSTPONED, False


def _cancelled(state: State, data: Mapping[str, Any]) -> Effect:
    return Status.CANCELLED, False


def _completed(state: State, data: Mapping[str, Any]) -> Effect:
    if "schedule" in data:
        state["schedule"] = _schedule_of(data["schedule"])
    if "outcome" in data:
        state["outcome"] = data["outcome"]
    if "documents" in data:
        state["documents"] = tuple(data["documents"])
    return Status.COMPLETED, False


def _amended(state: State, data: Mapping[str, Any]) -> Effect:
    for field in ("title", "kind", "description"):
        if field in data:
            state[field] = data[field]
    location = state["location"]
    if "venue" in data and data["venue"] != location.venue:
        state["location"] = replace_location(location, venue=data["venue"])
        return None, True
    return None, False


def _noted(state: State, data: Mapping[str, Any]) -> Effect:
    disputed = data.get("disputed")
    if disputed is not None:
        state["disputed"] = disputed
    return None, False


def _retracted(state: State, data: Mapping[str, Any]) -> Effect:
    return Status.RETRACTED, False


_EFFECTS = {
    "SummitConfirmed": _confirmed,
    "ScheduleRefined": _refined,
    "SummitRescheduled": _rescheduled,
    "ParticipantsChanged": _participants,
    "SummitPostponed": _postponed,
    "SummitCancelled": _cancelled,
    "SummitCompleted": _completed,
    "DetailsAmended": _amended,
    "SummitNoted": _noted,
    "EntryRetracted": _retracted,
}


def summary(event_type: str, data: Mapping[str, Any]) -> str:
    """One line telling what an event changed ("Rescheduled to 2025-08-25 (typhoon)")."""
    if event_type == "SummitAnnounced":
        return f"Announced ({data['status']})"
    if event_type == "SummitConfirmed":
        return "Confirmed"
    if event_type == "ScheduleRefined":
        return f"Schedule refined to {_schedule_text(_schedule_of(data['schedule']))}"
    if event_type == "SummitRescheduled":
        parts = []
        if "schedule" in data:
            parts.append(f"to {_schedule_text(_schedule_of(data['schedule']))}")
        if "location" in data:
            parts.append(f"in {_place_text(_location_of(data['location']))}")
        return _because("Rescheduled " + " ".join(parts), data.get("reason"))
    if event_type == "ParticipantsChanged":
        said = []
        if data.get("added"):
            said.append(f"added {_who(_participant_of(p) for p in data['added'])}")
        if data.get("withdrawn"):
            said.append(f"withdrawn {_who(_participant_of(p) for p in data['withdrawn'])}")
        return _one_line("Participants " + "; ".join(said))
    if event_type in ("SummitPostponed", "SummitCancelled", "EntryRetracted"):
        verb = {"SummitPostponed": "Postponed", "SummitCancelled": "Cancelled"}
        return _because(verb.get(event_type, "Retracted"), data.get("reason"))
    if event_type == "SummitCompleted":
        text = "Held"
        if "schedule" in data:
            text = f"Held {_schedule_text(_schedule_of(data['schedule']))}"
        return _one_line(f"{text}: {data['outcome']}") if "outcome" in data else text
    if event_type == "DetailsAmended":
        named = [f for f in ("title", "kind", "description", "venue") if f in data]
        return "Details amended: " + ", ".join(named)
    if event_type == "SummitNoted":
        return _one_line(f"{'Disputed' if data.get('disputed') else 'Noted'}: {data['note']}")
    raise ValueError(f"unknown event type {event_type!r}")


def step(state: State | None, record: Record) -> State:
    """Fold one more event into a summit's state, in place (a new state for an announcement)."""
    data = record.data if record.schema_version == CURRENT_SCHEMA_VERSION else _data(record)
    raw_source = data.get("source")
    source = None if raw_source is None else _source_of(raw_source)
    kind, recorded_at = record.type, record.recorded_at
    if kind == "SummitAnnounced":
        return _announced(record, data, source)
    effect = _EFFECTS.get(kind)
    if effect is None:
        raise ValueError(f"unknown event type {kind!r}")
    if state is None:
        raise ValueError(f"{record.summit_id}: {kind} at version {record.version} before announce")
    before = state["status"]
    status, moved = effect(state, data)
    if status is not None and status is not before:
        moved = True
        state["status"] = status
        state["disputed"] = False
        if status in _OFF:
            state["resumes_as"] = state["resumes_as"] if before in _OFF else before
        else:
            state["resumes_as"] = None
    if moved:
        state["sequence"] += 1
    if source is not None:
        sources = state["sources"]
        url = source.url
        for known in sources:
            if known.url == url:
                break
        else:
            state["sources"] = (*sources, source)
    state["version"] = record.version
    state["updated_at"] = recorded_at
    state["last_change"] = (kind, recorded_at, data, source)
    return state


def thaw(summit: Summit) -> State:
    """A summit's fields as a state to fold more events into."""
    return dict(summit.__dict__)


def freeze(state: State) -> Summit:
    """The immutable summit of a state (without re-running the frozen dataclass's __init__)."""
    last = state["last_change"]
    if type(last) is tuple:
        kind, recorded_at, data, source = last
        state["last_change"] = _change(kind, recorded_at, summary(kind, data), source)
    summit: Summit = _new(Summit)
    summit.__dict__.update(state)
    return summit


def evolve(summit: Summit | None, record: Record) -> Summit:
    """The summit after one more event of its stream (the event was checked when recorded)."""
    return freeze(step(None if summit is None else thaw(summit), record))


def replace_location(location: Location, **fields: Any) -> Location:
    """A copy of a location with some fields changed (no re-validation)."""
    merged = {**location.__dict__, **fields}
    return _location(merged["city"], merged["country"], merged["venue"], merged["timezone"])


def fold(records: Iterable[Record]) -> Summit | None:
    """A summit's state after its stream (None for an empty stream)."""
    state: State | None = None
    for record in records:
        state = step(state, record)
    return None if state is None else freeze(state)
