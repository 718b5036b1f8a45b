"""Web app settings: defaults, then DIPLOCAL_* environment variables, then explicit config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DB": None,  # None: the CLI's default SQLite file
    # The public URL (DIPLOCAL_BASE_URL), e.g. https://calendar.example.org behind a proxy.
    # None: pages link with each request's host; the links inside feeds use FEED_BASE_URL.
    "BASE_URL": None,
    # Feed bytes must not depend on the request (same position and query, same bytes in every
    # worker), so the links inside the feed need a fixed base when BASE_URL is not set.
    # `diplocal serve` sets it to the address it serves (this machine's name for 0.0.0.0);
    # this default only holds for `web:create_app()` under another server without BASE_URL.
    "FEED_BASE_URL": "http://127.0.0.1:8000",
    "UID_DOMAIN": "diplocal.example",
    "DEMO": False,
    "FEED_NAME": "diplocal: diplomatic summits",
    "MAX_BODY_BYTES": 1 << 20,
    "EVENTS_PAGE_LIMIT": 1000,
    "VIEW_CACHE_BYTES": 64 << 20,  # as-of views kept, by estimated size
    # A snapshot of the calendar every N log positions (0: never), MACed with a key kept in
    # this file (None: $XDG_CONFIG_HOME/diplocal/snapshot.key, made on first use).
    "SNAPSHOT_EVERY": 10_000,
    "SNAPSHOT_KEY_FILE": None,
    "FEED_CACHE_SIZE": 256,
}

ENV = {
    "DIPLOCAL_DB": "DB",
    "DIPLOCAL_BASE_URL": "BASE_URL",
    "DIPLOCAL_UID_DOMAIN": "UID_DOMAIN",
    "DIPLOCAL_DEMO": "DEMO",
    "DIPLOCAL_SNAPSHOT_EVERY": "SNAPSHOT_EVERY",
    "DIPLOCAL_SNAPSHOT_KEY_FILE": "SNAPSHOT_KEY_FILE",
}


def _truthy(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def load(config: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """Merge defaults, the environment and explicit config (later wins)."""
    out = dict(DEFAULTS)
    for variable, key in ENV.items():
        if environ.get(variable):
            value = environ[variable]
            out[key] = _truthy(value) if key == "DEMO" else value
    out.update(config or {})
    return out


def from_os(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """`load` with the process environment."""
    return load(config, os.environ)
