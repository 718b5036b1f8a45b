"""The event log over SQL: one append, import and read algorithm for SQLite and PostgreSQL.

A concrete store supplies its connection and a few dialect hooks (placeholder style, how a write
transaction begins, how many rows are inserted at once, which error is a unique violation); the
table layout, the queries and the hash-chain logic are the same for both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, Protocol

import orjson

from events.bulk import Behind, collector_paused
from events.chain import Tip, check_stream_order, same_event, verify_chain
from events.clock import Clock
from events.record import (
    ENTRY_FIELDS,
    RECORD_FIELDS,
    Entry,
    Recorded,
    Row,
    format_stamp,
    from_row,
    load_data,
    micros,
)
from events.store import ConcurrencyError, EventIdReused, Head, LogError, NewEvent, VerifyReport

COLUMNS = ", ".join(RECORD_FIELDS)
# A sealed row (RECORD_FIELDS order) and the instant as an integer, for as-of queries.
INSERT_COLUMNS = f"{COLUMNS}, recorded_at_us"
CHUNK = 1000
_orjson_loads = orjson.loads


class Connection(Protocol):
    """What the shared code needs of a DB-API connection (sqlite3 and psycopg both have it)."""

    def execute(self, sql: Any, parameters: Any = ..., /) -> Any:
        """Run one statement and return its cursor."""


class _Written:
    """The event ids an import has written so far, as two bytes of a 16 MiB table per id, at
    two places its one hash gives (a Bloom filter).

    It may take an id for one written though it never was (then the database is asked, after
    the chunk being inserted is done: one lookup too many), never the other way round; memory
    stays flat however long the import. Two places make that rare (about 1% of other ids at a
    million ids noted, 0.02% at 100,000), where one place alone would stop an import for a
    lookup several times as often.
    """

    _MASK = (1 << 24) - 1

    def __init__(self) -> None:
        self._seen = bytearray(self._MASK + 1)

    def add(self, event_id: str) -> bool:
        """Note an id; whether it may have been noted before."""
        code, mask, seen = hash(event_id), self._MASK, self._seen
        first, second = code & mask, (code >> 24) & mask
        if seen[first] and seen[second]:
            return True
        seen[first] = seen[second] = 1
        return False

    def __contains__(self, event_id: str) -> bool:
        code, mask, seen = hash(event_id), self._MASK, self._seen
        return bool(seen[code & mask] and seen[(code >> 24) & mask])


class _Import:
    """An import in progress: its rows not yet sent to the database, the writer thread that
    inserts the chunk before them, and, into a log that was empty (where nothing but the
    import itself can be found), the ids and summits it wrote."""

    def __init__(self, into_empty_log: bool, insert: Callable[[Collection[Row]], None]) -> None:
        self.pending: dict[str, Row] = {}
        self.versions: dict[str, int] = {}
        self.ids = _Written() if into_empty_log else None
        self.insert = insert
        self.writer: Behind[Collection[Row]] = Behind(insert)

    def surely_absent(self, event_id: str) -> bool:
        """Whether the log cannot hold this id (it was empty and the import never wrote it)."""
        return self.ids is not None and event_id not in self.ids

    def send(self) -> None:
        """Hand the pending rows to the writer thread; the next ones gather anew meanwhile."""
        self.writer.submit(self.pending.values())
        self.pending = {}

    def flush(self) -> None:
        """Every row so far in the database (the pending ones inserted on this thread)."""
        self.writer.wait()
        if self.pending:
            self.insert(self.pending.values())
            self.pending = {}


class Queries:
    """Every statement the shared code runs, written once with the dialect's placeholder."""

    def __init__(self, mark: str) -> None:
        def sql(text: str) -> str:
            return text.replace("?", mark)

        self.insert = sql(f"INSERT INTO events ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 12)})")
        # What an append depends on, in one query: is its first event already in the log, the
        # summit's version, and the head (NULLs for an empty log).
        self.state = sql(
            "SELECT (SELECT position FROM events WHERE event_id = ?),"
            " (SELECT max(version) FROM events WHERE summit_id = ?), h.position, h.hash,"
            " h.recorded_at FROM (SELECT 1) AS one LEFT JOIN"
            " (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1)"
            " AS h ON 1 = 1"
        )
        self.version = sql("SELECT max(version) FROM events WHERE summit_id = ?")
        self.head = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
        self.stream = sql(
            f"SELECT {COLUMNS} FROM events WHERE summit_id = ? AND position <= ? ORDER BY version"
        )
        self.read = sql(
            f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
        )
        self.page = sql(
            f"SELECT {COLUMNS} FROM events WHERE position > ? AND position <= ?"
            " ORDER BY position LIMIT ?"
        )
        self.entries = sql(
            f"SELECT {', '.join(ENTRY_FIELDS)} FROM events WHERE position > ? AND position <= ?"
            " ORDER BY position LIMIT ?"
        )
        self.last_at = sql("SELECT max(position) FROM events WHERE recorded_at_us <= ?")
        self.by_position = sql(f"SELECT {COLUMNS} FROM events WHERE position = ?")
        self.by_event_id = sql(f"SELECT {COLUMNS} FROM events WHERE event_id = ?")
        self.everything = f"SELECT {COLUMNS} FROM events ORDER BY position"
        self.add_token = sql(
            "INSERT INTO tokens (token_hash, name, can_write, created_at) VALUES (?, ?, ?, ?)"
        )
        self.find_token = sql("SELECT name, can_write FROM tokens WHERE token_hash = ?")


class SQLEventStore:
    """The EventStore algorithm over one connection; subclasses open it and name their dialect.

    Writers serialise on the database's write lock (taken by `_begin_write`), so positions are
    given out in commit order without gaps; reads never wait for writers.
    """

    QUERIES: ClassVar[Queries] = Queries("?")
    UNIQUE_VIOLATION: ClassVar[tuple[type[Exception], ...]] = ()

    _conn: Any

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._import: _Import | None = None
        # What `_append_new` keeps between appends: the chain's tip after this connection's
        # last append, and the versions it gave out since (dropped whenever others write).
        self._tip: Tip | None = None
        self._versions: dict[str, int] = {}

    # -- dialect hooks --

    def _ready(self) -> Connection:
        """The connection, usable now (a store may reconnect here)."""
        conn: Connection = self._conn
        return conn

    def _begin_write(self) -> None:
        """Start a transaction holding the log's write lock."""
        raise NotImplementedError

    def _others_wrote(self) -> bool:
        """Inside a write transaction: whether another connection may have written since this
        one last looked (always, for a dialect that cannot tell)."""
        return True

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def _insert_rows(self, rows: Collection[Row]) -> None:
        """Insert several rows (in `INSERT_COLUMNS` order) inside the current transaction."""
        raise NotImplementedError

    def _scan(self, query: str) -> Iterator[Row]:
        """All rows of a query, fetched in chunks rather than at once."""
        cursor = self._conn.execute(query)
        try:
            while rows := cursor.fetchmany(CHUNK):
                yield from rows
        finally:
            cursor.close()

    # -- transactions --

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed (durably) on success, rolled back on any error."""
        with self._lock:
            conn = self._ready()
            self._begin_write()
            try:
                yield conn
            except BaseException:
                self._import = None
                self._rollback()
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """The connection for a read; inside an import, its rows so far are written first."""
        with self._lock:
            if self._import is not None:
                self._import.flush()
                conn = self._conn
            else:
                conn = self._ready()
            yield conn

    # -- writing --

    def append(
        self, summit_id: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> list[Recorded]:
        """Append in one transaction; resent event_ids come back as stored, nothing appended."""
        if not events:
            return []
        refused: tuple[type[Exception], ...] = (LogError, *self.UNIQUE_VIOLATION)
        try:
            return self._append_new(summit_id, events, expected_version)
        except refused:
            # An event_id already in the log (a client's retry, perhaps with the version it
            # expected before its first try landed), a second announcement, a stale version:
            # nothing was written; the checked path answers with the stored records or the error.
            return self._append_checked(summit_id, events, expected_version)

    def _append_new(
        self, summit_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[Recorded]:
        """Append events taken to be new, leaving it to the database's unique keys to refuse
        an event_id it holds or a version it has given out (UNIQUE_VIOLATION, nothing written).

        The chain's tip and the versions of summits this connection wrote are kept between
        appends for as long as no other connection writes (`_others_wrote`), so a lone writer
        asks the database nothing before its INSERT; an announcement starts at version 1.
        The transaction is spelled out rather than `_write`: this is the hot path.
        """
        with self._lock:
            conn = self._ready()
            self._begin_write()
            try:
                tip = self._tip
                if self._others_wrote() or tip is None:  # one query for the head and version
                    query, first = self.QUERIES.state, events[0].event_id
                    _, version, *head = conn.execute(query, (first, summit_id)).fetchone()
                    tip = Tip(None if head[0] is None else Head(*head))
                    self._versions = {summit_id: version or 0}
                self._tip = None  # until this transaction commits
                actual = self._versions.get(summit_id)
                if actual is None:
                    announces = events[0].type == "SummitAnnounced"
                    actual = 0 if announces else self._version(summit_id)
                if expected_version is not None and expected_version != actual:
                    raise ConcurrencyError(summit_id, expected_version, actual)
                records = self._insert_stream(conn, tip, summit_id, actual, events)
            except BaseException:
                self._rollback()
                raise
            conn.execute("COMMIT")
            self._tip, self._versions[summit_id] = tip, actual + len(events)
        return records

    def _append_checked(
        self, summit_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[Recorded]:
        """`append` asking the database first which events it already holds."""
        self._tip = None
        with self._write() as conn:
            known_at, actual, *head_row = conn.execute(
                self.QUERIES.state, (events[0].event_id, summit_id)
            ).fetchone()
            done: dict[str, Recorded] = {}
            fresh: list[NewEvent] = []
            for index, new in enumerate(events):
                if new.event_id in done or any(f.event_id == new.event_id for f in fresh):
                    continue
                first_is_new = index == 0 and known_at is None
                stored = None if first_is_new else self._known(summit_id, new)
                if stored is None:
                    fresh.append(new)
                else:
                    done[new.event_id] = stored
            if fresh:
                actual = actual or 0
                if expected_version is not None and expected_version != actual:
                    raise ConcurrencyError(summit_id, expected_version, actual)
                tip = Tip(None if head_row[0] is None else Head(*head_row))
                written = self._insert_stream(conn, tip, summit_id, actual, fresh)
                done.update((record.event_id, record) for record in written)
        return [done[new.event_id] for new in events]

    def _insert_stream(
        self, conn: Connection, tip: Tip, summit_id: str, after: int, events: Sequence[NewEvent]
    ) -> list[Recorded]:
        """Seal events onto `tip` as the summit's versions after `after`, and insert them."""
        rows, records = [], []
        for version, new in enumerate(events, start=after + 1):
            check_stream_order(summit_id, version, new.type)
            row = tip.seal(self._clock, summit_id, version, new)
            rows.append(row)
            records.append(from_row(row))
        if len(rows) == 1:
            conn.execute(self.QUERIES.insert, rows[0])
        else:
            self._insert_rows(rows)
        return records

    def import_events(self, items: Iterable[tuple[str, NewEvent]]) -> int:
        """Append pairs in one transaction, all or nothing; known events (same content) skipped.

        Each item is checked and sealed before the next one is pulled from `items`, so an
        error raised here belongs to the item pulled last. Rows go to the database in chunks,
        each inserted on a writer thread while the next one is checked and sealed.
        """
        self._tip = None
        with self._write(), collector_paused():
            tip = Tip(self._head())
            clock = self._clock
            # Reads made meanwhile (by the caller's checks) see the import's rows so far.
            self._import = state = _Import(tip.position == 0, self._insert_rows)
            versions, ours = state.versions, state.ids
            added = 0
            try:
                for summit_id, new in items:
                    pending = state.pending
                    if new.event_id in pending:
                        if self._same_pending(pending[new.event_id], summit_id, new):
                            continue
                        raise EventIdReused(
                            f"event_id {new.event_id} is already used by another event"
                        )
                    # (An id noted before its checks pass is harmless: a failure ends the import.)
                    may_be_stored = ours is None or ours.add(new.event_id)
                    if may_be_stored and self._known(summit_id, new) is not None:
                        continue
                    version = versions.get(summit_id)
                    if version is None:
                        version = 0 if ours is not None else self._version(summit_id)
                    version += 1
                    check_stream_order(summit_id, version, new.type)
                    row = tip.seal(clock, summit_id, version, new)
                    pending[new.event_id] = row
                    versions[summit_id] = version
                    added += 1
                    if len(pending) >= CHUNK:
                        state.send()
                    elif added % 64 == 0:
                        state.writer.let_run()
                state.flush()
            except BaseException:
                state.writer.close(failing=True)  # before the rollback touches the connection
                raise
            state.writer.close()
            self._import = None
        return added

    @staticmethod
    def _same_pending(row: Row, summit_id: str, new: NewEvent) -> bool:
        return (row[2], row[4], row[5], load_data(row[8])) == (
            summit_id,
            new.type,
            new.schema_version,
            dict(new.data),
        )

    def _known(self, summit_id: str, new: NewEvent) -> Recorded | None:
        stored = self._select_one(self.QUERIES.by_event_id, new.event_id)
        if stored is not None and not same_event(stored, summit_id, new):
            raise EventIdReused(f"event_id {new.event_id} is already used by another event")
        return stored

    def _version(self, summit_id: str) -> int:
        row = self._settled().execute(self.QUERIES.version, (summit_id,)).fetchone()
        return int(row[0] or 0)

    def _head(self) -> Head | None:
        row = self._settled().execute(self.QUERIES.head).fetchone()
        return None if row is None else Head(*row)

    def _settled(self) -> Connection:
        """The connection, once an import's writer thread (if any) is done with it."""
        if self._import is not None:
            self._import.writer.wait()
        conn: Connection = self._conn
        return conn

    # -- reading --

    def stream(self, summit_id: str, *, until_position: int | None = None) -> list[Recorded]:
        """One summit's events in version order."""
        with self._lock:  # an import's rows are for its own thread's eyes only
            state = self._import
            if state is not None and state.ids is not None and summit_id not in state.versions:
                return []  # an import into an empty log has not written this summit yet
            with self._reading() as conn:
                query = self.QUERIES.stream
                rows = conn.execute(query, (summit_id, _upper(until_position))).fetchall()
        return [from_row(row) for row in rows]

    def read(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        """One page of the log after a position."""
        with self._reading() as conn:
            rows = conn.execute(self.QUERIES.read, (max(after, 0), max(limit, 0))).fetchall()
        return [from_row(row) for row in rows]

    def iter_log(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Recorded]:
        """The log in order, up to a position or a recorded time (inclusive), read in batches."""
        for rows in self._pages(self.QUERIES.page, after, until_position, until_recorded_at):
            yield from map(from_row, rows)

    def iter_entries(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Entry]:
        """`iter_log` as projections read it: only the columns they use, data decoded."""
        new = tuple.__new__
        for rows in self._pages(self.QUERIES.entries, after, until_position, until_recorded_at):
            for row, data in zip(rows, _decoded(row[6] for row in rows), strict=True):
                yield new(Entry, (*row[:6], data))

    def _pages(
        self,
        query: str,
        after: int,
        until_position: int | None,
        until_recorded_at: datetime | None,
    ) -> Iterator[list[Row]]:
        """Pages of a query's rows, after a position, up to a position or a recorded time."""
        last = _upper(until_position)
        if until_recorded_at is not None:
            last = min(last, self._last_position_at(until_recorded_at))
        position = max(after, 0)
        while position < last:
            with self._reading() as conn:
                rows = conn.execute(query, (position, last, CHUNK)).fetchall()
            if not rows:
                return
            yield rows
            position = rows[-1][0]

    def _last_position_at(self, instant: datetime) -> int:
        if instant.tzinfo is None:
            raise ValueError("until_recorded_at must be timezone-aware")
        with self._reading() as conn:
            row = conn.execute(self.QUERIES.last_at, (micros(instant),)).fetchone()
        return int(row[0] or 0)

    def head(self) -> Head | None:
        """The last record, or None for an empty log."""
        with self._reading():
            return self._head()

    def at(self, position: int) -> Recorded | None:
        """The record at a position."""
        with self._reading():
            return self._select_one(self.QUERIES.by_position, position)

    def by_event_id(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        with self._lock:  # an import's rows are for its own thread's eyes only
            state = self._import
            if state is not None:
                row = state.pending.get(event_id)
                if row is not None:
                    return from_row(row)
                if state.surely_absent(event_id):
                    return None
            with self._reading():
                return self._select_one(self.QUERIES.by_event_id, event_id)

    def _select_one(self, query: str, value: Any) -> Recorded | None:
        row = self._settled().execute(query, (value,)).fetchone()
        return None if row is None else from_row(row)

    def verify(self) -> VerifyReport:
        """Re-check every hash (over the stored bytes) and link, streaming in position order."""

        def records() -> Generator[Recorded, None, None]:
            with self._reading():
                yield from map(from_row, self._scan(self.QUERIES.everything))

        rows = records()
        try:
            return verify_chain(rows)
        finally:
            rows.close()

    # -- tokens --

    def add_token(self, name: str, token_hash: str, *, can_write: bool = True) -> None:
        """Store an API token by its SHA-256 hash."""
        created = format_stamp(self._clock())
        try:
            with self._write() as conn:
                conn.execute(self.QUERIES.add_token, (token_hash, name, can_write, created))
        except self.UNIQUE_VIOLATION:
            raise LogError("token already exists") from None

    def find_token(self, token_hash: str) -> tuple[str, bool] | None:
        """(name, can_write) of a token, by its hash."""
        with self._lock:
            row = self._ready().execute(self.QUERIES.find_token, (token_hash,)).fetchone()
        return None if row is None else (row[0], bool(row[1]))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _decoded(texts: Iterable[str]) -> list[Any]:
    """The stored data of a page of rows, decoded with one orjson call for the whole page
    (each text on its own where that call refuses one: see `load_data`)."""
    texts = list(texts)
    try:
        decoded: list[Any] = _orjson_loads(f"[{','.join(texts)}]")
    except ValueError:
        return [load_data(text) for text in texts]
    return decoded


def _upper(until_position: int | None) -> int:
    return (1 << 62) if until_position is None else until_position
