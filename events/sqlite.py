"""The embedded EventStore: one SQLite file in WAL mode, every acknowledged append fsynced."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import ClassVar

from events.clock import Clock, system_clock
from events.record import Row
from events.sql import INSERT_COLUMNS, SQLEventStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    summit_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_at_us INTEGER NOT NULL,
    recorded_by TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (summit_id, version)
);
CREATE INDEX IF NOT EXISTS events_by_recorded_at ON events (recorded_at_us);
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
"""


def _set_up(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """WAL mode and the schema. Switching a new file to WAL does not wait on the busy timeout
    when other processes open it at the same moment, so that step is retried a while."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            time.sleep(0.005 * (attempt + 1))


_WIDTH = len(INSERT_COLUMNS.split(", "))


@lru_cache(maxsize=4)
def _insert_many(count: int) -> str:
    """An INSERT of `count` rows (in INSERT_COLUMNS order) in one statement."""
    row = f"({', '.join('?' * _WIDTH)})"
    return f"INSERT INTO events ({INSERT_COLUMNS}) VALUES {', '.join([row] * count)}"


class SQLiteEventStore(SQLEventStore):
    """The log in one SQLite file; writers serialise on `BEGIN IMMEDIATE`, readers never block."""

    UNIQUE_VIOLATION: ClassVar[tuple[type[Exception], ...]] = (sqlite3.IntegrityError,)

    _conn: sqlite3.Connection

    def __init__(self, path: str | Path, clock: Clock = system_clock) -> None:
        super().__init__(clock)
        self._data_version: int | None = None
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_size_limit = 67108864")  # shrink the WAL after a big import
        self._conn = conn
        _set_up(conn)

    def _begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _others_wrote(self) -> bool:
        # data_version changes when another connection commits, never for this one's commits.
        version: int = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed, self._data_version = version != self._data_version, version
        return changed

    def _insert_rows(self, rows: Collection[Row]) -> None:
        """INSERTs of many rows each: SQLite then inserts a whole batch in one step, without
        the GIL (executemany takes it back for every row), as an import's writer thread needs."""
        values = list(chain.from_iterable(rows))
        # As many rows as one statement may carry values for (32766 values since SQLite 3.32).
        step = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _WIDTH * _WIDTH
        for start in range(0, len(values), step):
            batch = values[start : start + step]
            self._conn.execute(_insert_many(len(batch) // _WIDTH), batch)
