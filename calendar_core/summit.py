"""A summit's state: a plain frozen value, changed only by `dataclasses.replace`.

Events stay pydantic models (validated at the boundary); what a summit keeps of them (its
place, participants and sources) is copied into the plain values below, with the same field
names, order and defaults as the models, so readers see them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel

from events.schedule import Schedule, sort_instant
from events.schema import Location, Participant, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """Where a summit takes place; its zone is the truth for the schedule's wall time."""

    city: str | None = None
    country: str
    venue: str | None = None
    timezone: str

    @classmethod
    def of(cls, location: Location) -> Place:
        """The place a validated location names."""
        return _copied(cls, location)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attendee:
    """A person attending, for a country or an organization."""

    name: str
    country: str | None = None
    organization: str | None = None
    role: str | None = None

    @classmethod
    def of(cls, participant: Participant) -> Attendee:
        """The attendee a validated participant names."""
        return _copied(cls, participant)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """Where a fact was reported."""

    url: str
    publisher: str | None = None
    published_on: str | None = None

    @classmethod
    def of(cls, source: Source) -> Citation:
        """The citation of a validated source."""
        return _copied(cls, source)


Part = Place | Attendee | Citation
P = TypeVar("P", Place, Attendee, Citation)


def _copied(cls: type[P], model: BaseModel) -> P:
    """A plain part with the values of a validated model's fields of the same names."""
    return cls(**{f.name: getattr(model, f.name) for f in fields(cls)})


def part_json(part: Part, *, nulls: bool = True) -> dict[str, str | None]:
    """A part's fields in order, as its model's `model_dump` gave them (without nulls: as
    `model_dump(exclude_none=True)` did)."""
    values = ((f.name, getattr(part, f.name)) for f in fields(part))
    return {name: value for name, value in values if nulls or value is not None}


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
    source: Citation | None


@dataclass(frozen=True, slots=True)
class Summit:
    """The calendar's view of one summit after some prefix of its stream."""

    summit_id: str
    title: str
    kind: str
    status: Status
    schedule: Schedule
    location: Place
    participants: tuple[Attendee, ...]
    created_at: str  # recorded_at of SummitAnnounced
    updated_at: str  # recorded_at of its last event
    last_change: Change
    version: int = 1  # events applied from its stream
    sequence: int = 0  # iCalendar SEQUENCE: grows on every change of time, place or status
    resumes_as: Status | None = None  # while off: the status a reschedule restores
    disputed: bool = False
    description: str | None = None
    sources: tuple[Citation, ...] = ()
    outcome: str | None = None
    documents: tuple[str, ...] = ()


OrderKey = tuple[datetime, str]


def order_key(summit: Summit) -> OrderKey:
    """Where a summit stands in a list: its start, then its summit_id."""
    return sort_instant(summit.schedule, summit.location.timezone), summit.summit_id


def participant_key(
    participant: Attendee | Participant,
) -> tuple[str, str | None, str | None]:
    """Who a participant is, regardless of role: name (case-insensitive), country, organization."""
    return (participant.name.casefold(), participant.country, participant.organization)
