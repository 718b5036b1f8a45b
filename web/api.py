"""The JSON API (CONTRACT section 5): append events, read summits, the log and its audit."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from calendar_core.query import calendar_json, summit_json
from calendar_core.rules import Refused, UnknownSummit
from calendar_core.schedule import ScheduleError
from calendar_core.service import handle
from calendar_core.summit import Status
from events import ConcurrencyError, EventIdReused, NewEvent, Recorded
from events.schema import SUMMIT_ID_PATTERN, field_errors
from web.auth import writer
from web.context import state
from web.models import EventSubmission
from web.params import parse_point, parse_query, resolve
from web.problems import Problem, invalid

bp = Blueprint("api", __name__)

_VERSION_TAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def _read_body(limit: int) -> bytes:
    """The request body, or 413 when it is over the limit."""
    too_large = Problem(413, "Content Too Large", f"the body may be at most {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def _submission(body: bytes) -> EventSubmission:
    """The envelope {type, data, event_id}; 415 unless JSON, 422 naming the bad field."""
    if not request.is_json:
        raise Problem(
            415,
            "Unsupported Media Type",
            "send the event as JSON with 'Content-Type: application/json'",
        )
    try:
        return EventSubmission.model_validate_json(body)
    except ValidationError as error:
        errors = []
        for item in error.errors(include_url=False):
            field = ".".join(str(p) for p in item["loc"]) or "body"
            errors.append((field, item["msg"]))
        raise Problem(422, "Invalid event", _summary(errors), errors=errors) from None


def _summary(errors: list[tuple[str, str]]) -> str:
    return "; ".join(f"{field}: {message}" for field, message in errors)


def _data_problem(error: ValueError) -> Problem:
    if isinstance(error, ValidationError):
        errors = [
            (field if field == "data" else f"data.{field}", message)
            for field, message in field_errors(error)
        ]
    else:
        errors = [("data", str(error))]
    return Problem(422, "Invalid event", _summary(errors), errors=errors)


def _expected_version(header: str | None) -> int | None:
    """If-Match `"<version>"` as an int (None when absent); 412 when it cannot match."""
    if header is None or header.strip() == "*":
        return None
    match = _VERSION_TAG.match(header)
    if match is None:
        raise Problem(
            412, "Precondition Failed", f'If-Match {header!r} is not a summit version like "3"'
        )
    return int(match[1])


def _recorded(record: Recorded, status: int) -> Response:
    response = jsonify(record.fields())
    response.status_code = status
    response.headers["Location"] = f"/api/summits/{record.summit_id}"
    response.headers["ETag"] = f'"{record.version}"'
    return response


@bp.post("/api/summits/<summit_id>/events")
def append_event(summit_id: str) -> Response:
    """Append one event to a summit's stream (201), or replay a known event_id (200)."""
    st = state()
    name = writer(st.store, request.headers.get("Authorization"))
    body = _read_body(int(st.settings["MAX_BODY_BYTES"]))
    submission = _submission(body)
    if submission.event_id is not None:
        prior = st.store.by_event_id(submission.event_id)
        if prior is not None:
            if (prior.summit_id, prior.type, prior.data) == (
                summit_id,
                submission.type,
                submission.data,
            ):
                return _recorded(prior, 200)
            raise Problem(
                409,
                "Conflict",
                f"event_id {submission.event_id} is already used by another event "
                f"(position {prior.position})",
            )
    version = len(st.store.stream(summit_id))
    if version == 0 and submission.type != "SummitAnnounced":
        raise Problem(404, "Not Found", f"no summit {summit_id!r}; announce it first")
    if_match = request.headers.get("If-Match")
    expected = _expected_version(if_match)
    if version == 0 and if_match is not None:
        raise Problem(412, "Precondition Failed", f"{summit_id} does not exist yet")
    if expected is not None and expected != version:
        raise Problem(
            412,
            "Precondition Failed",
            f"{summit_id} is at version {version}, not {expected}",
            headers={"ETag": f'"{version}"'},
        )
    if version == 0 and not re.match(SUMMIT_ID_PATTERN, summit_id):
        raise invalid("summit_id", f"must match {SUMMIT_ID_PATTERN}", title="Invalid event")
    extra: dict[str, Any] = {"recorded_by": name}
    if submission.event_id is not None:
        extra["event_id"] = submission.event_id
    try:
        new = NewEvent.of(submission.type, submission.data, **extra)
    except ValueError as error:
        raise _data_problem(error) from None
    try:
        record = handle(st.store, summit_id, new, expected_version=expected)
    except ScheduleError as error:
        raise Problem(
            422, "Invalid event", f"data.schedule: {error}", errors=[("data.schedule", str(error))]
        ) from None
    except UnknownSummit:
        raise Problem(404, "Not Found", f"no summit {summit_id!r}; announce it first") from None
    except Refused as error:
        raise Problem(409, "Conflict", str(error)) from None
    except ConcurrencyError as error:
        if expected is not None:
            raise Problem(
                412, "Precondition Failed", str(error), headers={"ETag": f'"{error.actual}"'}
            ) from None
        raise Problem(409, "Conflict", str(error)) from None
    except EventIdReused as error:
        raise Problem(409, "Conflict", str(error)) from None
    return _recorded(record, 201)


@bp.get("/api/summits")
def list_summits() -> Response:
    """The calendar's current state (or as of a point), filtered as the feed is."""
    st = state()
    query = parse_query(request.args)
    point = parse_point(request.args)
    with st.live.lock:
        view = resolve(st.live, point)
        payload = calendar_json(view.calendar, query)
    payload["position"] = view.position
    return jsonify(payload)


@bp.get("/api/summits/<summit_id>")
def get_summit(summit_id: str) -> Response:
    """One summit (ETag = its version); 404 unknown, 410 retracted."""
    st = state()
    point = parse_point(request.args)
    with st.live.lock:
        view = resolve(st.live, point)
        summit = view.calendar.summits.get(summit_id)
        if summit is None:
            raise Problem(404, "Not Found", f"no summit {summit_id!r} at position {view.position}")
        if summit.status is Status.RETRACTED:
            raise Problem(410, "Gone", f"{summit_id} was retracted: it never was a real summit")
        payload = summit_json(summit)
    response = jsonify(payload)
    response.headers["ETag"] = f'"{summit.version}"'
    return response


@bp.get("/api/summits/<summit_id>/history")
def summit_history(summit_id: str) -> Response:
    """Every recorded event of one summit, retracted ones included."""
    records = state().store.stream(summit_id)
    if not records:
        raise Problem(404, "Not Found", f"no summit {summit_id!r}")
    return jsonify({"summit_id": summit_id, "events": [r.fields() for r in records]})


def _int_arg(name: str, default: int, minimum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < minimum:
        raise invalid(name, f"{raw!r} is not a whole number >= {minimum}")
    return int(raw)


@bp.get("/api/events")
def log_page() -> Response:
    """One page of the log in position order; follow `next_after` for the next page."""
    st = state()
    cap = int(st.settings["EVENTS_PAGE_LIMIT"])
    after = _int_arg("after", 0, 0)
    limit = min(_int_arg("limit", min(100, cap), 1), cap)
    records = st.store.read(after, limit)
    head = st.live.head_position()
    next_after = records[-1].position if records and records[-1].position < head else None
    return jsonify(
        {
            "events": [r.fields() for r in records],
            "after": after,
            "limit": limit,
            "head": head,
            "next_after": next_after,
        }
    )


@bp.get("/api/audit/verify")
def audit_verify() -> Response:
    """Re-check the hash chain of the whole log."""
    return jsonify(state().store.verify().fields())


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness (and the head position, which proves the store answers)."""
    return jsonify({"status": "ok", "position": state().live.head_position()})
