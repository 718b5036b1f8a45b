"""The iCalendar feeds: `/calendar.ics` (filtered, as of any point) and `/summits/<id>.ics`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from calendar_core.ical import Coverage
from calendar_core.listing import Listing
from calendar_core.projection import Calendar, Streams
from calendar_core.query import Query, select
from calendar_core.summit import Status
from events import Recorded
from events.renderings import Rendering
from web.cache import Rendered
from web.context import State, state
from web.params import parse_point, parse_query, resolve
from web.problems import Problem
from web.renderings import KEEP_FEED_EVERY, RenderingKeeper

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("feeds", __name__)

FAST_QUERY_LIMIT = 1024
# A worker starting this many records or fewer after the whole feed kept last catches that
# feed up (folding again the summits they changed, from their streams) and serves it at once.
CATCH_UP_RECORDS = 2 * KEEP_FEED_EVERY
WHOLE = Query().key()  # the unfiltered feed: the one a restarted worker has kept
WHOLE_NAME = ""  # its query, as kept
UNDATED = frozenset({"year", "month"})  # coarser than a day: not in any feed


def serve_kept_feed(st: State) -> Listing | None:
    """Put the whole feed in the response cache from its kept listing, caught up with the log
    when a few records came after it, ready before the calendar is restored (call before any
    request); that listing, if there was one."""
    keeper, head = st.renderings, st.store.head()
    kept = None if keeper is None or head is None else keeper.kept_feed(WHOLE_NAME)
    if keeper is None or head is None or kept is None:
        return None
    if not 0 <= head.position - kept.position <= CATCH_UP_RECORDS:
        return None
    at = head if head.position == kept.position else _record_at(st, kept.position)
    if at is None or at.hash != kept.head_hash:  # the log it was listed from is not this one
        return None
    listing = Listing.load(Query(), kept.body)
    listing.catch_up(
        st.store.read(after=kept.position, until=head.position), _stream(st), keeper.chunks
    )
    body = keeper.renderer.assemble(
        listing.chunks, listing.coverage(), last_modified=head.recorded_at
    )
    base = keeper.renderer.options.base_url
    st.feeds.put((head.position, (base, WHOLE)), Rendered.of(body, head.recorded_at))
    st.fast_queries[""] = WHOLE
    st.listings.put((base, WHOLE), listing)
    return listing


def _record_at(st: State, position: int) -> Recorded | None:
    return next(st.store.read(after=position - 1, limit=1), None)


def _stream(st: State) -> Streams:
    return lambda summit_id, until: st.store.read(summit_id=summit_id, until=until)


def list_whole_feed(st: State, calendar: Calendar) -> None:
    """List the whole feed of the fixed base URL with its kept VEVENTs, so that the feed after
    a restarted worker's first change costs that change (call with the live lock held)."""
    if st.renderings is not None:
        base = st.renderings.renderer.options.base_url
        listing = st.listings.get((base, WHOLE), Query())
        listing.bind(calendar)  # a kept listing, caught up before the calendar was restored
        listing.follow(calendar, st.renderings.chunks)


def respond(rendered: Rendered, st: State) -> Response:
    """A 200 with the cached bytes, or a 304 when the request's validators still match."""
    if rendered.not_modified(
        request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"), st.clock()
    ):
        return Response(status=304, headers=list(rendered.not_modified_headers))
    return Response(rendered.body, 200, headers=list(rendered.headers))


def _base(st: State) -> str:
    """The base URL of this request's feed links; 400 when its Host is not a valid host."""
    base = st.feed_base(request.environ)
    if base is None:
        raise Problem(400, "Bad Request", "the Host header does not name a valid host")
    return base


@bp.get("/calendar.ics")
def calendar_feed() -> Response:
    """The whole calendar or a filtered part of it, live or as of a point in the log."""
    st = state()
    query = parse_query(request.args)
    point = parse_point(request.args)
    key = query.key()
    base = _base(st)
    keeper: RenderingKeeper | None = None  # when this feed's renderer keeps its VEVENTs
    keeping: list[Rendering] | None = None
    with st.live.lock:
        view = resolve(st.live, point)
        rendered = st.feeds.get((view.position, (base, key)))
        if rendered is None:
            renderer = st.renderers.get(base)
            if st.renderings is not None and st.renderings.renderer is renderer:
                keeper = st.renderings
            render = renderer.chunks if keeper is None else keeper.chunks
            if view.live:  # its listing follows the calendar: after a change, only that is redone
                listing = st.listings.get((base, key), query)
                listing.follow(view.calendar, render)
                chunks, coverage = listing.chunks, listing.coverage()
            else:  # a past view is listed once
                chunks = [c for c in render(select(view.calendar, query)) if c is not None]
                coverage = Coverage.of(chunks)
            body = renderer.assemble(chunks, coverage, last_modified=view.last_recorded_at)
            rendered = Rendered.of(body, view.last_recorded_at)
            st.feeds.put((view.position, (base, key)), rendered)
            if keeper is not None:
                keeping = keeper.due()
                if view.live and key == WHOLE and keeper.feed_due(view.position):
                    keeper.offer_feed(WHOLE_NAME, view.position, listing.dumper())
    if keeper is not None and keeping:
        keeper.keep(keeping)  # outside the lock: other requests go on
    if point.live and len(st.fast_queries) < FAST_QUERY_LIMIT:
        st.fast_queries[request.query_string.decode("latin-1")] = key
    return respond(rendered, st)


@bp.get("/summits/<summit_id>.ics")
def summit_file(summit_id: str) -> Response:
    """One summit as a single-event file (no calendar name, so clients add it as an event)."""
    st = state()
    base = _base(st)
    with st.live.lock:
        view = st.live.current()
        summit = view.calendar.summits.get(summit_id)
        if summit is None:
            raise Problem(404, "Not Found", f"no summit {summit_id!r}")
        if summit.status is Status.RETRACTED:
            raise Problem(410, "Gone", f"{summit_id} was retracted: it never was a real summit")
        if summit.schedule.precision in UNDATED:
            raise Problem(
                404,
                "Not Found",
                f"{summit_id} has no date yet (known only to the {summit.schedule.precision}),"
                " so there is no calendar event to add",
            )
        key = (summit.version, ("single", base, summit_id))  # a newer version replaces it
        rendered = st.feeds.get(key)
        if rendered is None:
            rendered = Rendered.of(st.renderers.get(base).single(summit), summit.updated_at)
            st.feeds.put(key, rendered)
    response = respond(rendered, st)
    response.headers["Content-Disposition"] = f'inline; filename="{summit_id}.ics"'
    return response


class FeedFastPath:
    """WSGI middleware answering a repeated live feed request straight from the cache.

    It only serves a response Flask has already rendered for the same raw query string and
    the same base URL (the request's host, unless a public URL is set) at the log's current
    head; everything else goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, st: State) -> None:
        self.app, self.state = app, st

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve from cache or pass on."""
        if environ.get("PATH_INFO") == "/calendar.ics" and environ["REQUEST_METHOD"] in (
            "GET",
            "HEAD",
        ):
            key = self.state.fast_queries.get(environ.get("QUERY_STRING", ""))
            base = None if key is None else self.state.feed_base(environ)
            if key is not None and base is not None:
                rendered = self.state.feeds.get((self.state.live.head_position(), (base, key)))
                if rendered is not None:
                    return self._answer(rendered, environ, start_response)
        return self.app(environ, start_response)

    def _answer(
        self, rendered: Rendered, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        worker = ("X-Diplocal-Worker", str(os.getpid()))
        if rendered.not_modified(
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_IF_MODIFIED_SINCE"),
            self.state.clock(),
        ):
            start_response("304 NOT MODIFIED", [*rendered.not_modified_headers, worker])
            return []
        start_response("200 OK", [*rendered.headers, worker])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [rendered.body]
