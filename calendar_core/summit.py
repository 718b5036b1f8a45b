"""A summit's state: a plain frozen value, changed only by `dataclasses.replace`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from events.schedule import Schedule, sort_instant
from events.schema import Location, Participant, Source


class Status(StrEnum):
    """Where a summit stands."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    RETRACTED = "retracted"


ACTIVE = frozenset({Status.TENTATIVE, Status.CONFIRMED})
OFF = frozenset({Status.POSTPONED, Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class Change:
    """The latest change, as the feed's DESCRIPTION and the page tell it."""

    type: str
    recorded_at: str
    summary: str
    source: Source | None


@dataclass(frozen=True, slots=True)
class Summit:
    """The calendar's view of one summit after some prefix of its stream."""

    summit_id: str
    title: str
    kind: str
    status: Status
    schedule: Schedule
    location: Location
    participants: tuple[Participant, ...]
    created_at: str  # recorded_at of SummitAnnounced
    updated_at: str  # recorded_at of its last event
    last_change: Change
    version: int = 1  # events applied from its stream
    sequence: int = 0  # iCalendar SEQUENCE: grows on every change of time, place or status
    resumes_as: Status | None = None  # while off: the status a reschedule restores
    disputed: bool = False
    description: str | None = None
    sources: tuple[Source, ...] = ()
    outcome: str | None = None
    documents: tuple[str, ...] = ()


OrderKey = tuple[datetime, str]


def order_key(summit: Summit) -> OrderKey:
    """Where a summit stands in a list: its start, then its summit_id."""
    return sort_instant(summit.schedule, summit.location.timezone), summit.summit_id


def participant_key(participant: Participant) -> tuple[str, str | None, str | None]:
    """Who a participant is, regardless of role: name (case-insensitive), country, organization."""
    return (participant.name.casefold(), participant.country, participant.organization)
