"""The event types of the log (CONTRACT section 3) as frozen, strict pydantic models."""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Hashable
from datetime import date
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

import orjson
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
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, SchemaValidator, core_schema

SUMMIT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,79}$"

SummitId = Annotated[str, StringConstraints(pattern=SUMMIT_ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]

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

_URL = r"(?i)^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Year, month, day or minute; a minute may carry an offset that picks one side of a DST overlap.
_LOCAL = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?P<off>[+-]\d{2}:\d{2})?)?)?)?$"
)

_orjson_loads = orjson.loads

Precision = Literal["year", "month", "day", "minute"]


@lru_cache(maxsize=1 << 16)  # valid values repeat; errors are not cached
def _check_day(value: str) -> str:
    if not _DAY.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    date.fromisoformat(value)
    return value


@cache
def _zone_names() -> frozenset[str]:
    names = zoneinfo.available_timezones()
    return frozenset(n for n in names if n == "UTC" or ("/" in n and not n.startswith("Etc/")))


class _Checked:
    """A string that pydantic-core checks by itself (a set lookup or a Rust regex: no Python
    call per value), failing with our own error type; `field_errors` words its message."""

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
        "must be an absolute http(s) URL",
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
        core_schema.literal_schema(sorted(_zone_names())),
        "time_zone",
        "is not an IANA time zone of a place (like 'Asia/Tokyo')",
    ),
]


@lru_cache(maxsize=1 << 16)
def _split_local(value: str) -> tuple[Precision, tuple[int, int, int, int, int], str | None]:
    """Precision, (year, month, day, hour, minute) with missing parts 1/0, and the offset."""
    match = _LOCAL.match(value)
    if match is None:
        raise ValueError("must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)")
    year, month, day, hour, minute, offset = match.groups()
    precision: Precision = "minute" if hour else "day" if day else "month" if month else "year"
    parts = (int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0))
    return precision, parts, offset


def local_precision(value: str) -> Precision:
    """Return the precision of a local date-time written in one of the schedule forms."""
    return _split_local(value)[0]


def local_fields(value: str) -> tuple[int, int, int, int, int, str | None]:
    """Split a schedule value into year, month, day, hour, minute (missing parts 1/0) and offset."""
    try:
        _, parts, offset = _split_local(value)
    except ValueError:
        raise ValueError(f"not a schedule value: {value!r}") from None
    return (*parts, offset)


# The written forms by length, digits ASCII only; `_local_problem` then checks the calendar.
_LOCAL_FORMS = {
    len(form): re.compile(form.replace("d", "[0-9]").replace("±", "[+-]"))
    for form in ("dddd", "dddd-dd", "dddd-dd-dd", "dddd-dd-ddTdd:dd", "dddd-dd-ddTdd:dd±dd:dd")
}
_LOCAL_FORM_MESSAGE = "must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)"


def _local_problem(value: object) -> str | None:
    """Why a schedule value is refused, in words; None for a valid one."""
    if not isinstance(value, str):
        return _LOCAL_FORM_MESSAGE
    form = _LOCAL_FORMS.get(len(value))
    if form is None or form.fullmatch(value) is None:
        return _LOCAL_FORM_MESSAGE
    size = len(value)
    if size >= 7 and not "01" <= value[5:7] <= "12":
        return f"month {int(value[5:7])} does not exist"
    if value.startswith("0000") or (size >= 10 and not _is_date(value[:10])):
        return f"{value} is not a calendar date"
    if size >= 16 and (value[11:13] > "23" or value[14:16] > "59"):
        return f"{value}: hour must be 00-23 and minute 00-59"
    if size == 22 and (value[17:19] > "18" or value[20:22] > "59"):
        return f"{value}: offset out of range"
    return None


def _is_date(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


# The same rules as one Rust regex, so that pydantic-core checks valid values on its own:
# years 0001-9999, months 01-12, the days each month has (29 February in leap years), hours
# 00-23, minutes 00-59, offsets up to 18:59. Tests hold it to `_local_problem`.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = "T(?:[01][0-9]|2[0-3]):[0-5][0-9](?:[+-](?:0[0-9]|1[0-8]):[0-5][0-9])?"
_LOCAL_PATTERN = f"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2]))?|{_DATE}(?:{_TIME})?)$"

LocalValue = Annotated[
    str,
    _Checked(
        core_schema.str_schema(pattern=_LOCAL_PATTERN),
        "local_time",
        _LOCAL_FORM_MESSAGE,
        pattern=r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}([+-]\d{2}:\d{2})?)?)?)?$",
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


def _by_value(limit: int = 4096) -> WrapValidator:
    """Reuse the model validated from an equal dict (participants and places repeat from event
    to event); anything else, and every first sight, is validated in full.

    Only dicts whose values are all hashable are keyed; a key equal to a valid one holds equal
    strings (or None), which validation would accept the same way. (Keying whole participant
    lists instead costs more than it saves: bench/validation.py.)
    """
    known: dict[Hashable, Any] = {}

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if type(value) is not dict:
            return handler(value)
        key = tuple(value.items())
        try:
            found = known.get(key)
        except TypeError:  # an unhashable value: let validation say what is wrong
            return handler(value)
        if found is None:
            found = handler(value)
            if len(known) >= limit:
                known.clear()
            known[key] = found
        return found

    return WrapValidator(validate)


KnownParticipant = Annotated[Participant, _by_value()]
KnownLocation = Annotated[Location, _by_value()]


class Schedule(_Model):
    """When, in the venue's local wall time; the written form gives the precision."""

    start: LocalValue
    end: LocalValue | None = None

    @property
    def precision(self) -> Precision:
        """Year, month, day or minute."""
        return local_precision(self.start)

    @model_validator(mode="after")
    def _end_matches_start(self) -> Schedule:
        if self.end is not None:
            problem = _order_problem(self.start, self.end)
            if problem is not None:
                raise ValueError(problem)
        return self


def _order_problem(start: str, end: str) -> str | None:
    """What is wrong with an end (both values already checked one by one), or None.

    Values of one precision have one width up to the minute, so their local parts compare as
    text; a minute's offset (the side of a DST overlap) only tells equal local times apart.
    """
    minutes = len(start) >= 16
    if minutes != (len(end) >= 16) or (not minutes and len(start) != len(end)):
        return "end must have the same precision as start"
    if end[:16] < start[:16]:
        return "end is before start"
    if minutes and end == start:
        return "end equals start"
    return None


class _Data(_Model):
    source: Source | None = None
    note: LongText | None = None


class SummitAnnounced(_Data):
    """A summit becomes known; creates it."""

    type: Literal["SummitAnnounced"] = "SummitAnnounced"
    title: ShortText
    kind: Kind
    participants: Annotated[list[KnownParticipant], Field(min_length=1, max_length=200)]
    location: KnownLocation
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
    location: KnownLocation | None = None
    reason: LongText | None = None

    @model_validator(mode="after")
    def _moves_something(self) -> SummitRescheduled:
        if self.schedule is None and self.location is None:
            raise ValueError("a reschedule needs a new schedule, a new location, or both")
        return self


class ParticipantsChanged(_Data):
    """Who attends changed."""

    type: Literal["ParticipantsChanged"] = "ParticipantsChanged"
    added: Annotated[list[KnownParticipant], Field(max_length=200)] = []
    withdrawn: Annotated[list[KnownParticipant], Field(max_length=200)] = []

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
EVENT_TYPES: tuple[str, ...] = (
    "SummitAnnounced",
    "SummitConfirmed",
    "ScheduleRefined",
    "SummitRescheduled",
    "ParticipantsChanged",
    "SummitPostponed",
    "SummitCancelled",
    "SummitCompleted",
    "DetailsAmended",
    "SummitNoted",
    "EntryRetracted",
)


_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model
    for model in (
        SummitAnnounced,
        SummitConfirmed,
        ScheduleRefined,
        SummitRescheduled,
        ParticipantsChanged,
        SummitPostponed,
        SummitCancelled,
        SummitCompleted,
        DetailsAmended,
        SummitNoted,
        EntryRetracted,
    )
}


_VALIDATORS: dict[str, SchemaValidator] = {
    name: model.__pydantic_validator__  # type: ignore[misc]
    for name, model in _MODELS.items()
}


def validate_event(event_type: str, data: Any) -> Event:
    """Validate current-version event data; raises pydantic's ValidationError."""
    validator = _VALIDATORS.get(event_type)
    if validator is not None and type(data) is dict and "type" not in data:
        event: Event = validator.validate_python(data)
        return event
    if not isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    if "type" in data:
        raise ValidationError.from_exception_data(
            "Event", [{"type": "extra_forbidden", "loc": ("type",), "input": data["type"]}]
        )
    if validator is None:  # let the union name the unknown tag
        return EVENT_ADAPTER.validate_python({**data, "type": event_type})
    event = validator.validate_python(data)
    return event


def validate_event_json(event_type: str, text: str | bytes) -> Event:
    """`validate_event` for data given as JSON text.

    Decoded with orjson, then validated as Python data, which reuses the participants and
    places seen before (`_by_value`); text orjson refuses is left to pydantic to report.
    """
    validator = _VALIDATORS.get(event_type)
    try:
        data = _orjson_loads(text)
    except ValueError:
        if validator is None:
            return validate_event(event_type, json.loads(text))
        event: Event = validator.validate_json(text)
        return event
    if validator is None or type(data) is not dict or "type" in data:
        return validate_event(event_type, data)
    event = validator.validate_python(data)
    return event


def event_data(event: Event) -> dict[str, Any]:
    """The `data` object of an event as it is stored: JSON types only, unset fields left out."""
    return event.model_dump(mode="json", exclude_none=True, exclude={"type"})


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted field path, message) for each problem, without the union's type tag."""
    out = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] in ("country_code", "time_zone"):
            message = f"{item['input']!r} {message}"
        elif item["type"] == "local_time":
            message = _local_problem(item["input"]) or message
        out.append((".".join(str(part) for part in loc) or "data", message))
    return out
