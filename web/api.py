"""The JSON API (CONTRACT section 5): append events, read summits, the log and its audit."""

from __future__ import annotations

import bisect
import re

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from calendar_core.query import calendar_json, select, summit_json
from calendar_core.service import Refusal, Submission, record_event
from calendar_core.summit import Status, Summit, order_key
from events import Recorded
from web.auth import reader, writer
from web.context import state
from web.live import View
from web.models import EventSubmission
from web.params import LARGEST, page_limit, parse_point, parse_query, resolve, whole_number
from web.problems import Problem, invalid

bp = Blueprint("api", __name__)

_VERSION_TAG = re.compile(r'\s*(?:W/)?"?([0-9]{1,19})"?\s*', re.ASCII)


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


def _expected_version(header: str | None) -> int | None:
    """If-Match `"<version>"` as an int (None when absent or `*`); 412 when it cannot match."""
    if header is None or header.strip() == "*":
        return None
    match = _VERSION_TAG.fullmatch(header)
    if match is None or int(match[1]) > LARGEST:
        raise Problem(
            412,
            "Precondition Failed",
            f'If-Match {header[:40]!r} is not a summit version like "3"',
        )
    return int(match[1])


def _recorded(record: Recorded, status: int) -> Response:
    response = jsonify(record.fields())
    response.status_code = status
    response.headers["Location"] = f"/api/summits/{record.summit_id}"
    response.headers["ETag"] = f'"{record.version}"'
    return response


_REFUSED = {
    Refusal.UNKNOWN_SUMMIT: (404, "Not Found"),
    Refusal.STALE: (412, "Precondition Failed"),
    Refusal.INVALID: (422, "Invalid event"),
    Refusal.RULE: (409, "Conflict"),
    Refusal.EVENT_ID_REUSED: (409, "Conflict"),
}


@bp.post("/api/summits/<summit_id>/events")
def append_event(summit_id: str) -> Response:
    """Append one event to a summit's stream (201), or replay a known event_id (200)."""
    st = state()
    name = writer(st.tokens, request.headers.get("Authorization"))
    body = _read_body(int(st.settings["MAX_BODY_BYTES"]))
    submission = _submission(body)
    if_match = request.headers.get("If-Match")
    expected = _expected_version(if_match)
    sent = Submission(summit_id, submission.type, submission.data, submission.event_id, name)
    outcome = record_event(
        st.store,
        sent,
        expected_version=expected,
        must_exist=if_match is not None,
        state_of=st.live.summit,
    )
    if outcome.record is not None:
        return _recorded(outcome.record, 200 if outcome.replayed else 201)
    assert outcome.refusal is not None
    status, title = _REFUSED[outcome.refusal]
    headers = {} if outcome.version is None else {"ETag": f'"{outcome.version}"'}
    raise Problem(status, title, outcome.message, errors=outcome.errors, headers=headers)


@bp.get("/api/summits")
def list_summits() -> Response:
    """The calendar's current state (or as of a point), filtered as the feed is; with `limit`
    or `after` (a summit_id, as `next_after` gives it) one page of it in the list's order."""
    st = state()
    query = parse_query(request.args)
    point = parse_point(request.args)
    after = request.args.get("after")
    cap = int(st.settings["EVENTS_PAGE_LIMIT"])
    limit = None if "limit" not in request.args else page_limit(request.args, cap, cap)
    with st.live.lock:
        view = resolve(st.live, point)
        if after is None and limit is None:
            payload = calendar_json(view.calendar, query)
            payload["position"] = view.position
            return jsonify(payload)
        summits = select(view.calendar, query)
        start = 0 if after is None else _place_after(summits, view, after)
        end = len(summits) if limit is None else start + limit
        page = summits[start:end]
        listed = [summit_json(summit) for summit in page]
    return jsonify(
        {
            "position": view.position,
            "summits": listed,
            "after": after,
            "limit": limit,
            "next_after": page[-1].summit_id if page and end < len(summits) else None,
        }
    )


def _place_after(summits: list[Summit], view: View, after: str) -> int:
    """The index in the sorted list just past the summit `after` names: it need not be listed
    (retracted or filtered out since the page before), only known at the view's position."""
    cursor = view.calendar.summits.get(after)
    if cursor is None:
        raise invalid("after", f"no summit {after[:80]!r} at position {view.position}")
    return bisect.bisect_right(summits, order_key(cursor), key=order_key)


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
    """A summit's recorded events (retracted ones included), a page at a time: `after` is a
    log position, as `next_after` gives it."""
    st = state()
    after = _number("after", 0, 0)
    cap = int(st.settings["EVENTS_PAGE_LIMIT"])
    limit = page_limit(request.args, cap, cap)
    records = list(st.store.read(summit_id=summit_id, after=after, limit=limit + 1))
    if not records and after == 0:
        raise Problem(404, "Not Found", f"no summit {summit_id!r}")
    page = records[:limit]
    return jsonify(
        {
            "summit_id": summit_id,
            "events": [r.fields() for r in page],
            "after": after,
            "limit": limit,
            "next_after": page[-1].position if len(records) > limit else None,
        }
    )


def _number(name: str, default: int, minimum: int) -> int:
    raw = request.args.get(name)
    return default if raw is None else whole_number(raw, name, minimum)


@bp.get("/api/events")
def log_page() -> Response:
    """One page of the log in position order; follow `next_after` for the next page."""
    st = state()
    after = _number("after", 0, 0)
    limit = page_limit(request.args, int(st.settings["EVENTS_PAGE_LIMIT"]), 100)
    records = list(st.store.read(after=after, limit=limit))
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
    """Re-check the hash chain: from where this process last checked it, or (`full=true`,
    for a token holder) from position 1."""
    st = state()
    if request.args.get("full") == "true":
        reader(st.tokens, request.headers.get("Authorization"))
        return jsonify(st.store.verify().fields())
    return jsonify(st.chain.check(st.store).fields())


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness, the head position, and the chain's state: "verifying" while a starting
    server checks the whole log, 503 once it is found broken."""
    st = state()
    report = st.chain.report(st.store)
    if report is None:  # the server started lately and still verifies the whole log
        return jsonify(
            {
                "status": "verifying",
                "position": st.live.head_position(),
                "chain": {"verifying": True, "checked": st.chain.checked},
            }
        )
    response = jsonify(
        {
            "status": "ok" if report.ok else "chain broken",
            "position": st.live.head_position(),
            "chain": report.fields(),
        }
    )
    if not report.ok:
        response.status_code = 503
        response.headers["Retry-After"] = "60"
    return response
