"""Settings kept with the log: a few named values that belong to the log, not to a process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from events.store import beside

if TYPE_CHECKING:
    from events.sql import SQLEventStore

# The domain part of every event UID the log's feeds have served (web/config.py).
UID_DOMAIN = "uid_domain"
# Set when the schema is laid out on a log without events (by a version that stores
# UID_DOMAIN on first serve): without it, a log with events and no UID_DOMAIN was served
# before the domain was stored, with the default domain.
UID_DOMAIN_KEPT_SINCE_CREATION = "uid_domain_kept_since_creation"


class LogSettings(Protocol):
    """Named text values stored with a log."""

    def get(self, name: str) -> str | None:
        """The value stored under a name, if any."""
        ...

    def put_once(self, name: str, value: str) -> str:
        """Store a value unless one is stored already; the value stored now (either)."""
        ...

    def replace(self, name: str, value: str) -> str | None:
        """Store a value in place of any stored one; the one it replaced, if any."""
        ...


class SQLSettings:
    """Settings in the `settings` table of the log's database, over the log's connection."""

    def __init__(self, log: SQLEventStore) -> None:
        self._log = log
        mark = log.QUERIES.mark
        self._select = f"SELECT value FROM settings WHERE name = {mark}"
        self._insert = f"INSERT INTO settings (name, value) VALUES ({mark}, {mark})"
        self._update = f"UPDATE settings SET value = {mark} WHERE name = {mark}"

    def get(self, name: str) -> str | None:
        """The value stored under a name, if any."""
        with self._log.connection() as conn:
            row = conn.execute(self._select, (name,)).fetchone()
        return None if row is None else str(row[0])

    def put_once(self, name: str, value: str) -> str:
        """Store a value unless one is; under the log's write lock, so the first writer wins."""
        with self._log.transaction() as conn:
            row = conn.execute(self._select, (name,)).fetchone()
            if row is not None:
                return str(row[0])
            conn.execute(self._insert, (name, value))
        return value

    def replace(self, name: str, value: str) -> str | None:
        """Store a value in place of any stored one; the one it replaced."""
        with self._log.transaction() as conn:
            row = conn.execute(self._select, (name,)).fetchone()
            if row is None:
                conn.execute(self._insert, (name, value))
                return None
            conn.execute(self._update, (value, name))
        return str(row[0])


class MemorySettings:
    """Settings in a dict, beside a memory log."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        """The value stored under a name, if any."""
        return self._values.get(name)

    def put_once(self, name: str, value: str) -> str:
        """Store a value unless one is stored already."""
        with self._lock:
            return self._values.setdefault(name, value)

    def replace(self, name: str, value: str) -> str | None:
        """Store a value in place of any stored one."""
        with self._lock:
            before = self._values.get(name)
            self._values[name] = value
            return before


def settings_of(log: object) -> LogSettings:
    """The settings kept with a log."""
    durable: Callable[[SQLEventStore], LogSettings] = SQLSettings
    return beside(log, durable, MemorySettings)
