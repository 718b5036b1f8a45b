"""The server event log: the same log in PostgreSQL, for several processes on one database."""

from __future__ import annotations

import os
import warnings
from typing import Any, ClassVar

import psycopg
from psycopg import errors

from events import WRITE_WAIT_SECONDS
from events.clock import Clock, system_clock
from events.settings import UID_DOMAIN_KEPT_SINCE_CREATION
from events.sql import COLUMNS, Queries, SQLEventStore

# Taken (for the transaction) by whoever creates the schema, so that processes opening a new
# database at the same moment do not race on CREATE TABLE.
_SCHEMA_LOCK = int.from_bytes(b"diplocal", "big") >> 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position bigint PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    summit_id text NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    schema_version integer NOT NULL,
    recorded_at text NOT NULL,
    recorded_by text,
    data text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (summit_id, version)
);
-- Logs written before 0.2 kept recorded_at as an integer outside the hash chain: dropped.
DROP INDEX IF EXISTS events_by_recorded_at;
ALTER TABLE events DROP COLUMN IF EXISTS recorded_at_us;
CREATE TABLE IF NOT EXISTS tokens (
    token_hash text PRIMARY KEY,
    name text NOT NULL,
    can_write boolean NOT NULL,
    created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    position bigint PRIMARY KEY,
    head_hash text NOT NULL,
    code_version text NOT NULL,
    body bytea NOT NULL,
    mac bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS renderings (
    renderer text NOT NULL,
    summit_id text NOT NULL,
    version integer NOT NULL,
    updated_at text NOT NULL,
    body bytea NOT NULL,
    zone text,
    first_year integer NOT NULL,
    last_year integer NOT NULL,
    mac bytea NOT NULL,
    PRIMARY KEY (renderer, summit_id)
);
CREATE TABLE IF NOT EXISTS feeds (
    renderer text NOT NULL,
    query text NOT NULL,
    position bigint NOT NULL,
    head_hash text NOT NULL,
    body bytea NOT NULL,
    mac bytea NOT NULL,
    PRIMARY KEY (renderer, query)
);
CREATE OR REPLACE FUNCTION diplocal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: no %', TG_OP;
END
$$;
DROP TRIGGER IF EXISTS events_no_update ON events;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION diplocal_append_only();
DROP TRIGGER IF EXISTS events_no_delete ON events;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION diplocal_append_only();
DROP TRIGGER IF EXISTS events_no_truncate ON events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION diplocal_append_only();
"""

TRIGGERS = ("events_no_update", "events_no_delete", "events_no_truncate")

# Whether the schema is complete: the six tables and the three triggers. When it is, opening a
# store runs no DDL at all (so a role without CREATE rights can use a prepared database).
_SCHEMA_PRESENT = (
    "SELECT to_regclass('tokens') IS NOT NULL AND to_regclass('snapshots') IS NOT NULL"
    " AND to_regclass('settings') IS NOT NULL AND to_regclass('renderings') IS NOT NULL"
    " AND to_regclass('feeds') IS NOT NULL"
    " AND (SELECT count(*) FROM pg_trigger"
    " WHERE tgrelid = to_regclass('events') AND tgname = ANY(%s)) = %s AND NOT EXISTS"
    " (SELECT 1 FROM information_schema.columns WHERE table_name = 'events'"
    " AND column_name = 'recorded_at_us')"
)

# The write lock: it conflicts with itself but not with readers (ACCESS SHARE), so appends are
# serialised and commit in position order: a reader paging by position never skips a row that
# commits late. PostgreSQL lets a role take it with UPDATE rights on the table (which the
# triggers make useless for anything else). A writer waits for it at most lock_timeout
# (milliseconds), then gets LockNotAvailable: LogUnavailable.
_BEGIN_WRITE = "BEGIN; SET LOCAL lock_timeout = {wait}; LOCK TABLE events IN EXCLUSIVE MODE"


class PostgresEventStore(SQLEventStore):
    """The log in a PostgreSQL database, over one connection per store (one store per process)."""

    QUERIES: ClassVar[Queries] = Queries("%s")
    UNIQUE_VIOLATION: ClassVar[tuple[type[Exception], ...]] = (errors.UniqueViolation,)
    DATABASE_ERROR: ClassVar[tuple[type[Exception], ...]] = (psycopg.Error,)
    UNAVAILABLE: ClassVar[tuple[type[Exception], ...]] = (
        psycopg.OperationalError,
        errors.LockNotAvailable,  # the write lock not had within the wait (an OperationalError)
        errors.ReadOnlySqlTransaction,  # a read-only database or a standby
    )

    _conn: psycopg.Connection[Any]

    def __init__(
        self, url: str, clock: Clock = system_clock, *, write_wait: float = WRITE_WAIT_SECONDS
    ) -> None:
        """Connect (and create the schema); a writer waits `write_wait` seconds for the lock."""
        super().__init__(clock)
        self.url = url
        self._begin = _BEGIN_WRITE.format(wait=max(1, round(write_wait * 1000)))
        self._conn = self._connect()
        self._set_up()

    def _connect(self) -> psycopg.Connection[Any]:
        """A connection in autocommit mode (transactions are explicit) with durable commits."""
        conn = psycopg.connect(self.url, autocommit=True, client_encoding="UTF8")
        conn.execute("SET synchronous_commit TO on")
        self._pid = os.getpid()
        return conn

    def _set_up(self) -> None:
        conn = self._conn
        present = conn.execute(_SCHEMA_PRESENT, (list(TRIGGERS), len(TRIGGERS))).fetchone()
        if present is not None and present[0]:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            conn.execute(_SCHEMA)
            conn.execute(  # a log without events stores its UID domain on first serve
                "INSERT INTO settings (name, value) SELECT %s, 'yes'"
                " WHERE NOT EXISTS (SELECT 1 FROM events) ON CONFLICT (name) DO NOTHING",
                (UID_DOMAIN_KEPT_SINCE_CREATION,),
            )

    # -- dialect hooks --

    def _ready(self) -> psycopg.Connection[Any]:
        """The connection; a new one in a forked child, or after the old one broke."""
        if self._pid != os.getpid():
            # Inherited from the parent: never close it here (that would end the parent's
            # session). Collected in another process, psycopg leaves its socket alone; only
            # its "deleted while still open" warning is silenced.
            inherited, self._conn = self._conn, self._connect()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                del inherited
        elif self._conn.broken:  # lost (server restart, network): not one this store closed
            self._conn.close()
            self._conn = self._connect()
        return self._conn

    def _begin_write(self) -> None:
        try:
            self._conn.execute(self._begin)
        except psycopg.Error:  # the lock not had in time: leave no aborted transaction behind
            self._rollback()
            raise

    def close(self) -> None:
        """Close the connection (one inherited through fork is left to the parent)."""
        with self._lock:
            if self._pid == os.getpid():
                self._conn.close()

    def _rollback(self) -> None:
        if not self._conn.broken:
            self._conn.execute("ROLLBACK")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """COPY for a batch; one INSERT (one round trip) for a single row."""
        if len(rows) == 1:
            self._conn.execute(self.QUERIES.insert, rows[0])
            return
        with (
            self._conn.cursor() as cursor,
            cursor.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
