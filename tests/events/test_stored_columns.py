"""Every stored column of the log is covered by the hash chain, and logs of the old schema (with
the unhashed `recorded_at_us` column) are migrated. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from factories import announce, note

from events import EventStore, FixedClock, Recorded, Token, canonical_json, open_store, tokens_of
from events.postgres import TRIGGERS
from events.record import RECORD_FIELDS

# One forged value per column of `events`, for the second of three records (a SummitNoted
# recorded at 2025-06-01T00:00:01Z by nobody): each plausible, each changing what a read shows.
FORGERIES: dict[str, str] = {
    "position": "position = 7",
    "event_id": "event_id = 'forged-event-id'",
    "summit_id": "summit_id = 'summit-z'",
    "version": "version = 12",
    "type": "type = 'SummitConfirmed'",
    "schema_version": "schema_version = 2",
    # the as-of attack: a moment later, still before the next record
    "recorded_at": "recorded_at = '2025-06-01T00:00:01.000001Z'",
    "recorded_by": "recorded_by = 'mallory'",
    "data": "data = replace(data, 'both', 'neither')",
    "prev_hash": f"prev_hash = '{'0' * 64}'",
    "hash": f"hash = '{'f' * 64}'",
}


@pytest.fixture
def log(db: str, clock: FixedClock) -> Iterator[EventStore]:
    """Three records of one summit: announced, noted, noted."""
    store = open_store(db, clock)
    store.append([announce("summit-a").draft])
    store.append([note(summit_id="summit-a").draft])
    store.append([note("later", "summit-a").draft])
    yield store
    store.close()


def _columns(db: str) -> list[str]:
    if db.startswith("postgres"):
        with psycopg.connect(db) as conn:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'events' ORDER BY ordinal_position"
            ).fetchall()
        return [row[0] for row in rows]
    with sqlite3.connect(db) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(events)")]


def _untriggered(db: str, *statements: str, parameters: tuple[Any, ...] = ()) -> None:
    """Run statements on the log's database with its append-only triggers dropped."""
    if db.startswith("postgres"):
        with psycopg.connect(db, autocommit=True) as pg:
            for name in TRIGGERS:
                pg.execute(f"DROP TRIGGER {name} ON events")
            for statement in statements:
                pg.execute(statement.replace("?", "%s"), parameters)
        return
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    for statement in statements:
        conn.execute(statement, parameters)
    conn.commit()
    conn.close()


def test_the_forgeries_cover_every_stored_column(log: EventStore, db: str) -> None:
    """The table holds the hashed record's fields and nothing else (a column added outside the
    record would need its own forgery here, and a reason why no view reads it)."""
    assert _columns(db) == list(RECORD_FIELDS)
    assert set(FORGERIES) == set(RECORD_FIELDS)


@pytest.mark.parametrize("column", list(FORGERIES))
def test_a_changed_column_fails_verify_at_its_position(
    log: EventStore, db: str, column: str
) -> None:
    """Any stored value changed behind the store's back, column by column: verify names the
    record, and says what is wrong (every column is part of the hashed record)."""
    before = list(log.read())
    _untriggered(db, f"UPDATE events SET {FORGERIES[column]} WHERE position = 2")
    after = list(log.read())
    assert after != before  # the forgery shows in what a read gives...
    report = log.verify()  # ...and verify finds it where it was made
    assert (report.ok, report.first_bad_position, report.checked) == (False, 2, 1)
    assert report.head == log.verify().head is not None
    assert report.problem


def test_an_equivalent_rewrite_of_data_changes_no_read_and_verifies(
    log: EventStore, db: str
) -> None:
    """Stored JSON rewritten with other spacing and key order is not a change of the record:
    every read gives the same records, and verify (which hashes the decoded data by the
    reference encoder) still holds."""
    before = list(log.read())
    first = before[0]
    loose = json.dumps(dict(reversed(list(first.data.items()))), indent=2, ensure_ascii=True)
    assert loose != canonical_json(first.data).decode()
    _untriggered(db, "UPDATE events SET data = ? WHERE position = 1", parameters=(loose,))
    assert list(log.read()) == before
    assert log.find(first.event_id) == first
    report = log.verify()
    assert (report.ok, report.checked) == (True, 3)


def test_a_deleted_row_fails_verify_where_it_was(log: EventStore, db: str) -> None:
    """Removing a record leaves a gap that verify names."""
    _untriggered(db, "DELETE FROM events WHERE position = 2")
    report = log.verify()
    assert (report.ok, report.first_bad_position, report.checked) == (False, 2, 1)


# The schema of logs written before 0.2, as those versions created it.
OLD_SQLITE_SCHEMA = """
CREATE TABLE events (
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
CREATE INDEX events_by_recorded_at ON events (recorded_at_us);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: no UPDATE'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: no DELETE'); END;
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    can_write INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""
OLD_POSTGRES_SCHEMA = """
CREATE TABLE events (
    position bigint PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    summit_id text NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    schema_version integer NOT NULL,
    recorded_at text NOT NULL,
    recorded_at_us bigint NOT NULL,
    recorded_by text,
    data text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (summit_id, version)
);
CREATE INDEX events_by_recorded_at ON events (recorded_at_us);
CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    name text NOT NULL,
    can_write boolean NOT NULL,
    created_at text NOT NULL
)
"""
_OLD_INSERT = (
    "INSERT INTO events (position, event_id, summit_id, version, type, schema_version,"
    " recorded_at, recorded_at_us, recorded_by, data, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OLD_TOKEN = "INSERT INTO tokens VALUES (?, ?, ?, ?)"


def _old_rows(records: list[Recorded]) -> list[tuple[Any, ...]]:
    """The rows an old version wrote; the last one's recorded_at_us lies (a day early), as an
    edit of that unhashed column could make it."""
    rows = []
    for n, r in enumerate(records):
        micros = int(r.instant.timestamp() * 1_000_000) - (86_400_000_000 if n == 2 else 0)
        data = canonical_json(r.data).decode()
        head = (r.position, r.event_id, r.summit_id, r.version, r.type, r.schema_version)
        rows.append((*head, r.recorded_at, micros, r.recorded_by, data, r.prev_hash, r.hash))
    return rows


def _write_old_log(db: str, rows: list[tuple[Any, ...]]) -> None:
    token = ("a" * 64, "desk", True, "2025-05-01T00:00:00Z")
    if db.startswith("postgres"):
        with psycopg.connect(db, autocommit=True) as pg:
            for statement in OLD_POSTGRES_SCHEMA.split(";"):
                pg.execute(statement)
            with pg.cursor() as cursor:
                cursor.executemany(_OLD_INSERT.replace("?", "%s"), rows)
                cursor.execute(_OLD_TOKEN.replace("?", "%s"), token)
        return
    conn = sqlite3.connect(db)
    conn.executescript(OLD_SQLITE_SCHEMA)
    conn.executemany(_OLD_INSERT, rows)
    conn.execute(_OLD_TOKEN, token)
    conn.commit()
    conn.close()


def _index_names(db: str) -> set[str]:
    if db.startswith("postgres"):
        with psycopg.connect(db) as pg:
            rows = pg.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")
            return {row[0] for row in rows.fetchall()}
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute("PRAGMA index_list(events)")}


def test_an_old_log_with_recorded_at_us_is_migrated_and_reads_the_same(
    db: str, clock: FixedClock, tmp_path: Path
) -> None:
    """A log of the old schema opens: the unhashed column and its index are dropped, every
    record reads and verifies as before, tokens stay, triggers hold, and appends go on."""
    source = open_store(str(tmp_path / "source.sqlite3"), clock)
    source.append([announce("summit-a", title="서울 \u2013 Séoul").draft])
    source.append([note(summit_id="summit-a", recorded_by="desk").draft])
    source.append([announce("summit-b").draft])
    records, report = list(source.read()), source.verify()
    source.close()
    _write_old_log(db, _old_rows(records))
    assert "recorded_at_us" in _columns(db)

    store = open_store(db, clock)
    assert _columns(db) == list(RECORD_FIELDS)
    assert "events_by_recorded_at" not in _index_names(db)
    assert list(store.read()) == records
    assert [store.find(r.event_id) for r in records] == records
    assert store.verify() == report and report.ok and report.checked == 3
    assert tokens_of(store).find("a" * 64) == Token("desk", "a" * 64, True, "2025-05-01T00:00:00Z")
    added = store.append([note("after the upgrade", "summit-b").draft])[0]
    assert (added.position, added.version, added.prev_hash) == (4, 2, records[-1].hash)
    store.close()

    again = open_store(db, clock)  # a second opening finds nothing to migrate
    assert list(again.read()) == [*records, added]
    assert again.verify().ok
    again.close()
    if db.startswith("postgres"):
        with psycopg.connect(db, autocommit=True) as pg, pytest.raises(psycopg.Error):
            pg.execute("DELETE FROM events")
    else:
        conn = sqlite3.connect(db)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")
        conn.close()
