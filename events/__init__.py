"""The append-only, hash-chained event log of diplocal."""

from __future__ import annotations

from events.clock import Clock, FixedClock, system_clock
from events.record import Claimed, Draft, Recorded, canonical_json, format_stamp, parse_stamp
from events.schema import EVENT_TYPES, Event, event_data, validate_event
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

__all__ = [
    "EVENT_TYPES",
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
    "LogUnavailable",
    "NewEvent",
    "Recorded",
    "Token",
    "TokenError",
    "TokenStore",
    "VerifyReport",
    "canonical_json",
    "event_data",
    "format_stamp",
    "open_store",
    "parse_stamp",
    "system_clock",
    "tokens_of",
    "validate_event",
]


def open_store(url: str, clock: Clock = system_clock) -> EventStore:
    """Open the store a URL names: a SQLite path, `sqlite:///path`, `memory:` or `postgresql://`."""
    if url == "memory:":
        from events.memory import MemoryEventStore

        return MemoryEventStore(clock)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from events.postgres import PostgresEventStore
        except ImportError as error:  # psycopg is the optional `postgres` extra
            raise LogError(
                f"a PostgreSQL URL needs psycopg: pip install 'diplocal[postgres]' ({error})"
            ) from error
        return PostgresEventStore(url, clock)
    from events.sqlite import SQLiteEventStore

    path = url.removeprefix("sqlite://").removeprefix("/") if url.startswith("sqlite:///") else url
    if url.startswith("sqlite:///"):
        path = "/" + path if url.startswith("sqlite:////") else path
    return SQLiteEventStore(path, clock)
