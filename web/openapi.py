"""The OpenAPI 3.1 document, generated from the pydantic models that validate the requests."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import TypeAdapter

from calendar_core.query import STATUSES
from events import Recorded
from events.schema import EVENT_ADAPTER, EVENT_TYPES, KINDS
from web.models import EventSubmission, ProblemDetails
from web.problems import MEDIA_TYPE

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _schemas() -> dict[str, Any]:
    """Component schemas: the event data models, the envelope, the record and the problem."""
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
    for adapter in (
        TypeAdapter(EventSubmission),
        TypeAdapter(Recorded),
        TypeAdapter(ProblemDetails),
    ):
        schema = adapter.json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[schema["title"]] = schema
    envelope = schemas["EventSubmission"]
    envelope["properties"]["data"] = {
        "description": envelope["properties"]["data"].get("description", ""),
        "anyOf": [_ref(name) for name in EVENT_TYPES],
    }
    schemas["Summit"] = {
        "type": "object",
        "description": "A summit as the calendar knows it (CONTRACT section 5).",
        "required": [
            "summit_id",
            "title",
            "kind",
            "status",
            "disputed",
            "schedule",
            "start_utc",
            "end_utc",
            "location",
            "participants",
            "version",
            "sequence",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "summit_id": {"type": "string"},
            "title": {"type": "string"},
            "kind": {"enum": list(KINDS)},
            "status": {"enum": list(STATUSES)},
            "disputed": {"type": "boolean"},
            "schedule": _ref("Schedule"),
            "start_utc": {"type": ["string", "null"], "format": "date-time"},
            "end_utc": {"type": ["string", "null"], "format": "date-time"},
            "location": _ref("Location"),
            "participants": {"type": "array", "items": _ref("Participant")},
            "version": {"type": "integer"},
            "sequence": {"type": "integer"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    }
    schemas["CalendarState"] = {
        "type": "object",
        "required": ["position", "summits"],
        "properties": {
            "position": {"type": "integer"},
            "summits": {"type": "array", "items": _ref("Summit")},
        },
    }
    return schemas


def _param(
    name: str, where: str, schema: dict[str, Any], text: str, **extra: Any
) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": text, **extra}


SUMMIT_ID = _param("summit_id", "path", {"type": "string"}, "The summit's slug.", required=True)
POINT = [
    _param("as_of", "query", {"type": "string", "format": "date-time"}, "RFC 3339 instant."),
    _param("at_position", "query", {"type": "integer", "minimum": 0}, "Events 1..N."),
]
FILTERS = [
    _param(
        "country",
        "query",
        {"type": "array", "items": {"type": "string"}},
        "ISO 3166-1 alpha-2, participant or host; repeatable.",
        style="form",
        explode=True,
    ),
    _param("kind", "query", {"type": "string"}, "Kind(s), comma separated."),
    _param("status", "query", {"type": "string"}, "Status(es), comma separated."),
]


def _json(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema}}}


def _problem(text: str) -> dict[str, Any]:
    return {"description": text, "content": {MEDIA_TYPE: {"schema": _ref("ProblemDetails")}}}


def _ics(text: str) -> dict[str, Any]:
    ok = {"description": text, "content": {"text/calendar": {"schema": {"type": "string"}}}}
    return {
        "200": ok,
        "304": {"description": "Not modified (If-None-Match or If-Modified-Since)."},
    }


def _get(summary: str, responses: dict[str, Any], params: list[Any] | None = None) -> Any:
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _paths() -> dict[str, Any]:
    obj = {"type": "object"}
    bad = _problem("A parameter is invalid; `errors` names it.")
    return {
        "/calendar.ics": _get(
            "The iCalendar feed, filtered, live or as of a point.",
            {**_ics("The feed."), "422": bad},
            FILTERS + POINT,
        ),
        "/summits/{summit_id}.ics": _get(
            "One summit as a single-event file.",
            {**_ics("The event."), "404": _problem("Unknown."), "410": _problem("Retracted.")},
            [SUMMIT_ID],
        ),
        "/": _get(
            "HTML page: upcoming, undated and past summits, subscribe links.",
            {"200": {"description": "HTML", "content": {"text/html": {}}}},
            [*FILTERS, _param("tz", "query", {"type": "string"}, "IANA zone for times.")],
        ),
        "/summits/{summit_id}": _get(
            "HTML page of one summit with its history.",
            {"200": {"description": "HTML", "content": {"text/html": {}}}},
            [SUMMIT_ID],
        ),
        "/favicon.ico": _get("The icon.", {"200": {"description": "SVG icon"}}),
        "/static/{filename}": _get(
            "Stylesheet and icon.",
            {"200": {"description": "A static file"}},
            [_param("filename", "path", {"type": "string"}, "File name.", required=True)],
        ),
        "/api/summits/{summit_id}/events": {
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
                    _param("If-Match", "header", {"type": "string"}, 'Expected version, like "3".'),
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("EventSubmission")}},
                },
                "responses": {
                    "201": _json(_ref("Recorded"), "Recorded."),
                    "200": _json(_ref("Recorded"), "Replay of a known event_id."),
                    "401": _problem("No token, or not a valid one."),
                    "403": _problem("Read-only token."),
                    "404": _problem("Unknown summit."),
                    "409": _problem("A rule is broken, or the version moved on."),
                    "412": _problem("If-Match is stale."),
                    "413": _problem("Body over 1 MiB."),
                    "415": _problem("Not JSON."),
                    "422": _problem("Invalid; `errors` names each field."),
                },
            }
        },
        "/api/summits": _get(
            "The calendar's state.",
            {"200": _json(_ref("CalendarState"), "Summits."), "422": bad},
            FILTERS + POINT,
        ),
        "/api/summits/{summit_id}": _get(
            "One summit; ETag is its version.",
            {
                "200": _json(_ref("Summit"), "The summit."),
                "404": _problem("Unknown."),
                "410": _problem("Retracted."),
                "422": bad,
            },
            [SUMMIT_ID, *POINT],
        ),
        "/api/summits/{summit_id}/history": _get(
            "Every recorded event of one summit (retracted ones too).",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "summit_id": {"type": "string"},
                            "events": {"type": "array", "items": _ref("Recorded")},
                        },
                    },
                    "History.",
                ),
                "404": _problem("Unknown."),
            },
            [SUMMIT_ID],
        ),
        "/api/events": _get(
            "The log in position order, paged.",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "events": {"type": "array", "items": _ref("Recorded")},
                            "next_after": {"type": ["integer", "null"]},
                            "head": {"type": "integer"},
                        },
                    },
                    "A page.",
                ),
                "422": bad,
            },
            [
                _param("after", "query", {"type": "integer", "minimum": 0}, "Position."),
                _param("limit", "query", {"type": "integer", "minimum": 1}, "Capped at 1000."),
            ],
        ),
        "/api/audit/verify": _get("Re-check the hash chain.", {"200": _json(obj, "Report.")}),
        "/api/openapi.json": _get("This document.", {"200": _json(obj, "OpenAPI 3.1.")}),
        "/healthz": _get("Liveness.", {"200": _json(obj, "OK.")}),
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
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    """Serve the document."""
    return jsonify(copy.deepcopy(document()))
