"""A summit's state, folded from its events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from events.schema import Location, Participant, Schedule, Source


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
