"""The event types of the log (CONTRACT section 3) as frozen, strict pydantic models."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, get_args

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from events.schedule import Schedule, problem

SUMMIT_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,79}", re.ASCII)
SUMMIT_ID_PATTERN = f"^{SUMMIT_ID.pattern}$"
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", re.ASCII)
EVENT_ID_PATTERN = f"^{EVENT_ID.pattern}$"


def is_summit_id(text: str) -> bool:
    """Whether the whole text is a summit id (a `$` would let a final newline through)."""
    return SUMMIT_ID.fullmatch(text) is not None


def is_event_id(text: str) -> bool:
    """Whether the whole text is an event id a client may choose."""
    return EVENT_ID.fullmatch(text) is not None


# No control characters (C0, DEL, C1) in any text: calendar clients refuse a whole feed over
# one. Paragraphs (descriptions, notes, reasons) may hold tabs and line feeds; lines may not.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
PARAGRAPHS_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
SummitId = Annotated[str, StringConstraints(pattern=SUMMIT_ID_PATTERN)]
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=LINE_PATTERN)]
LongText = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000, pattern=PARAGRAPHS_PATTERN)
]

Kind = Literal[
    "bilateral_summit",
    "multilateral_summit",
    "state_visit",
    "official_visit",
    "working_visit",
    "sideline_meeting",
    "other",
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]

_URL_CHAR = r"[^\s\x00-\x1f\x7f-\x9f"
_URL = rf"(?i)^https?://{_URL_CHAR}/?#]+\.{_URL_CHAR}/?#]+(?:[/?#]{_URL_CHAR}]*)?$"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _check_day(value: str) -> str:
    if not _DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    date.fromisoformat(value)
    return value


@cache
def zone_names() -> frozenset[str]:
    """The IANA zones a location may name: places (Area/City) and UTC."""
    names = zoneinfo.available_timezones()
    return frozenset(n for n in names if n == "UTC" or ("/" in n and not n.startswith("Etc/")))


class _Checked:
    """A string pydantic-core checks by itself (a set lookup or a regex), failing with our own
    error type and message."""

    def __init__(self, schema: CoreSchema, error: str, message: str, **shape: Any) -> None:
        self.schema, self.error, self.message, self.shape = schema, error, message, shape

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.custom_error_schema(
            self.schema, self.error, custom_error_message=self.message
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", **self.shape}


_COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
Url = Annotated[
    str,
    _Checked(
        core_schema.str_schema(max_length=2048, pattern=_URL),
        "http_url",
        "must be an absolute http(s) URL without spaces or control characters",
        format="uri",
        maxLength=2048,
    ),
]
Day = Annotated[str, AfterValidator(_check_day)]
CountryCode = Annotated[
    str,
    _Checked(
        core_schema.literal_schema(_COUNTRY_CODES),
        "country_code",
        "is not an ISO 3166-1 alpha-2 country code (like 'KR')",
        pattern="^[A-Z]{2}$",
    ),
]
ZoneName = Annotated[
    str,
    _Checked(
        core_schema.literal_schema(sorted(zone_names())),
        "time_zone",
        "is not an IANA time zone of a place (like 'Asia/Tokyo')",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Source(_Model):
    """Where a fact was reported."""

    url: Url
    publisher: ShortText | None = None
    published_on: Day | None = None


class Participant(_Model):
    """A person attending, for a country or an organization."""

    name: ShortText
    country: CountryCode | None = None
    organization: ShortText | None = None
    role: ShortText | None = None

    @model_validator(mode="after")
    def _country_or_organization(self) -> Participant:
        if self.country is None and self.organization is None:
            raise ValueError("a participant needs a country or an organization")
        return self


class Location(_Model):
    """Where a summit takes place; its zone is the truth for the schedule's wall time."""

    city: ShortText | None = None
    country: CountryCode
    venue: ShortText | None = None
    timezone: ZoneName


class _Data(_Model):
    source: Source | None = None
    note: LongText | None = None


class SummitAnnounced(_Data):
    """A summit becomes known; creates it."""

    type: Literal["SummitAnnounced"] = "SummitAnnounced"
    title: ShortText
    kind: Kind
    participants: Annotated[list[Participant], Field(min_length=1, max_length=200)]
    location: Location
    schedule: Schedule
    status: Literal["tentative", "confirmed"]
    description: LongText | None = None


class SummitConfirmed(_Data):
    """A tentative summit is confirmed."""

    type: Literal["SummitConfirmed"] = "SummitConfirmed"


class ScheduleRefined(_Data):
    """A narrower or finer schedule inside the current window."""

    type: Literal["ScheduleRefined"] = "ScheduleRefined"
    schedule: Schedule


class SummitRescheduled(_Data):
    """Moved in time or place; also reinstates a postponed or cancelled summit."""

    type: Literal["SummitRescheduled"] = "SummitRescheduled"
    schedule: Schedule | None = None
    location: Location | None = None
    reason: LongText | None = None

    @model_validator(mode="after")
    def _moves_something(self) -> SummitRescheduled:
        if self.schedule is None and self.location is None:
            raise ValueError("a reschedule needs a new schedule, a new location, or both")
        return self


class ParticipantsChanged(_Data):
    """Who attends changed."""

    type: Literal["ParticipantsChanged"] = "ParticipantsChanged"
    added: Annotated[list[Participant], Field(max_length=200)] = []
    withdrawn: Annotated[list[Participant], Field(max_length=200)] = []

    @model_validator(mode="after")
    def _changes_someone(self) -> ParticipantsChanged:
        if not self.added and not self.withdrawn:
            raise ValueError("name at least one participant added or withdrawn")
        return self


class SummitPostponed(_Data):
    """Off, with no new date yet."""

    type: Literal["SummitPostponed"] = "SummitPostponed"
    reason: LongText | None = None


class SummitCancelled(_Data):
    """Off."""

    type: Literal["SummitCancelled"] = "SummitCancelled"
    reason: LongText | None = None


class SummitCompleted(_Data):
    """Held; the schedule says what actually happened if it differed."""

    type: Literal["SummitCompleted"] = "SummitCompleted"
    outcome: LongText | None = None
    documents: Annotated[list[Url], Field(max_length=100)] | None = None
    schedule: Schedule | None = None


class DetailsAmended(_Data):
    """Corrects details; a new venue is a change of place."""

    type: Literal["DetailsAmended"] = "DetailsAmended"
    title: ShortText | None = None
    kind: Kind | None = None
    description: LongText | None = None
    venue: ShortText | None = None

    @model_validator(mode="after")
    def _amends_something(self) -> DetailsAmended:
        if (self.title, self.kind, self.description, self.venue) == (None, None, None, None):
            raise ValueError("amend at least one of title, kind, description, venue")
        return self


class SummitNoted(_Data):
    """A report that changes nothing by itself, possibly marking the summit disputed."""

    type: Literal["SummitNoted"] = "SummitNoted"
    note: LongText
    disputed: bool | None = None


class EntryRetracted(_Data):
    """The entry itself was wrong: it never was a real summit."""

    type: Literal["EntryRetracted"] = "EntryRetracted"
    reason: LongText


Event = Annotated[
    SummitAnnounced
    | SummitConfirmed
    | ScheduleRefined
    | SummitRescheduled
    | ParticipantsChanged
    | SummitPostponed
    | SummitCancelled
    | SummitCompleted
    | DetailsAmended
    | SummitNoted
    | EntryRetracted,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model for model in get_args(get_args(Event)[0])
}
"""Each event type's model by its stored name, read off the `Event` union."""
EVENT_TYPES: tuple[str, ...] = tuple(MODELS)


def validate_event(event_type: str, data: Any) -> Event:
    """Validate current-version event data; raises pydantic's ValidationError."""
    if isinstance(data, dict) and "type" in data:
        raise ValidationError.from_exception_data(
            "Event", [{"type": "extra_forbidden", "loc": ("type",), "input": data["type"]}]
        )
    return EVENT_ADAPTER.validate_python(
        {**data, "type": event_type} if isinstance(data, dict) else data
    )


def event_data(event: Event) -> dict[str, Any]:
    """The `data` object of an event as it is stored: JSON types only, unset fields left out."""
    return event.model_dump(mode="json", exclude_none=True, exclude={"type"})


def _message(item: Any) -> str:
    """An error in words an editor reads."""
    message: str = item["msg"].removeprefix("Value error, ")
    pattern = (item.get("ctx") or {}).get("pattern")
    if item["type"] in ("country_code", "time_zone"):
        return f"{item['input']!r} {message}"
    if item["type"] == "local_time":
        return problem(item["input"])
    if pattern == LINE_PATTERN:
        return "must be one line without control characters"
    if pattern == PARAGRAPHS_PATTERN:
        return "must not hold control characters (tab and line feed are allowed)"
    return message


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted field path, message) for each problem, without the union's type tag."""
    out = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        if loc and loc[0] in MODELS:
            loc = loc[1:]
        out.append((".".join(str(part) for part in loc) or "data", _message(item)))
    return out
