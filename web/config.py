"""Web app settings: defaults, then DIPLOCAL_* environment variables, then explicit config."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from events import EventStore, settings_of
from events.settings import UID_DOMAIN, UID_DOMAIN_KEPT_SINCE_CREATION

DEFAULT_UID_DOMAIN = "diplocal.example"

DEFAULTS: dict[str, Any] = {
    "DB": None,  # None: the CLI's default SQLite file
    # The public URL (DIPLOCAL_BASE_URL), e.g. https://calendar.example.org behind a proxy.
    # None: pages and the links inside feeds use each request's scheme and host.
    "BASE_URL": None,
    # A fixed base for the links inside feeds when BASE_URL is not set (benchmarks use it);
    # None: each request's host, so feed bytes are the same per position, query and host.
    "FEED_BASE_URL": None,
    # The domain of every event UID. None: the host of BASE_URL when set, else the domain
    # stored with the log, else DEFAULT_UID_DOMAIN. Stored with the log on first use.
    "UID_DOMAIN": None,
    # Record a UID_DOMAIN that differs from the one stored with the log (instead of refusing).
    "UID_DOMAIN_CHANGE": False,
    # Trust X-Forwarded-Proto and X-Forwarded-Host from this many proxies (0: ignore them).
    "PROXY_FIX": 0,
    # Host names the app answers for (werkzeug's TRUSTED_HOSTS); empty: any.
    "TRUSTED_HOSTS": (),
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
    "FEED_CACHE_BYTES": 64 << 20,  # rendered responses one worker keeps, at most
    "WRITE_WAIT_SECONDS": 5.0,  # how long a write waits for the log's lock before a 503
    "FEED_HOSTS": 8,  # feed renderers kept for request hosts (BASE_URL unset), least recent out
}

ENV = {
    "DIPLOCAL_DB": "DB",
    "DIPLOCAL_BASE_URL": "BASE_URL",
    "DIPLOCAL_UID_DOMAIN": "UID_DOMAIN",
    "DIPLOCAL_UID_DOMAIN_CHANGE": "UID_DOMAIN_CHANGE",
    "DIPLOCAL_PROXY_FIX": "PROXY_FIX",
    "DIPLOCAL_TRUSTED_HOSTS": "TRUSTED_HOSTS",
    "DIPLOCAL_DEMO": "DEMO",
    "DIPLOCAL_SNAPSHOT_EVERY": "SNAPSHOT_EVERY",
    "DIPLOCAL_WRITE_WAIT_SECONDS": "WRITE_WAIT_SECONDS",
    "DIPLOCAL_FEED_CACHE_BYTES": "FEED_CACHE_BYTES",
    "DIPLOCAL_SNAPSHOT_KEY_FILE": "SNAPSHOT_KEY_FILE",
}
_FLAGS = frozenset({"DEMO", "UID_DOMAIN_CHANGE"})


def _truthy(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _from_env(key: str, value: str) -> Any:
    """An environment variable's text as the setting's type."""
    if key in _FLAGS:
        return _truthy(value)
    if key == "PROXY_FIX":
        try:
            hops = int(value)
        except ValueError:
            hops = -1
        if hops < 0:
            raise ValueError(
                f"DIPLOCAL_PROXY_FIX={value!r}: give the number of proxies in front of the app"
                " whose X-Forwarded-Proto and X-Forwarded-Host are trusted (0: none)"
            )
        return hops
    if key == "TRUSTED_HOSTS":
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return value


def load(config: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """Merge defaults, the environment and explicit config (later wins)."""
    out = dict(DEFAULTS)
    for variable, key in ENV.items():
        if environ.get(variable):
            out[key] = _from_env(key, environ[variable])
    out.update(config or {})
    return out


def from_os(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """`load` with the process environment."""
    return load(config, os.environ)


class UidDomainError(ValueError):
    """The UID domain configured is not the one stored with the log (or is no domain)."""


@dataclass(frozen=True)
class Configured:
    """A UID domain asked for by the settings, and where it came from."""

    domain: str
    source: str
    explicit: bool  # DIPLOCAL_UID_DOMAIN, not derived from DIPLOCAL_BASE_URL


@dataclass(frozen=True)
class Settled:
    """The UID domain to serve with; `replaced` is the one this start changed it from."""

    domain: str
    replaced: str | None = None


def _host_domain(base_url: str) -> str | None:
    """The DNS name of a URL's host (None for an IP address, localhost or no host)."""
    host = urlsplit(base_url.strip()).hostname
    if not host or host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rstrip(".")
    return None


def configured_uid_domain(settings: Mapping[str, Any]) -> Configured | None:
    """UID_DOMAIN, else the host of BASE_URL, else None (nothing asked for)."""
    explicit = settings.get("UID_DOMAIN")
    if explicit:
        domain = str(explicit)
        if any(c.isspace() or not c.isprintable() or c in "@/" for c in domain):
            raise UidDomainError(
                f"DIPLOCAL_UID_DOMAIN={domain!r} is not a domain name: give one like "
                "calendar.example.org (no spaces, '@' or '/')"
            )
        return Configured(domain, "DIPLOCAL_UID_DOMAIN", explicit=True)
    base = settings.get("BASE_URL")
    host = _host_domain(str(base)) if base else None
    if host:
        return Configured(host, f"the host of DIPLOCAL_BASE_URL={base}", explicit=False)
    return None


def _refusal(stored: str, configured: Configured, *, legacy: bool) -> UidDomainError:
    where = (
        "its events were served before diplocal stored the UID domain, with the default "
        f"domain {stored}"
        if legacy
        else "stored with the log"
    )
    return UidDomainError(
        f"UID domain mismatch: this log's event UIDs end in @{stored} ({where}), but the "
        f"configured UID domain is {configured.domain} ({configured.source}). Serving it would "
        "give every event a new UID, and every subscriber would see every summit as a new "
        f"event. To keep the UIDs, set DIPLOCAL_UID_DOMAIN={stored}. To change the domain on "
        "purpose, start once with DIPLOCAL_UID_DOMAIN_CHANGE=1 (or `diplocal serve "
        "--change-uid-domain`)."
    )


def _served(store: EventStore, configured: Configured | None) -> tuple[str | None, bool]:
    """The domain the log's feeds have used so far (None: a new log), and whether it is the
    default assumed for a log written before the domain was stored."""
    kept = settings_of(store)
    stored = kept.get(UID_DOMAIN)
    if stored is not None:
        return stored, False
    if (
        store.head() is None
        or kept.get(UID_DOMAIN_KEPT_SINCE_CREATION) is not None
        or (configured is not None and configured.explicit)
    ):
        return None, False  # nothing served yet, or the operator names the domain served
    return DEFAULT_UID_DOMAIN, True


def settle_uid_domain(store: EventStore, settings: Mapping[str, Any]) -> Settled:
    """The UID domain to serve with, stored with the log on first use; UidDomainError when the
    configured one differs from the stored one, unless UID_DOMAIN_CHANGE records it."""
    configured = configured_uid_domain(settings)
    kept = settings_of(store)
    served, legacy = _served(store, configured)
    wanted = configured.domain if configured is not None else served or DEFAULT_UID_DOMAIN
    if served is None or (legacy and served == wanted):  # nothing stored yet: store it
        served = kept.put_once(UID_DOMAIN, wanted)  # a racing first start may have won
    if configured is None or served == configured.domain:
        return Settled(served)
    if not settings.get("UID_DOMAIN_CHANGE"):
        raise _refusal(served, configured, legacy=legacy)
    before = kept.replace(UID_DOMAIN, configured.domain)
    replaced = served if before is None else before
    return Settled(configured.domain, None if replaced == configured.domain else replaced)


def read_uid_domain(store: EventStore, settings: Mapping[str, Any]) -> tuple[str, str | None]:
    """The UID domain a server of this log serves with, read only; and a note when the
    settings ask for another one (which `settle_uid_domain` would refuse)."""
    configured = configured_uid_domain(settings)
    served, _ = _served(store, configured)
    if served is None:
        return (configured.domain if configured else DEFAULT_UID_DOMAIN), None
    if configured is None or configured.domain == served:
        return served, None
    return served, (
        f"using the log's UID domain {served}, not {configured.domain} ({configured.source}); "
        "a server would refuse that one until DIPLOCAL_UID_DOMAIN_CHANGE=1 records it"
    )


def change_warning(settled: Settled, how: str = "DIPLOCAL_UID_DOMAIN_CHANGE") -> str:
    """What the log says when a start changed the UID domain (`how`: what asked for it)."""
    return (
        f"UID domain changed from {settled.replaced} to {settled.domain} "
        f"({how}): every event has a new UID, so every subscriber will "
        "see every summit as a new event (and copies kept under the old UIDs stay until "
        "their calendar drops them)."
    )
