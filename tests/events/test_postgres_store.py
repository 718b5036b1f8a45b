"""What the PostgreSQL store promises beyond the contract: triggers, tamper evidence, the CLI,
schema set-up by many processes or none, fork and lost-connection handling."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from factories import announce, confirm, note
from psycopg import errors

from events import (
    FixedClock,
    LogError,
    LogUnavailable,
    NewEvent,
    Token,
    canonical_json,
    open_store,
    tokens_of,
)
from events.postgres import TRIGGERS, PostgresEventStore
from web.cli import main

HERE = Path(__file__).resolve().parent


@pytest.fixture
def store(pg_url: str, clock: FixedClock) -> Iterator[PostgresEventStore]:
    """A PostgreSQL store on a new database, with five events over two summits."""
    opened = PostgresEventStore(pg_url, clock)
    opened.append([announce("summit-a", title="Seoul summit \u2013 \uc11c\uc6b8").draft])
    opened.append([announce("summit-b").draft])
    opened.append([confirm("summit-a").draft])
    opened.append([note("Ça a été confirmé", "summit-b").draft])
    opened.append([note("last", "summit-a").draft])
    yield opened
    opened.close()


def raw(url: str, *statements: str) -> None:
    """Run statements as the server's superuser, each in its own transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_open_store_takes_postgresql_urls(pg_url: str, clock: FixedClock) -> None:
    """Both URL schemes open the PostgreSQL store; a second store sees the first one's events."""
    first = open_store(pg_url, clock)
    assert isinstance(first, PostgresEventStore)
    written = first.append([announce("summit-a").draft])
    second = open_store(pg_url.replace("postgresql://", "postgres://", 1), clock)
    assert isinstance(second, PostgresEventStore)
    assert list(second.read()) == written
    first.close()
    second.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "UPDATE events SET recorded_by = 'x' WHERE position = 99",  # even touching no row
        "DELETE FROM events WHERE position = 5",
        "TRUNCATE events",
    ],
)
def test_triggers_refuse_update_delete_and_truncate(
    store: PostgresEventStore, pg_url: str, statement: str
) -> None:
    """Raw SQL, even as superuser, cannot change or remove events while the triggers exist."""
    with pytest.raises(errors.RaiseException, match="append-only"):
        raw(pg_url, statement)
    report = store.verify()
    assert (report.ok, report.checked) == (True, 5)


@pytest.mark.parametrize(
    ("statements", "bad"),
    [
        (["UPDATE events SET data = replace(data, 'Tokyo', 'Tokyp') WHERE position = 2"], 2),
        (["UPDATE events SET data = substr(data, 2) WHERE position = 4"], 4),  # not JSON now
        (["DELETE FROM events WHERE position = 3"], 3),
        (
            [
                "UPDATE events SET position = -1 WHERE position = 2",
                "UPDATE events SET position = 2 WHERE position = 3",
                "UPDATE events SET position = 3 WHERE position = -1",
            ],
            2,
        ),
        (["UPDATE events SET recorded_by = 'mallory' WHERE position = 5"], 5),
        (["DELETE FROM events WHERE position = 1"], 1),
    ],
    ids=["changed-byte", "broken-json", "deleted-row", "swapped-rows", "changed-column", "first"],
)
def test_verify_names_the_first_bad_position_after_raw_tampering(
    store: PostgresEventStore, pg_url: str, statements: list[str], bad: int
) -> None:
    """With the triggers dropped by the superuser, any edit is found where it was made."""
    drops = [f"DROP TRIGGER {name} ON events" for name in TRIGGERS]
    raw(pg_url, *drops, *statements)
    report = store.verify()
    assert (report.ok, report.first_bad_position, report.checked) == (False, bad, bad - 1)


def test_a_reopened_store_puts_dropped_triggers_back(
    store: PostgresEventStore, pg_url: str
) -> None:
    """Opening a store completes a schema missing its triggers."""
    raw(pg_url, *[f"DROP TRIGGER {name} ON events" for name in TRIGGERS])
    PostgresEventStore(pg_url).close()
    with pytest.raises(errors.RaiseException, match="append-only"):
        raw(pg_url, "DELETE FROM events")


def test_data_is_stored_as_the_exact_text_that_was_hashed(
    store: PostgresEventStore, pg_url: str
) -> None:
    """The data column holds the canonical JSON itself (not jsonb): same bytes, same hashes."""
    with psycopg.connect(pg_url) as conn:
        stored: dict[int, str] = dict(conn.execute("SELECT position, data FROM events").fetchall())
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
    for record in store.read():
        assert stored[record.position] == canonical_json(record.data).decode()
        assert record.computed_hash() == record.hash
    assert "서울" in stored[1]


def test_a_big_import_is_still_all_or_nothing(pg_url: str, clock: FixedClock) -> None:
    """An error after several chunks have been sent to the server leaves nothing behind."""
    opened = PostgresEventStore(pg_url, clock)
    drafts = [announce(f"summit-{n}").draft for n in range(2500)]
    with pytest.raises(LogError, match="already announced"):
        opened.import_events([*drafts, announce("summit-7").draft], expected_head=0)
    assert opened.head() is None
    assert opened.import_events(drafts, expected_head=0) == 2500
    assert opened.verify().checked == 2500
    opened.close()


def test_processes_opening_a_new_database_at_once_all_get_the_schema(
    pg_url: str, clock: FixedClock
) -> None:
    """Eight processes creating the schema of one empty database together: all succeed."""
    sys.path.insert(0, str(HERE))
    try:
        import log_worker as worker

        spawn = multiprocessing.get_context("spawn")
        start, queue = spawn.Barrier(8), spawn.Queue()
        openers = [
            spawn.Process(target=worker.open_new, args=(pg_url, n, start, queue)) for n in range(8)
        ]
        for process in openers:
            process.start()
        for process in openers:
            process.join()
    finally:
        sys.path.remove(str(HERE))
    assert [process.exitcode for process in openers] == [0] * 8
    assert sorted(queue.get(timeout=10) for _ in openers) == list(range(8))
    opened = PostgresEventStore(pg_url, clock)
    assert opened.verify().checked == 8
    opened.close()


def test_a_role_without_ddl_rights_uses_a_prepared_database(
    store: PostgresEventStore, pg_url: str, clock: FixedClock
) -> None:
    """Once the schema exists, opening runs no DDL: an app role needs no more than the grants
    below (UPDATE only for LOCK TABLE ... EXCLUSIVE; the trigger still refuses any UPDATE)."""
    role = f"app_{os.getpid()}_{pg_url.rsplit('/', 1)[1]}"
    raw(
        pg_url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT, INSERT, UPDATE ON events TO {role}",
        f"GRANT SELECT, INSERT ON tokens TO {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
    )
    app_url = pg_url.replace("//diplocal@", f"//{role}@", 1)
    app = PostgresEventStore(app_url, clock)
    assert app.append([confirm("summit-b").draft])[0].position == 6
    tokens_of(app).add(Token("desk", "a" * 64, True, "2025-06-01T00:00:00Z"))
    assert tokens_of(app).find("a" * 64) is not None
    with pytest.raises(errors.InsufficientPrivilege):
        raw(app_url, "DELETE FROM events")
    with pytest.raises(errors.RaiseException, match="append-only"):
        raw(app_url, "UPDATE events SET recorded_by = 'app'")
    with pytest.raises(errors.InsufficientPrivilege):
        raw(app_url, "DROP TRIGGER events_no_update ON events")
    assert app.verify().ok
    app.close()


def _append_in_child(store: PostgresEventStore, sessions: Connection) -> None:
    store.append([note("from the child", "summit-a").draft])
    sessions.send(store._conn.info.backend_pid)
    store.close()


def test_a_forked_child_gets_its_own_connection(store: PostgresEventStore) -> None:
    """A store inherited through fork (gunicorn --preload) reconnects; the parent's still works."""
    parent_session = store._conn.info.backend_pid
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    child = fork.Process(target=_append_in_child, args=(store, sender))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert receiver.recv() != parent_session
    assert store._conn.info.backend_pid == parent_session
    assert store.append([note("from the parent", "summit-a").draft])[0].position == 7
    notes = [r.data.get("note") for r in store.read(after=5)]
    assert notes == ["from the child", "from the parent"]


def test_a_lost_connection_is_replaced_on_the_next_call(
    store: PostgresEventStore, pg_url: str
) -> None:
    """After the server ends the session, one call fails (LogUnavailable) and the store then
    reconnects."""
    pid = store._conn.info.backend_pid
    raw(pg_url, f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(LogUnavailable):
        store.head()
    head = store.head()
    assert head is not None and head.position == 5
    assert store.append([note("after", "summit-a").draft])[0].position == 6


def test_a_closed_store_stays_closed(pg_url: str, clock: FixedClock) -> None:
    """close() is final: the store does not quietly reconnect afterwards."""
    opened = PostgresEventStore(pg_url, clock)
    opened.close()
    with pytest.raises(LogUnavailable):
        opened.head()
    with pytest.raises(LogUnavailable):
        opened.append([announce("summit-a").draft])


def test_cli_import_export_verify_round_trip(tmp_path: Path, pg_url: str) -> None:
    """`diplocal --db postgresql://...` imports a log, exports it byte for byte and verifies."""
    source = tmp_path / "log.sqlite3"
    writer = open_store(str(source))
    writer.append([announce("summit-a", title="서울 \u2013 Séoul").draft])
    noted = NewEvent.of("summit-a", "SummitNoted", {"note": "ü"}, recorded_by="desk")
    writer.append([noted.draft])
    writer.close()
    runner = CliRunner()
    exported = runner.invoke(main, ["--db", str(source), "export"])
    assert exported.exit_code == 0
    dump = tmp_path / "log.jsonl"
    dump.write_bytes(exported.stdout_bytes)

    imported = runner.invoke(main, ["--db", pg_url, "import", str(dump)])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 events" in imported.output
    again = runner.invoke(main, ["--db", pg_url, "export"])
    assert again.exit_code == 0 and again.stdout_bytes == dump.read_bytes()
    last = json.loads(dump.read_bytes().splitlines()[-1])
    verified = runner.invoke(main, ["--db", pg_url, "verify", "--expect-head", f"2:{last['hash']}"])
    assert verified.exit_code == 0
    assert verified.output == f"ok: 2 events, head 2:{last['hash']}\n"
    repeated = runner.invoke(main, ["--db", pg_url, "import", str(dump)])
    assert "imported 0 events (skipped 2" in repeated.output
