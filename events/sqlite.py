"""The embedded event log: one SQLite file in WAL mode, every acknowledged append fsynced."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, ClassVar

from events import WRITE_WAIT_SECONDS
from events.clock import Clock, system_clock
from events.settings import UID_DOMAIN_KEPT_SINCE_CREATION
from events.sql import SQLEventStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    summit_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (summit_id, version)
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: no UPDATE'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: no DELETE'); END;
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    can_write INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    position INTEGER PRIMARY KEY,
    head_hash TEXT NOT NULL,
    code_version TEXT NOT NULL,
    body BLOB NOT NULL,
    mac BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS renderings (
    renderer TEXT NOT NULL,
    summit_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    body BLOB NOT NULL,
    zone TEXT,
    first_year INTEGER NOT NULL,
    last_year INTEGER NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (renderer, summit_id)
);
CREATE TABLE IF NOT EXISTS feeds (
    renderer TEXT NOT NULL,
    query TEXT NOT NULL,
    position INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    body BLOB NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (renderer, query)
);
"""
# Logs written before 0.2 kept a copy of recorded_at as an integer, outside the hash chain,
# and let it decide as-of views; nothing reads it now, so it goes.
_MIGRATE = """
DROP INDEX IF EXISTS events_by_recorded_at;
ALTER TABLE events DROP COLUMN recorded_at_us;
"""


# A log without events gets its UID domain stored on first serve (events/settings.py).
_NEW_LOG = f"""
INSERT OR IGNORE INTO settings (name, value)
SELECT '{UID_DOMAIN_KEPT_SINCE_CREATION}', 'yes' WHERE NOT EXISTS (SELECT 1 FROM events);
"""
_NAMES = {
    "events",
    "tokens",
    "snapshots",
    "settings",
    "renderings",
    "feeds",
    "events_no_update",
    "events_no_delete",
}


def _ready(conn: sqlite3.Connection) -> bool:
    """Whether the file is in WAL mode with the whole schema (then opening writes nothing, and
    does not wait behind a writer such as an import)."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    return mode == "wal" and names >= _NAMES and "recorded_at_us" not in columns


def _set_up(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """WAL mode and the schema, unless the file has them. Switching a new file to WAL does not
    wait on the busy timeout when other processes open it at the same moment, so that step is
    retried a while."""
    if _ready(conn):
        return
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + _NEW_LOG + "COMMIT;")
            columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
            if "recorded_at_us" in columns:
                conn.executescript("BEGIN IMMEDIATE;" + _MIGRATE + "COMMIT;")
            return
        except sqlite3.OperationalError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.005 * (attempt + 1))


class SQLiteEventStore(SQLEventStore):
    """The log in one SQLite file; writers serialise on `BEGIN IMMEDIATE`, readers never block."""

    UNAVAILABLE: ClassVar[tuple[type[Exception], ...]] = (sqlite3.OperationalError,)
    UNIQUE_VIOLATION: ClassVar[tuple[type[Exception], ...]] = (sqlite3.IntegrityError,)
    DATABASE_ERROR: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)

    _conn: sqlite3.Connection

    def __init__(
        self,
        path: str | Path,
        clock: Clock = system_clock,
        *,
        write_wait: float = WRITE_WAIT_SECONDS,
    ) -> None:
        """Open (or create) the file; a writer waits `write_wait` seconds for the write lock."""
        super().__init__(clock)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # how long a writer waits for another's lock; then "database is locked": LogUnavailable
        conn.execute(f"PRAGMA busy_timeout = {max(1, round(write_wait * 1000))}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_size_limit = 67108864")  # shrink the WAL after a big import
        self._conn = conn
        _set_up(conn)

    def _rollback(self) -> None:
        if self._conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
            self._conn.execute("ROLLBACK")

    def _begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(self.QUERIES.insert, rows)
