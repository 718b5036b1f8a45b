"""The API's models: the request envelope that validates appends, and the shapes it answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from calendar_core.query import STATUSES
from events.schedule import Schedule
from events.schema import EVENT_TYPES, Kind, Location, Participant, Source

EventTypeName = Literal[EVENT_TYPES]  # type: ignore[valid-type]
StatusName = Literal[STATUSES]  # type: ignore[valid-type]

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Position = Annotated[int, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]


class EventSubmission(BaseModel):
    """The body of `POST /api/summits/<id>/events`; `data` is checked against `type`'s model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: EventTypeName = Field(description="The event type (CONTRACT section 3).")
    data: dict[str, Any] = Field(description="The event's data, as the type's schema says.")
    event_id: EventId | None = Field(
        default=None,
        description="Client-chosen id (e.g. a UUID); sending it again appends nothing "
        "and returns the first result.",
    )


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem; `errors` lists the invalid fields of a 422."""

    type: str
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    detail: str
    instance: str
    errors: list[FieldError] | None = None


class RecordedEvent(BaseModel):
    """One event as the log holds it (CONTRACT section 2): the export and API form."""

    position: Count
    event_id: str
    summit_id: str
    version: Count
    type: str = Field(description="The event type; older schema versions keep their own names.")
    schema_version: Count
    recorded_at: Instant
    recorded_by: str | None
    data: dict[str, Any] = Field(description="As the event type's schema said when recorded.")
    prev_hash: Hash
    hash: Hash


class LastChange(BaseModel):
    """The summit's latest event, told in one line."""

    type: str
    recorded_at: Instant
    summary: str
    source: Source | None


class Summit(BaseModel):
    """A summit as the calendar knows it (CONTRACT section 5)."""

    summit_id: str
    title: str
    kind: Kind
    status: StatusName
    disputed: bool
    schedule: Schedule = Field(description="As recorded, in the venue's local time.")
    precision: Literal["year", "month", "day", "minute"]
    date_to_be_set: bool = Field(description="Known only to the year or month: not in feeds.")
    start_utc: Instant | None = Field(description="Minute precision only, else null.")
    end_utc: Instant | None = Field(description="Minute precision with an end, else null.")
    location: Location
    participants: list[Participant]
    description: str | None
    sources: list[Source]
    outcome: str | None
    documents: list[str]
    version: Count
    sequence: Annotated[int, Field(ge=0)]
    created_at: Instant
    updated_at: Instant
    last_change: LastChange


class CalendarState(BaseModel):
    """The calendar at a position of the log: its summits, filtered; with `limit` or `after`,
    one page of them (follow `next_after`, null on the last page)."""

    position: Position
    summits: list[Summit]
    after: str | None = Field(default=None, description="The summit the page starts after.")
    limit: Count | None = Field(default=None, description="The page size used.")
    next_after: str | None = Field(
        default=None, description="Pass as `after` for the next page; null on the last."
    )


class History(BaseModel):
    """A page of one summit's recorded events, in version order; follow `next_after`."""

    summit_id: str
    events: list[RecordedEvent]
    after: Position
    limit: Count
    next_after: Position | None


class EventsPage(BaseModel):
    """One page of the log; follow `next_after` (null on the last page)."""

    events: list[RecordedEvent]
    after: Position
    limit: Count
    head: Position
    next_after: Position | None


class Head(BaseModel):
    """The last record of the log."""

    position: Count
    hash: Hash


class VerifyReport(BaseModel):
    """The outcome of re-checking the hash chain."""

    ok: bool
    checked: Position
    head: Head | None
    first_bad_position: Count | None = None
    problem: str | None = None


class ChainProgress(BaseModel):
    """The first check of the whole chain, still running since the server started."""

    verifying: bool
    checked: Position


class Health(BaseModel):
    """Liveness: the store answers, at this head position, and the chain's state."""

    status: str  # "ok", "verifying" (a starting server checks the chain), "chain broken"
    position: Position | None = None
    chain: VerifyReport | ChainProgress | None = None
