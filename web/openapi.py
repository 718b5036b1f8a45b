"""The OpenAPI 3.1 document, generated from the pydantic models that validate the requests."""

from __future__ import annotations

import copy
import string
import zoneinfo
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import product
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, TypeAdapter, ValidationError

from calendar_core.query import STATUSES
from events.schema import (
    EVENT_ADAPTER,
    EVENT_TYPES,
    KINDS,
    SUMMIT_ID_PATTERN,
    CountryCode,
    LongText,
    ShortText,
    Url,
    ZoneName,
)
from web import models
from web.problems import MEDIA_TYPE

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
MAX_INT = 2**63 - 1  # the largest position, version or page size a store can hold
SUBMISSION = "{type}Submission"

# Text may not hold control characters (C0 and DEL); long texts may hold tabs and line breaks.
_SHORT_TEXT = "^[^\\u0000-\\u001F\\u007F]*$"
_LONG_TEXT = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F]*$"
_URL = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#\\u0000-\\u001F\\u007F]+\\.[^\\s/?#\\u0000-\\u001F\\u007F]+([/?#][^\\s\\u0000-\\u001F\\u007F]*)?$"

# The local forms of a schedule value, one per precision; `end` has the form of `start`.
_YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
_MONTH = _YEAR + "-(0[1-9]|1[0-2])"
_DAY = _MONTH + "-(0[1-9]|[12][0-9]|3[01])"
_MINUTE = _DAY + "T([01][0-9]|2[0-3]):[0-5][0-9]([+-](0[0-9]|1[0-8]):[0-5][0-9])?"
LOCAL_FORMS = {"year": _YEAR, "month": _MONTH, "day": _DAY, "minute": _MINUTE}

# Checks the models make in code (model validators), stated for clients: at least one of these
# fields must be given, and not as null or an empty list.
AT_LEAST_ONE = {
    "Participant": ("country", "organization"),
    "SummitRescheduled": ("schedule", "location"),
    "ParticipantsChanged": ("added", "withdrawn"),
    "DetailsAmended": ("title", "kind", "description", "venue"),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _accepted(annotation: Any, candidates: Iterable[str]) -> list[str]:
    """The candidates a validating type accepts: enums read off the validator itself."""
    adapter: TypeAdapter[str] = TypeAdapter(annotation)

    def ok(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return sorted(value for value in candidates if ok(value))


@cache
def country_codes() -> tuple[str, ...]:
    """Every code a country field accepts (ISO 3166-1 alpha-2)."""
    letters = string.ascii_uppercase
    return tuple(_accepted(CountryCode, (a + b for a, b in product(letters, letters))))


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name a location's `timezone` accepts."""
    return tuple(_accepted(ZoneName, zoneinfo.available_timezones()))


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The branch of an `X | None` property that is not null (or the property itself)."""
    for branch in schema.get("anyOf", ()):
        if branch.get("type") != "null":
            return dict(branch)
    return schema


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON schema, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _schema_of(annotation: Any) -> dict[str, Any]:
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    return schema


def _state_constraints(schemas: dict[str, Any]) -> None:
    """Add what the validators check in code, which pydantic cannot write into a schema."""
    text_forms: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (_schema_of(ShortText), {"pattern": _SHORT_TEXT}),
        (_schema_of(LongText), {"pattern": _LONG_TEXT}),
        (_schema_of(Url), {"pattern": _URL}),
    ]
    for node in _nodes(schemas):
        for form, extra in text_forms:
            if {k: v for k, v in node.items() if k != "title"} == form:
                node.update(extra)
    codes = {
        "type": "string",
        "enum": list(country_codes()),
        "description": "ISO 3166-1 alpha-2 country code.",
    }
    schemas["Location"]["properties"]["country"].update(codes)
    participant_country = schemas["Participant"]["properties"]["country"]
    participant_country["anyOf"] = [codes, {"type": "null"}]
    schemas["Location"]["properties"]["timezone"].update(
        {"enum": list(zone_names()), "description": "IANA time zone of the venue."}
    )
    published = schemas["Source"]["properties"]["published_on"]
    published["anyOf"] = [
        {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        {"type": "null"},
    ]
    schedule = schemas["Schedule"]
    schedule["properties"]["start"] = {
        "type": "string",
        "description": "Local wall time; its form is its precision: YYYY, YYYY-MM, "
        "YYYY-MM-DD or YYYY-MM-DDTHH:MM (an offset after the minute picks one side of a DST "
        "overlap). Years 1900-2200.",
    }
    schedule["properties"]["end"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Same precision as start and not before it; year, month and day ends "
        "are inclusive, a minute end is the instant it ends.",
    }
    schedule["oneOf"] = [
        {
            "title": f"{precision} precision",
            "properties": {
                "start": {"pattern": f"^{form}$"},
                "end": {"anyOf": [{"pattern": f"^{form}$"}, {"type": "null"}]},
            },
        }
        for precision, form in LOCAL_FORMS.items()
    ]
    for model, fields in AT_LEAST_ONE.items():
        schemas[model]["anyOf"] = [
            {"required": [field], "properties": {field: {"not": {"type": "null"}, "minItems": 1}}}
            for field in fields
        ]


def _submissions(schemas: dict[str, Any]) -> None:
    """The append body: one envelope per event type, told apart by `type` (a discriminator)."""
    envelope = TypeAdapter(models.EventSubmission).json_schema(ref_template=REF)
    mapping = {}
    for name in EVENT_TYPES:
        one = copy.deepcopy(envelope)
        one["title"] = SUBMISSION.format(type=name)
        one["description"] = f"Append a {name} event."
        one["properties"]["type"] = {"const": name, "type": "string"}
        one["properties"]["data"] = {
            **_ref(name),
            "description": envelope["properties"]["data"]["description"],
        }
        schemas[one["title"]] = one
        mapping[name] = REF.format(model=one["title"])
    schemas["EventSubmission"] = {
        "title": "EventSubmission",
        "description": envelope["description"],
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    models.ProblemDetails,
    models.RecordedEvent,
    models.CalendarState,
    models.History,
    models.EventsPage,
    models.VerifyReport,
    models.Health,
)


def _schemas() -> dict[str, Any]:
    """Component schemas: the event data models, the envelopes, the answers and the problem."""
    schemas: dict[str, Any] = {}
    events = EVENT_ADAPTER.json_schema(ref_template=REF)
    schemas.update(events.pop("$defs"))
    for name in EVENT_TYPES:
        # in the envelope the type sits beside `data`, not inside it
        model = schemas[name]
        model["properties"].pop("type", None)
        model["required"] = [r for r in model.get("required", []) if r != "type"]
        if not model["required"]:
            del model["required"]
    _submissions(schemas)
    for response in RESPONSE_MODELS:
        schema = response.model_json_schema(ref_template=REF, mode="serialization")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[schema["title"]] = schema
    _state_constraints(schemas)
    return schemas


def _param(
    name: str, where: str, schema: dict[str, Any], text: str, **extra: Any
) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": text, **extra}


SUMMIT_ID = _param(
    "summit_id",
    "path",
    {"type": "string", "pattern": SUMMIT_ID_PATTERN},
    "The summit's slug.",
    required=True,
    example="kr-jp-2025-08-tokyo",
)
POINT = [
    _param(
        "as_of",
        "query",
        {"type": "string", "format": "date-time"},
        "RFC 3339 instant with an offset or Z: the log as it was then. Not with at_position.",
    ),
    _param(
        "at_position",
        "query",
        {"type": "integer", "minimum": 0, "maximum": MAX_INT},
        "Events 1..N of the log; 422 beyond its head. Not with as_of.",
    ),
]
PAGING = [
    _param(
        "after",
        "query",
        {"type": "integer", "minimum": 0, "maximum": MAX_INT},
        "A log position: the page starts after it (`next_after` of the page before).",
    ),
    _param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        "Page size, capped at 1000.",
    ),
]

SUMMIT_PAGING = [
    _param(
        "after",
        "query",
        {"type": "string", "pattern": SUMMIT_ID_PATTERN},
        "A summit_id (`next_after` of the page before): the page starts just after it, in the "
        "list's order (start, then summit_id). To walk one state of a changing calendar, pass "
        "the first page's `position` as `at_position`.",
    ),
    _param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        "Page size, capped at 1000. Without `limit` and `after`, the whole list.",
    ),
]


def _listed(name: str, values: Iterable[str], text: str) -> dict[str, Any]:
    schema = {"type": "array", "items": {"type": "string", "enum": list(values)}}
    return _param(name, "query", schema, text, style="form", explode=True)


FILTERS = [
    _listed(
        "country",
        country_codes(),
        "ISO 3166-1 alpha-2 code of a participant or the host; repeatable, comma separated "
        "lists and lower case are accepted too.",
    ),
    _listed("kind", KINDS, "Kinds; repeatable or comma separated."),
    _listed("status", STATUSES, "Statuses; repeatable or comma separated."),
]

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "Validator of the representation.", "schema": {"type": "string"}},
    "Last-Modified": {
        "description": "HTTP-date of the last event recorded in the view.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "The summit's URL.", "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Cache-Control": {
        "description": "How long and by whom the answer may be cached.",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {"description": "File name.", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "The Bearer challenge.", "schema": {"type": "string"}},
}


def _headers(*names: str, required: Iterable[str] = ()) -> dict[str, Any]:
    must = set(required)
    return {
        name: {**HEADERS[name], **({"required": True} if name in must else {})} for name in names
    }


def _response(
    text: str, content: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"description": text}
    if content:
        out["content"] = content
    if headers:
        out["headers"] = headers
    return out


def _json(model: str, text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _response(text, {"application/json": {"schema": _ref(model)}}, headers)


def _problem(text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _response(text, {MEDIA_TYPE: {"schema": _ref("ProblemDetails")}}, headers)


UNAVAILABLE = {"$ref": "#/components/responses/Unavailable"}
BAD_PARAMS = {"$ref": "#/components/responses/BadParameters"}
CACHED = ("Cache-Control",)
HTML = {"text/html": {"schema": {"type": "string"}}}
NOT_MODIFIED = _response(
    "Not modified (If-None-Match or If-Modified-Since still match).",
    {},
    _headers("ETag", "Last-Modified", *CACHED, required=["ETag"]),
)


def _ics(text: str, extra: Iterable[str] = ()) -> dict[str, Any]:
    headers = _headers("ETag", "Last-Modified", *CACHED, *extra, required=["ETag"])
    ok = _response(text, {"text/calendar": {"schema": {"type": "string"}}}, headers)
    return {"200": ok, "304": NOT_MODIFIED}


def _get(
    summary: str, responses: dict[str, Any], params: Iterable[Any] = (), *, always: bool = False
) -> Any:
    """A GET operation; every one may answer 503 when the store cannot be read."""
    answers = responses if always else {**responses, "503": UNAVAILABLE}  # always: no store
    return {"get": {"summary": summary, "parameters": list(params), "responses": answers}}


def _append() -> dict[str, Any]:
    recorded = _headers("Location", "ETag", required=["Location", "ETag"])
    return {
        "post": {
            "summary": "Append an event to a summit's stream.",
            "description": (
                "201 with the recorded event. Resending an event_id already in the log with "
                "the same content appends nothing and answers 200 with the first result. "
                "Errors, first applicable wins: 401/403, 413, 415, 422 (body shape), 404, "
                "412, 422 (event data), 409."
            ),
            "security": [{"bearer": []}],
            "parameters": [
                SUMMIT_ID,
                _param(
                    "If-Match",
                    "header",
                    {"type": "string"},
                    'Expected version of the summit, like "3" (or *).',
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _ref("EventSubmission"),
                        "example": {
                            "type": "SummitNoted",
                            "data": {"note": "Reported as postponed; not confirmed yet."},
                        },
                    }
                },
            },
            "responses": {
                "201": _json("RecordedEvent", "Recorded.", recorded),
                "200": _json("RecordedEvent", "Replay of a known event_id.", recorded),
                "401": _problem(
                    "No token, or not a valid one.",
                    _headers("WWW-Authenticate", required=["WWW-Authenticate"]),
                ),
                "403": _problem("Read-only token."),
                "404": _problem("Unknown summit."),
                "409": _problem("A rule is broken, the version moved on, or event_id is taken."),
                "412": _problem("If-Match is stale or not a version.", _headers("ETag")),
                "413": _problem("Body over 1 MiB."),
                "415": _problem("Not JSON."),
                "422": _problem("Invalid; `errors` names each field."),
                "503": UNAVAILABLE,
            },
        }
    }


def _paths() -> dict[str, Any]:
    unknown = _problem("Unknown summit.")
    gone = _problem("Retracted: it never was a real summit.")
    return {
        "/calendar.ics": _get(
            "The iCalendar feed, filtered, live or as of a point.",
            {**_ics("The feed."), "422": BAD_PARAMS},
            FILTERS + POINT,
        ),
        "/summits/{summit_id}.ics": _get(
            "One summit as a single-event file.",
            {
                **_ics("The event.", ["Content-Disposition"]),
                "404": _problem("Unknown, or not dated to the day yet."),
                "410": gone,
            },
            [SUMMIT_ID],
        ),
        "/": _get(
            "HTML page: upcoming, undated and past summits, subscribe links.",
            {"200": _response("HTML", HTML, _headers(*CACHED)), "422": BAD_PARAMS},
            [
                *FILTERS,
                _param(
                    "tz",
                    "query",
                    {"type": "string"},
                    "IANA zone for times; an unknown one is said on the page.",
                ),
            ],
        ),
        "/summits/{summit_id}": _get(
            "HTML page of one summit with its history.",
            {
                "200": _response("HTML", HTML, _headers(*CACHED)),
                "404": _response(
                    "No such summit (a path ending in .ics is the summit's calendar file).",
                    {**HTML, MEDIA_TYPE: {"schema": _ref("ProblemDetails")}},
                ),
                "410": _response("Retracted: the page says so, with its history.", HTML),
                "422": BAD_PARAMS,
            },
            [SUMMIT_ID],
        ),
        "/favicon.ico": _get(
            "The icon.",
            {
                "200": _response(
                    "SVG icon",
                    {"image/svg+xml": {"schema": {"type": "string"}}},
                    _headers("ETag", "Last-Modified", *CACHED),
                ),
                "304": NOT_MODIFIED,
            },
            always=True,
        ),
        "/static/{filename}": _get(
            "Stylesheet and icon.",
            {
                "200": _response(
                    "A static file",
                    {"*/*": {"schema": {"type": "string"}}},
                    _headers("ETag", "Last-Modified", *CACHED),
                ),
                "304": NOT_MODIFIED,
                "404": _problem("No such file."),
            },
            [
                _param(
                    "filename",
                    "path",
                    {"type": "string"},
                    "File name.",
                    required=True,
                    example="style.css",
                )
            ],
            always=True,
        ),
        "/api/summits/{summit_id}/events": _append(),
        "/api/summits": _get(
            "The calendar's state, whole or a page at a time.",
            {"200": _json("CalendarState", "Summits.", _headers(*CACHED)), "422": BAD_PARAMS},
            FILTERS + POINT + SUMMIT_PAGING,
        ),
        "/api/summits/{summit_id}": _get(
            "One summit; ETag is its version.",
            {
                "200": _json("Summit", "The summit.", _headers("ETag", *CACHED, required=["ETag"])),
                "404": unknown,
                "410": gone,
                "422": BAD_PARAMS,
            },
            [SUMMIT_ID, *POINT],
        ),
        "/api/summits/{summit_id}/history": _get(
            "One summit's recorded events (retracted ones too), a page at a time.",
            {
                "200": _json("History", "A page of its history.", _headers(*CACHED)),
                "404": unknown,
                "422": BAD_PARAMS,
            },
            [SUMMIT_ID, *PAGING],
        ),
        "/api/events": _get(
            "The log in position order, paged.",
            {"200": _json("EventsPage", "A page.", _headers(*CACHED)), "422": BAD_PARAMS},
            PAGING,
        ),
        "/api/audit/verify": _get(
            "Re-check the hash chain.",
            {"200": _json("VerifyReport", "Report.", _headers(*CACHED))},
        ),
        "/api/openapi.json": _get(
            "This document.",
            {
                "200": _response(
                    "OpenAPI 3.1.", {"application/json": {"schema": {"type": "object"}}}
                )
            },
            always=True,
        ),
        "/healthz": _get(
            "Liveness, and the state of the hash chain.",
            {
                "200": _json("Health", "OK.", _headers(*CACHED)),
                "503": _response(
                    "The chain is broken or the store does not answer.",
                    {
                        "application/json": {"schema": _ref("Health")},
                        MEDIA_TYPE: {"schema": _ref("ProblemDetails")},
                    },
                    _headers("Retry-After", *CACHED),
                ),
            },
            always=True,
        ),
    }


def _components() -> dict[str, Any]:
    return {
        "schemas": _schemas(),
        "responses": {
            "Unavailable": _problem(
                "The store refuses reads or writes for now; nothing was appended.",
                _headers("Retry-After", required=["Retry-After"]),
            ),
            "BadParameters": _problem("A parameter is invalid; `errors` names it."),
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "diplocal",
            "version": "1",
            "description": "An event-sourced diplomatic calendar with iCalendar feeds.",
        },
        "paths": _paths(),
        "components": _components(),
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    """Serve the document."""
    return jsonify(copy.deepcopy(document()))
