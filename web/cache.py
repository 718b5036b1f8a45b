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


def etag_matches(etag: str, header: str) -> bool:
    """Weak comparison of an ETag against an If-None-Match list (or `*`)."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


class ResponseCache:
    """A small thread-safe LRU of rendered responses."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rendered | None:
        """The response stored under a key, if any."""
        return self._items.get(key)

    def put(self, key: Hashable, value: Rendered) -> None:
        """Store a response, dropping the least recently stored beyond the size."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
