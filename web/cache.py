"""Rendered responses kept by key, with their validators precomputed, and conditional GET."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from events import parse_stamp

CALENDAR_TYPE = "text/calendar; charset=utf-8"
# The policy of a live feed (web/caching.py says why). It travels inside Rendered because the
# feed's WSGI fast path answers without Flask's after_request; Flask's path overrides it for
# views that never change.
LIVE_FEED = "public, max-age=60, must-revalidate"


@dataclass(frozen=True)
class Rendered:
    """Response bytes with their strong ETag, Last-Modified and Cache-Control, computed once."""

    body: bytes
    etag: str  # quoted
    last_modified: str | None  # HTTP-date
    modified_second: int | None  # Last-Modified as a POSIX second, for If-Modified-Since
    headers: tuple[tuple[str, str], ...]  # for a 200
    not_modified_headers: tuple[tuple[str, str], ...]  # for a 304

    @classmethod
    def of(
        cls,
        body: bytes,
        recorded_at: str | None,
        content_type: str = CALENDAR_TYPE,
        cache_control: str = LIVE_FEED,
    ) -> Rendered:
        """Hash the bytes and format the validators; a 304 repeats them and Cache-Control."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        last_modified = modified = None
        if recorded_at is not None:
            instant = parse_stamp(recorded_at).replace(microsecond=0)
            last_modified = format_datetime(instant, usegmt=True)
            modified = int(instant.timestamp())
        validators = [("ETag", etag)]
        if last_modified is not None:
            validators.append(("Last-Modified", last_modified))
        validators.append(("Cache-Control", cache_control))  # RFC 9110 15.4.5: a 304 repeats it
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        return cls(
            body,
            etag,
            last_modified,
            modified,
            tuple(headers + validators),
            tuple(validators),
        )

    def not_modified(
        self, if_none_match: str | None, if_modified_since: str | None, now: datetime
    ) -> bool:
        """RFC 9110 section 13.1: If-None-Match wins; a stale, future or bad date gives False."""
        if if_none_match is not None:
            return etag_matches(self.etag, if_none_match)
        if if_modified_since is None or self.modified_second is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        if since > now:
            return False
        return self.modified_second <= since.timestamp()

    @property
    def size(self) -> int:
        """The bytes this response holds: its body and its header texts."""
        headers = self.headers + self.not_modified_headers
        return len(self.body) + sum(len(name) + len(value) for name, value in headers)


def etag_matches(etag: str, header: str) -> bool:
    """Weak comparison of an ETag against an If-None-Match list (or `*`)."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


# The default bound of a ResponseCache: bytes of rendered responses one worker keeps.
MAX_BYTES = 64 << 20


@dataclass(frozen=True)
class _Newest:
    """Where the newest version of a name is kept (never equal to a caller's key)."""

    name: Hashable


@dataclass(frozen=True)
class _Entry:
    version: int | None
    rendered: Rendered


class ResponseCache:
    """Rendered responses in a thread-safe LRU bounded in entries and in bytes.

    A key `(version, name)` (an int, then anything hashable) is a name at a version, such as
    a feed's query at a log position: the newest version of each name is kept in one place
    that a newer version replaces, so a live feed keeps one body however often the log moves.
    An older version asked for afterwards (an `at_position` or `as_of` view) is kept apart,
    like any other key, until the bounds push it out. Whatever was stored last stays even if
    it alone is over the byte bound: the biggest feed is never rendered on every request.
    """

    def __init__(self, max_entries: int = 256, *, max_bytes: int = MAX_BYTES) -> None:
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rendered | None:
        """The response stored under a key, if any (and mark it as recently used)."""
        versioned = _versioned(key)
        with self._lock:
            if versioned is not None:
                version, name = versioned
                newest = self._items.get(_Newest(name))
                if newest is not None and newest.version == version:
                    self._items.move_to_end(_Newest(name))
                    return newest.rendered
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry.rendered

    def put(self, key: Hashable, value: Rendered) -> None:
        """Store a response (replacing an older version of its name), then keep to the bounds."""
        versioned = _versioned(key)
        with self._lock:
            if versioned is None:
                self._store(key, _Entry(None, value))
            else:
                version, name = versioned
                newest = self._items.get(_Newest(name))
                if newest is None or newest.version is None or version >= newest.version:
                    self._drop(key)  # kept apart earlier, now the newest
                    self._store(_Newest(name), _Entry(version, value))
                else:
                    self._store(key, _Entry(version, value))
            while len(self._items) > 1 and (
                len(self._items) > self._max_entries or self._bytes > self._max_bytes
            ):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.rendered.size

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._drop(key)
        self._items[key] = entry
        self._bytes += entry.rendered.size

    def _drop(self, key: Hashable) -> None:
        entry = self._items.pop(key, None)
        if entry is not None:
            self._bytes -= entry.rendered.size

    @property
    def bytes(self) -> int:
        """The bytes of the responses held now (`Rendered.size` summed)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


def _versioned(key: Hashable) -> tuple[int, Hashable] | None:
    """`(version, name)` for a key of that form, else None."""
    if isinstance(key, tuple) and len(key) == 2 and type(key[0]) is int:
        return key[0], key[1]
    return None
