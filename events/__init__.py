"""The append-only, hash-chained event log of diplocal."""

from __future__ import annotations

import sqlite3

from events.address import (
    StoreAddress,
    StoreError,
    StoreMissing,
    StoreUnreachable,
    StoreUnreadable,
    StoreURLError,
    check_sqlite,
)
from events.clock import Clock, FixedClock, system_clock
from events.record import Claimed, Draft, Recorded, canonical_json, format_stamp, parse_stamp
from events.schema import EVENT_TYPES, Event, event_data, validate_event
from events.settings import LogSettings, settings_of
from events.store import (
    ConcurrencyError,
    EventIdTaken,
    EventStore,
    Head,
    ImportRejected,
    LogError,
    LogUnavailable,
    NewEvent,
    VerifyReport,
)
from events.tokens import Token, TokenError, TokenStore, tokens_of

# How long a writer waits for the log's write lock (held by another append or by an import)
# before LogUnavailable, which the web answers with 503 and Retry-After.
WRITE_WAIT_SECONDS = 5.0

__all__ = [
    "EVENT_TYPES",
    "WRITE_WAIT_SECONDS",
    "Claimed",
    "Clock",
    "ConcurrencyError",
    "Draft",
    "Event",
    "EventIdTaken",
    "EventStore",
    "FixedClock",
    "Head",
    "ImportRejected",
    "LogError",
    "LogSettings",
    "LogUnavailable",
    "NewEvent",
    "Recorded",
    "StoreAddress",
    "StoreError",
    "StoreMissing",
    "StoreURLError",
    "StoreUnreachable",
    "StoreUnreadable",
    "Token",
    "TokenError",
    "TokenStore",
    "VerifyReport",
    "canonical_json",
    "event_data",
    "format_stamp",
    "open_store",
    "parse_stamp",
    "settings_of",
    "system_clock",
    "tokens_of",
    "validate_event",
]


def open_store(
    url: str,
    clock: Clock = system_clock,
    *,
    create: bool = True,
    write_wait: float = WRITE_WAIT_SECONDS,
) -> EventStore:
    """Open the store a URL names: a SQLite path, `sqlite:///path`, `memory:` or `postgresql://`.

    A writer of a SQLite or PostgreSQL store waits at most `write_wait` seconds for the write
    lock (another append, an import) and then gets LogUnavailable.

    With `create=False` a missing store (no file, or a database without the log) is refused
    with StoreMissing instead of being created. Errors are StoreError (a LogError) with a
    message naming the store: StoreURLError, StoreMissing, StoreUnreadable, StoreUnreachable.
    """
    address = StoreAddress.parse(url)
    if address.kind == "memory":
        from events.memory import MemoryEventStore

        return MemoryEventStore(clock)
    if address.kind == "postgresql":
        return _open_postgres(address, clock, create=create, write_wait=write_wait)
    from events.sqlite import SQLiteEventStore

    check_sqlite(address.target, create=create)
    try:
        return SQLiteEventStore(address.target, clock, write_wait=write_wait)
    except (sqlite3.DatabaseError, OSError) as error:
        raise StoreUnreadable(f"cannot open the SQLite store {address.target}: {error}") from None


def _open_postgres(
    address: StoreAddress, clock: Clock, *, create: bool, write_wait: float
) -> EventStore:
    """A PostgresEventStore; connection failures and (unless `create`) a missing log refused."""
    try:
        import psycopg

        from events.postgres import PostgresEventStore
    except ImportError as error:  # psycopg is the optional `postgres` extra
        raise LogError(
            f"a PostgreSQL URL needs psycopg: pip install 'diplocal[postgres]' ({error})"
        ) from error
    shown = address.shown()

    def unreachable(error: Exception) -> StoreUnreachable:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return StoreUnreachable(f"cannot open the PostgreSQL store {shown}: {reason}")

    try:
        if not create:
            with psycopg.connect(address.target, connect_timeout=10) as conn:
                row = conn.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                raise StoreMissing(f"the PostgreSQL database {shown} holds no diplocal log")
        return PostgresEventStore(address.target, clock, write_wait=write_wait)
    except psycopg.Error as error:
        raise unreachable(error) from None
