"""A database that refuses writes (read-only, full, down) makes the store raise LogUnavailable:
nothing is written, and the same store works again once the database does, without a restart."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from factories import announce, note, read_stream
from support.pgserver import _as_owner, _tool, postgres_server

from events import EventStore, FixedClock, LogUnavailable, Token, tokens_of
from events.postgres import PostgresEventStore
from events.sqlite import SQLiteEventStore


def _refused_whole(store: EventStore, match: str | None = None) -> None:
    """Every write fails with LogUnavailable and leaves the log as it was."""
    head, count = store.head(), len(list(store.read()))
    with pytest.raises(LogUnavailable, match=match):
        store.append([note("refused", "summit-a").draft])
    with pytest.raises(LogUnavailable, match=match):
        store.append([note("refused", "summit-a").draft], expected_version=1)
    with pytest.raises(LogUnavailable, match=match):
        store.import_events(
            [announce("summit-b").draft, note(summit_id="summit-b").draft], expected_head=1
        )
    assert store.head() == head
    assert len(list(store.read())) == count
    assert read_stream(store, "summit-b") == []


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: FixedClock) -> Iterator[SQLiteEventStore]:
    """A SQLite log holding one announcement."""
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    store.append([announce("summit-a").draft])
    yield store
    store.close()


def test_a_read_only_sqlite_database_refuses_appends_as_unavailable(
    sqlite_store: SQLiteEventStore,
) -> None:
    """A database that will not write (here `PRAGMA query_only`: the tests run as root, for whom
    a file's mode bits do not stop writes) is LogUnavailable; reads still work."""
    sqlite_store._conn.execute("PRAGMA query_only = ON")
    _refused_whole(sqlite_store, match="readonly")
    with pytest.raises(LogUnavailable):
        tokens_of(sqlite_store).add(Token("desk", "a" * 64, True, "2025-06-01T00:00:00Z"))
    assert sqlite_store.verify().ok
    sqlite_store._conn.execute("PRAGMA query_only = OFF")
    assert sqlite_store.append([note(summit_id="summit-a").draft])[0].position == 2
    assert sqlite_store.verify().checked == 2


def test_a_full_sqlite_database_refuses_appends_as_unavailable_and_says_why(
    sqlite_store: SQLiteEventStore,
) -> None:
    """A database that cannot grow (a full disk, here a page limit at its size) is
    LogUnavailable, whose message keeps SQLite's reason; freed room lets the same store append."""
    conn = sqlite_store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    head = sqlite_store.head()
    with pytest.raises(LogUnavailable, match="full"):
        sqlite_store.append([note("x" * 20_000, "summit-a").draft])
    assert sqlite_store.head() == head
    conn.execute(f"PRAGMA max_page_count = {pages * 100}")
    record = sqlite_store.append([note("x" * 20_000, "summit-a").draft])[0]
    assert record.position == 2 and sqlite_store.verify().ok


def test_a_read_only_postgresql_session_refuses_appends_as_unavailable(
    pg_url: str, clock: FixedClock
) -> None:
    """A database in read-only mode (as a standby or `default_transaction_read_only` makes it)
    is LogUnavailable, not a raw driver error; the store writes again once it is writable."""
    store = PostgresEventStore(pg_url, clock)
    store.append([announce("summit-a").draft])
    store._conn.execute("SET default_transaction_read_only = on")
    try:
        _refused_whole(store)
    finally:
        store._conn.execute("SET default_transaction_read_only = off")
    assert store.append([note(summit_id="summit-a").draft])[0].position == 2
    store.close()


def _pg_ctl(data: str, *args: str) -> None:
    subprocess.run(
        _as_owner([_tool("pg_ctl"), "-D", data, "-w", *args]), check=True, capture_output=True
    )


def test_a_postgresql_server_stopped_mid_run_is_unavailable_until_it_is_back(
    clock: FixedClock,
) -> None:
    """With its server stopped, the store's reads and writes raise LogUnavailable; once the
    server is started again the same store reconnects, and nothing was half-written."""
    with postgres_server() as url:
        store = PostgresEventStore(url, clock)
        store.append([announce("summit-a").draft])
        with psycopg.connect(url) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        data, port = row[0], url.rsplit(":", 1)[1].split("/")[0]
        _pg_ctl(data, "-m", "fast", "stop")
        with pytest.raises(LogUnavailable):
            store.append([note("while down", "summit-a").draft])
        with pytest.raises(LogUnavailable):
            store.import_events([announce("summit-b").draft], expected_head=1)
        with pytest.raises(LogUnavailable):
            store.head()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {Path(data).parent} -c fsync=on"
        _pg_ctl(data, "-o", options, "-l", str(Path(data).parent / "log"), "start")
        assert [r.position for r in store.read()] == [1]
        assert store.append([note("back", "summit-a").draft])[0].position == 2
        assert store.verify().checked == 2
        store.close()
