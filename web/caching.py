"""Cache-Control on every response: revalidated for live views, a year for views that never change.

- Live feeds (`/calendar.ics`, `/summits/<id>.ics`): `public, max-age=60, must-revalidate`.
  Subscribers poll every few hours at most, so a minute of staleness costs them nothing, while
  a shared cache in front of many subscribers may answer for that minute; after it, the ETag
  and Last-Modified make each revalidation a 304.
- Live API reads and pages: `no-cache` (store, but ask each time). An editor reads right after
  writing and must see the write; the page also sorts by the clock (upcoming / past).
- `at_position=N` views (feed, `/api/summits`, `/api/summits/<id>`): events 1..N are
  append-only history, so `public, max-age=31536000, immutable`.
- `as_of=T` views: fixed once the log has passed T, i.e. once a record was stamped after T
  (stamps never go back, so nothing can join the view later): then immutable like a position.
  Before that (T in the future, or no record yet after T) an import may still add a record
  stamped at or before T, so the view is live.
- POST and every error: `no-store`.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from events import parse_stamp
from web.cache import LIVE_FEED
from web.context import state
from web.params import parse_instant
from web.problems import Problem

FIXED = "public, max-age=31536000, immutable"
LIVE = "no-cache"
NO_STORE = "no-store"
__all__ = ["FIXED", "LIVE", "LIVE_FEED", "NO_STORE", "policy", "register"]

# The endpoints that read `as_of` / `at_position`; every other one shows the live log.
POINT_ENDPOINTS = frozenset({"feeds.calendar_feed", "api.list_summits", "api.get_summit"})
FEED_ENDPOINTS = frozenset({"feeds.calendar_feed", "feeds.summit_file"})
_READS = frozenset({"GET", "HEAD"})


def _as_of_passed() -> None:
    """Before the view is built: note whether the log already holds a record after `as_of`.

    Checked before, not after, the view: once true it stays true, so a view built afterwards
    is the final one (after it, a record stamped at or before T could slip in between).
    """
    g.diplocal_as_of_fixed = False
    raw = request.args.get("as_of")
    if (
        raw is None
        or request.method not in _READS
        or request.endpoint not in POINT_ENDPOINTS
        or "at_position" in request.args
    ):
        return
    try:
        instant = parse_instant(raw, "as_of")
    except Problem:
        return  # the view answers 422, which is not stored
    head = state().store.head()
    g.diplocal_as_of_fixed = head is not None and parse_stamp(head.recorded_at) > instant


def policy(response: Response) -> str | None:
    """The Cache-Control a response gets (None: keep the one it has, as static files do)."""
    if request.method not in _READS or response.status_code >= 400:
        return NO_STORE
    endpoint = request.endpoint
    if endpoint in POINT_ENDPOINTS and (
        "at_position" in request.args or g.get("diplocal_as_of_fixed", False)
    ):
        return FIXED
    if endpoint in FEED_ENDPOINTS:
        return LIVE_FEED
    if "Cache-Control" in response.headers:
        return None
    return LIVE


def _set_policy(response: Response) -> Response:
    chosen = policy(response)
    if chosen is not None:
        response.headers["Cache-Control"] = chosen
    return response


def register(app: Flask) -> None:
    """Give every response of the app its Cache-Control."""
    app.before_request(_as_of_passed)
    app.after_request(_set_policy)
