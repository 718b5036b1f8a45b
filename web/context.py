"""What the app shares between requests, kept in `app.extensions["diplocal"]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from calendar_core.ical import FeedRenderer
from events import Clock, EventStore, TokenStore
from web.audit import ChainWatch
from web.cache import ResponseCache
from web.live import LiveCalendar


@dataclass
class State:
    """The log and its tokens, the clock, the live projection, the chain's check, the renderer
    and the response caches."""

    store: EventStore
    tokens: TokenStore
    clock: Clock
    live: LiveCalendar
    renderer: FeedRenderer
    feeds: ResponseCache
    settings: dict[str, Any]
    chain: ChainWatch = field(default_factory=ChainWatch)
    # raw query string of a live feed request -> its canonical key (for the fast path)
    fast_queries: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)


def state() -> State:
    """The State of the current app."""
    value: State = current_app.extensions["diplocal"]
    return value
