"""The Flask app: feeds, JSON API and pages over one event store (`web:create_app()` for WSGI)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response

from events import Clock, EventStore, open_store, system_clock, tokens_of

if TYPE_CHECKING:
    from calendar_core.ical import FeedRenderer
    from calendar_core.listing import Listing
    from calendar_core.projection import Calendar
    from web.context import State
    from web.renderings import RenderingKeeper
    from web.snapshots import Keeper

__all__ = ["create_app"]


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    store: EventStore | None = None,
    clock: Clock | None = None,
) -> Flask:
    """Build the app: settings from defaults, DIPLOCAL_* variables, then `config`.

    The UID domain is stored with the log on first use; a configured one that differs from
    it is refused (web.config.UidDomainError) unless UID_DOMAIN_CHANGE is set.
    """
    from calendar_core.ical import FeedOptions
    from web import api, caching, feeds, openapi, pages, problems
    from web import config as settings_module
    from web.cache import ResponseCache
    from web.context import FeedRenderers, State
    from web.live import LiveCalendar

    settings = settings_module.from_os(config)
    clock = clock or system_clock
    opened = store is None
    if store is None:
        db = settings["DB"]
        if not db:
            from web.cli import default_db

            db = default_db()
            os.makedirs(os.path.dirname(db), exist_ok=True)
        store = open_store(str(db), clock, write_wait=float(settings["WRITE_WAIT_SECONDS"]))
    try:
        uid_domain = settings_module.settle_uid_domain(store, settings)
    except settings_module.UidDomainError:
        if opened:
            store.close()
        raise
    if settings["DEMO"]:
        from web.demo import load_demo

        load_demo(store)

    app = Flask(__name__)
    app.config.from_mapping({f"DIPLOCAL_{k}": v for k, v in settings.items()})
    app.config["TRUSTED_HOSTS"] = list(settings["TRUSTED_HOSTS"]) or None
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if uid_domain.replaced is not None:
        app.logger.warning("%s", settings_module.change_warning(uid_domain))
    options = FeedOptions(
        name=str(settings["FEED_NAME"]), uid_domain=uid_domain.domain, base_url=""
    )
    fixed_base = settings["BASE_URL"] or settings["FEED_BASE_URL"]
    state = State(
        store=store,
        tokens=tokens_of(store),
        clock=clock,
        live=LiveCalendar(
            store,
            cache_bytes=int(settings["VIEW_CACHE_BYTES"]),
            snapshots=_keeper(store, settings),
        ),
        renderers=FeedRenderers(options, fixed_base, int(settings["FEED_HOSTS"])),
        feeds=ResponseCache(
            int(settings["FEED_CACHE_SIZE"]), max_bytes=int(settings["FEED_CACHE_BYTES"])
        ),
        settings=settings,
    )
    app.extensions["diplocal"] = state
    state.renderings = _renderings(store, settings, state.renderers.fixed)
    listing = feeds.serve_kept_feed(state)
    state.live.restored = partial(_take_back, state, listing)
    if listing is None:  # fold the calendar now (from a snapshot) rather than in a request
        with state.live.lock:
            state.live.current()
    elif not _cooperative():  # the whole feed is served meanwhile; other requests wait
        started = threading.Event()
        threading.Thread(target=_restore, args=(state, started), daemon=True).start()
        started.wait()
    # else greenlets: a CPU-bound restore would stall the worker's loop; the first request
    # that needs the calendar restores it
    state.chain.start(store)  # serves meanwhile; /healthz says "verifying" until it ends
    for module in (feeds, api, openapi, pages):
        app.register_blueprint(module.bp)
    problems.register(app)
    caching.register(app)

    @app.after_request
    def _worker_header(response: Response) -> Response:
        response.headers["X-Diplocal-Worker"] = str(os.getpid())
        return response

    app.wsgi_app = feeds.FeedFastPath(app.wsgi_app, state)  # type: ignore[method-assign]
    hops = int(settings["PROXY_FIX"])
    if hops:  # outermost, so the fast path and Flask both see the forwarded scheme and host
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=0, x_proto=hops, x_host=hops
        )
    return app


def _take_back(state: State, listing: Listing | None, calendar: Calendar) -> None:
    """Once the live calendar is restored: take back the kept VEVENTs of its summits (from the
    whole feed's kept `listing` when there was one, else from their table) and list the whole
    feed with them (if any)."""
    from web import feeds

    keeper = state.renderings
    if keeper is not None:
        taken = keeper.restore(calendar) if listing is None else keeper.adopt(calendar, listing)
        if taken:
            feeds.list_whole_feed(state, calendar)  # with VEVENTs kept: lookups, mostly


def _restore(state: State, holding: threading.Event) -> None:
    """Restore the live calendar in a thread of its own, `holding` set once the live lock is
    held (so requests wait for the calendar); a failure is logged, and the next request that
    needs the calendar restores it again (and answers the error if it recurs)."""
    try:
        with state.live.lock:
            holding.set()
            state.live.current()
    except Exception as error:
        logging.getLogger("diplocal").warning("diplocal: cannot restore the calendar: %s", error)
    finally:
        holding.set()  # create_app goes on in any case


def _cooperative() -> bool:
    """Whether threads are gevent's greenlets here (gunicorn's gevent workers)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def _key(settings: Mapping[str, Any]) -> bytes | None:
    """The MAC key of snapshots and kept VEVENTs, in SNAPSHOT_KEY_FILE; None when snapshots
    are off (SNAPSHOT_EVERY=0): then nothing derived is kept in the database."""
    from web.snapshots import default_key_file, load_key

    if int(settings["SNAPSHOT_EVERY"]) <= 0:
        return None
    return load_key(Path(settings["SNAPSHOT_KEY_FILE"] or default_key_file()))


def _keeper(store: EventStore, settings: Mapping[str, Any]) -> Keeper | None:
    """Snapshots of the calendar every SNAPSHOT_EVERY positions (0: none)."""
    from events.snapshots import snapshots_of
    from web.snapshots import Keeper

    key = _key(settings)
    return (
        None
        if key is None
        else Keeper(store, snapshots_of(store), key, int(settings["SNAPSHOT_EVERY"]))
    )


def _renderings(
    store: EventStore, settings: Mapping[str, Any], renderer: FeedRenderer | None
) -> RenderingKeeper | None:
    """Where the feed of the fixed base URL keeps its VEVENTs (none without a fixed base URL:
    then links follow each request's host, which clients choose)."""
    from events.renderings import renderings_of
    from web.renderings import RenderingKeeper

    key = _key(settings)
    if key is None or renderer is None:
        return None
    return RenderingKeeper(store, renderings_of(store), key, renderer)
