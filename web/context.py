"""What the app shares between requests, kept in `app.extensions["diplocal"]`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from flask import current_app
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from calendar_core.ical import FeedOptions, FeedRenderer
from calendar_core.listing import Listings
from events import Clock, EventStore, TokenStore
from web.audit import ChainWatch
from web.cache import ResponseCache
from web.live import LiveCalendar
from web.renderings import RenderingKeeper

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

# Entries (summits with a VEVENT) the live feeds' listings hold in all: about 100 bytes each,
# so 20 MB; a million-event log's whole feed twice over, or many filtered ones.
LISTING_ENTRIES = 200_000


class FeedRenderers:
    """The feed renderer of each base URL the feed's links use: one fixed base (the public
    URL), or each request's scheme and host, the last `size` of them kept (the Host header
    is the client's to choose, so their number is bounded)."""

    def __init__(self, options: FeedOptions, fixed_base: str | None, size: int = 8) -> None:
        self.options = options
        self.fixed_base = fixed_base.rstrip("/") if fixed_base else None
        self.fixed = (
            None
            if self.fixed_base is None
            else FeedRenderer(replace(options, base_url=self.fixed_base))
        )
        self._by_base: OrderedDict[str, FeedRenderer] = OrderedDict()
        self._size = max(size, 1)
        self._lock = threading.Lock()

    def base(self, environ: WSGIEnvironment, trusted_hosts: tuple[str, ...] = ()) -> str | None:
        """The base URL for a request's feed links (None: its Host is not a valid host)."""
        if self.fixed_base is not None:
            return self.fixed_base
        try:
            host = get_host(environ, list(trusted_hosts) or None)
        except SecurityError:
            return None
        return f"{environ['wsgi.url_scheme']}://{host.lower()}" if host else None

    def get(self, base: str) -> FeedRenderer:
        """The renderer whose links start with `base`."""
        if self.fixed is not None and base == self.fixed_base:
            return self.fixed
        with self._lock:
            renderer = self._by_base.get(base)
            if renderer is None:
                renderer = FeedRenderer(replace(self.options, base_url=base))
                self._by_base[base] = renderer
                while len(self._by_base) > self._size:
                    self._by_base.popitem(last=False)
            else:
                self._by_base.move_to_end(base)
            return renderer

    def __len__(self) -> int:
        return len(self._by_base) + (self.fixed is not None)


@dataclass
class State:
    """The log and its tokens, the clock, the live projection, the chain's check, the feed
    renderers (and where the fixed one keeps its VEVENTs) and the response caches."""

    store: EventStore
    tokens: TokenStore
    clock: Clock
    live: LiveCalendar
    renderers: FeedRenderers
    feeds: ResponseCache
    settings: dict[str, Any]
    chain: ChainWatch = field(default_factory=ChainWatch)
    renderings: RenderingKeeper | None = None  # the fixed base URL's VEVENTs, kept in the store
    # the listings of the live feeds asked for last (their chunks, kept in list order)
    listings: Listings = field(default_factory=lambda: Listings(LISTING_ENTRIES))
    # raw query string of a live feed request -> its canonical key (for the fast path)
    fast_queries: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @property
    def renderer(self) -> FeedRenderer:
        """The renderer of the fixed base URL (BASE_URL or FEED_BASE_URL); only with one."""
        if self.renderers.fixed is None:
            raise LookupError("no fixed base URL: feeds are rendered per request host")
        return self.renderers.fixed

    def feed_base(self, environ: WSGIEnvironment) -> str | None:
        """The base URL of the links in this request's feed (None: no valid Host)."""
        return self.renderers.base(environ, tuple(self.settings.get("TRUSTED_HOSTS") or ()))


def state() -> State:
    """The State of the current app."""
    value: State = current_app.extensions["diplocal"]
    return value
