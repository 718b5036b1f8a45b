"""The event log over SQL: one append, import and read algorithm for SQLite and PostgreSQL.

A concrete store supplies its connection and a few dialect hooks (placeholder style, how a write
transaction begins, how a batch of rows is inserted, which errors mean the database is out of
reach); the table, the queries and the hash chain are the same for both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

import orjson

from events.chain import Tip, verify_chain
from events.clock import Clock
from events.record import RECORD_FIELDS, Draft, Recorded
from events.store import (
    ConcurrencyError,
    CorruptRecord,
    EventIdTaken,
    Head,
    LogError,
    LogUnavailable,
    VerifyReport,
)

COLUMNS = ", ".join(RECORD_FIELDS)
BATCH = 1000
_DATA = RECORD_FIELDS.index("data")


class Connection(Protocol):
    """What the shared code needs of a DB-API connection (sqlite3 and psycopg both have it)."""

    def execute(self, sql: Any, parameters: Any = ..., /) -> Any:
        """Run one statement and return its cursor."""

    def cursor(self) -> Any:
        """A cursor (for `executemany`)."""


class Queries:
    """Every statement the shared code runs, written once with the dialect's placeholder."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

        def sql(text: str) -> str:
            return text.replace("?", mark)

        self.insert = sql(f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * 11)})")
        self.head = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
        self.version = sql("SELECT max(version) FROM events WHERE summit_id = ?")
        # What an append depends on, in one round trip: is its first event_id in the log, the
        # summit's version, and the head (NULLs for an empty log).
        self.state = sql(
            "SELECT (SELECT 1 FROM events WHERE event_id = ?),"
            " (SELECT max(version) FROM events WHERE summit_id = ?), h.position, h.hash,"
            " h.recorded_at FROM (SELECT 1) AS one LEFT JOIN"
            " (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1)"
            " AS h ON 1 = 1"
        )
        self.by_event_id = sql(f"SELECT {COLUMNS} FROM events WHERE event_id = ?")
        self.page = sql(
            f"SELECT {COLUMNS} FROM events WHERE position > ? AND position <= ?"
            " ORDER BY position LIMIT ?"
        )
        self.stream_page = sql(
            f"SELECT {COLUMNS} FROM events WHERE summit_id = ? AND position > ?"
            " AND position <= ? ORDER BY version LIMIT ?"
        )
        self.page_back = self.page.replace("ORDER BY position", "ORDER BY position DESC")
        self.stream_page_back = self.stream_page.replace(
            "ORDER BY version", "ORDER BY version DESC"
        )


def _record(row: Sequence[Any]) -> Recorded:
    """A stored row (RECORD_FIELDS order, data as JSON text) as a record."""
    values = list(row)
    try:
        values[_DATA] = orjson.loads(values[_DATA])
    except orjson.JSONDecodeError as error:
        raise CorruptRecord(values[0], f"its data is not JSON ({error})") from None
    return Recorded(*values)


def _row(record: Recorded, data_text: str) -> tuple[Any, ...]:
    """A sealed record as the row to insert (data as the canonical text that was hashed)."""
    values = [getattr(record, name) for name in RECORD_FIELDS]
    values[_DATA] = data_text
    return tuple(values)


class SQLEventStore:
    """The EventStore algorithm over one connection; subclasses open it and name their dialect.

    Writers serialise on the database's write lock (taken by `_begin_write`), so positions are
    given out in commit order without gaps; readers never wait for writers.
    """

    QUERIES: ClassVar[Queries] = Queries("?")
    UNAVAILABLE: ClassVar[tuple[type[Exception], ...]] = ()
    UNIQUE_VIOLATION: ClassVar[tuple[type[Exception], ...]] = ()
    DATABASE_ERROR: ClassVar[tuple[type[Exception], ...]] = ()  # any error of the driver

    _conn: Any

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()

    # -- dialect hooks --

    def _ready(self) -> Connection:
        """The connection, usable now (a store may reconnect here)."""
        conn: Connection = self._conn
        return conn

    def _begin_write(self) -> None:
        """Start a transaction holding the log's write lock."""
        raise NotImplementedError

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert a batch of rows inside the current transaction."""
        raise NotImplementedError

    # -- transactions --

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """The connection for one read, with an unreachable database reported as such."""
        with self._lock, self._reachable():
            yield self._ready()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, committed (durably) on success, rolled back on any error."""
        with self._lock, self._reachable():
            conn = self._ready()
            self._begin_write()
            try:
                yield conn
            except BaseException:
                self._rollback()
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except self.UNIQUE_VIOLATION as error:  # a writer racing past the checks above
            raise LogError(f"the log already holds this event or version: {error}") from error
        except self.UNAVAILABLE as error:
            raise LogUnavailable(f"the database is unavailable: {error}") from error

    # -- writing --

    def append(
        self, drafts: Sequence[Draft], *, expected_version: int | None = None
    ) -> list[Recorded]:
        """Seal events of one summit in one transaction (see EventStore.append)."""
        if not drafts:
            return []
        summit_id = drafts[0].summit_id
        if any(draft.summit_id != summit_id for draft in drafts):
            raise ValueError("one append is one summit's events")
        first = drafts[0].event_id
        with self.transaction() as conn:
            taken, version, *head = conn.execute(self.QUERIES.state, (first, summit_id)).fetchone()
            if taken:
                raise EventIdTaken(first)
            for draft in drafts[1:]:
                if conn.execute(self.QUERIES.by_event_id, (draft.event_id,)).fetchone():
                    raise EventIdTaken(draft.event_id)
            version = version or 0
            if expected_version is not None and expected_version != version:
                raise ConcurrencyError(summit_id, expected_version, version)
            tip, now = Tip(None if head[0] is None else Head(*head)), self._clock()
            sealed = [tip.seal(draft, version + n, now) for n, draft in enumerate(drafts, 1)]
            self._insert([_row(record, text) for record, text in sealed])
        return [record for record, _ in sealed]

    def import_events(self, drafts: Iterable[Draft], *, expected_head: int) -> int:
        """Append in one transaction, all or nothing, in batches (see EventStore.import_events)."""
        with self.transaction() as conn:
            head = self._head(conn)
            actual = 0 if head is None else head.position
            if actual != expected_head:
                raise ConcurrencyError("the log", expected_head, actual)
            tip, now = Tip(head), self._clock()
            versions: dict[str, int] = {}
            batch: list[tuple[Any, ...]] = []
            for draft in drafts:
                known = versions.get(draft.summit_id)
                if known is None:  # a summit new to this import: an empty log has no versions
                    known = self._version(conn, draft.summit_id) if actual else 0
                version = known + 1
                batch.append(tip.row(draft, version, now))
                versions[draft.summit_id] = version
                if len(batch) == BATCH:
                    self._insert(batch)
                    batch = []
            if batch:
                self._insert(batch)
        return tip.position - actual

    def _version(self, conn: Connection, summit_id: str) -> int:
        return int(conn.execute(self.QUERIES.version, (summit_id,)).fetchone()[0] or 0)

    def _head(self, conn: Connection) -> Head | None:
        row = conn.execute(self.QUERIES.head).fetchone()
        return None if row is None else Head(*row)

    # -- reading --

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        summit_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[Recorded]:
        """Records in position order (or the reverse), a page of rows at a time (see
        EventStore.read)."""
        position, last = max(after, 0), (1 << 62) if until is None else until
        left = (1 << 62) if limit is None else limit
        queries = self.QUERIES
        if summit_id is None:
            query = queries.page_back if newest_first else queries.page
        else:
            query = queries.stream_page_back if newest_first else queries.stream_page
        while position < last and left > 0:
            size = min(BATCH, left)
            window = (position, last, size)
            with self.connection() as conn:
                rows = conn.execute(query, window if summit_id is None else (summit_id, *window))
                rows = rows.fetchall()
            yield from map(_record, rows)
            if len(rows) < size:
                return
            left -= len(rows)
            if newest_first:
                last = rows[-1][0] - 1
            else:
                position = rows[-1][0]

    def find(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        with self.connection() as conn:
            row = conn.execute(self.QUERIES.by_event_id, (event_id,)).fetchone()
        return None if row is None else _record(row)

    def head(self) -> Head | None:
        """The last record, or None for an empty log."""
        with self.connection() as conn:
            return self._head(conn)

    def verify(self) -> VerifyReport:
        """Re-check the whole chain with the reference encoder, streaming in position order."""
        return verify_chain(self.read())

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
