"""What the SQL stores promise beyond the contract: durability, append-only triggers, concurrent
writers. The concurrency and crash tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from factories import announce, confirm, note, read_stream

from events import (
    ConcurrencyError,
    EventIdTaken,
    FixedClock,
    LogError,
    canonical_json,
    open_store,
)
from events.sql import BATCH
from events.sqlite import SQLiteEventStore

HERE = Path(__file__).resolve().parent


@pytest.fixture
def log_worker() -> Iterator[None]:
    """Put log_worker.py on sys.path (spawned children inherit it) for the writer processes."""
    sys.path.insert(0, str(HERE))
    yield
    sys.path.remove(str(HERE))


def test_the_file_and_its_folders_are_created_and_the_log_survives_reopening(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A store opened on a new path creates it; a reopened store sees the same log."""
    path = tmp_path / "a" / "b" / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    written = store.append([announce("summit-a").draft, note(summit_id="summit-a").draft])
    store.close()
    for url in (f"sqlite:///{path}", str(path)):
        again = open_store(url, clock)
        assert isinstance(again, SQLiteEventStore)
        assert list(again.read()) == written
        assert again.verify().ok
        again.close()


def test_the_file_uses_wal_and_full_sync(tmp_path: Path, clock: FixedClock) -> None:
    """The journal is WAL and each store connection fsyncs every commit."""
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_triggers_refuse_update_and_delete(tmp_path: Path, clock: FixedClock) -> None:
    """Even raw SQL cannot change or remove an event while the triggers are in place."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    store.append([announce("summit-a").draft])
    store.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET data = '{}' WHERE position = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()
    reopened = SQLiteEventStore(path, clock)
    assert reopened.verify().ok and reopened.verify().checked == 1
    reopened.close()


def test_a_reopened_file_puts_dropped_triggers_back(tmp_path: Path, clock: FixedClock) -> None:
    """Opening a store completes a schema whose triggers were dropped."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    store.append([announce("summit-a").draft])  # SQLite's triggers fire per row: one is needed
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("DROP TRIGGER events_no_delete")
    SQLiteEventStore(path, clock).close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()


def test_data_is_stored_as_the_exact_text_that_was_hashed(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The data column holds the reference canonical JSON of the record's data, as is."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    store.append([announce("summit-a", title="서울 \u2013 Séoul \U0001f600").draft])
    store.append([note('quotes " and \\ and \u2028', "summit-a").draft])
    with sqlite3.connect(path) as conn:
        stored = dict(conn.execute("SELECT position, data FROM events").fetchall())
    for record in store.read():
        assert stored[record.position] == canonical_json(record.data).decode()
        assert record.computed_hash() == record.hash
    assert "서울" in stored[1]
    store.close()


def test_verify_names_a_row_whose_data_is_no_longer_json(tmp_path: Path, clock: FixedClock) -> None:
    """A byte change that breaks the stored JSON is reported at its position, not raised."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    store.append(
        [announce("summit-a").draft, note(summit_id="summit-a").draft, note("x", "summit-a").draft]
    )
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET data = substr(data, 2) WHERE position = 2")
    conn.commit()
    conn.close()
    report = store.verify()
    assert (report.ok, report.first_bad_position, report.checked) == (False, 2, 1)
    store.close()


def test_two_connections_taking_turns_chain_onto_each_others_writes(
    db: str, clock: FixedClock
) -> None:
    """Each append (and import) follows the other connection's last one: no store caches the
    head or the versions between its writes."""
    first, second = open_store(db, clock), open_store(db, clock)
    first.append([announce("summit-a").draft])
    second.append([note("from the second", "summit-a").draft])
    first.append([note("from the first", "summit-a").draft])
    first.append([announce("summit-b", title="B").draft])
    second.append([confirm("summit-b").draft], expected_version=1)
    with pytest.raises(ConcurrencyError) as caught:
        first.append([note("too late", "summit-b").draft], expected_version=1)
    assert caught.value.actual == 2
    first.import_events([announce("summit-c", title="C").draft], expected_head=5)
    first.append([confirm("summit-c").draft])
    with pytest.raises(ConcurrencyError):
        second.import_events([note("stale", "summit-a").draft], expected_head=5)
    second.import_events([note("imported", "summit-a").draft], expected_head=7)
    first.append([note("after the import", "summit-a").draft])
    log = list(second.read())
    assert [(r.summit_id, r.version) for r in log] == [
        ("summit-a", 1),
        ("summit-a", 2),
        ("summit-a", 3),
        ("summit-b", 1),
        ("summit-b", 2),
        ("summit-c", 1),
        ("summit-c", 2),
        ("summit-a", 4),
        ("summit-a", 5),
    ]
    assert [r.position for r in log] == list(range(1, 10))
    assert first.verify().ok and second.verify().ok
    first.close()
    second.close()


def test_a_resent_batch_after_it_landed_is_taken_and_writes_nothing(
    db: str, clock: FixedClock
) -> None:
    """A client resending after its first try landed gets EventIdTaken (the service replays
    from `find`), whatever version it expected; nothing is written twice."""
    store = open_store(db, clock)
    sent = [announce("summit-a").draft, confirm("summit-a").draft]
    written = store.append(sent, expected_version=0)
    for expected in (0, 2, None):
        with pytest.raises(EventIdTaken) as caught:
            store.append(sent, expected_version=expected)
        assert caught.value.event_id == sent[0].event_id
    assert [store.find(draft.event_id) for draft in sent] == written
    assert [r.position for r in store.read()] == [1, 2]
    store.close()


def test_eight_processes_appending_at_once_serialise_correctly(
    db: str, clock: FixedClock, log_worker: None
) -> None:
    """4 writers race on one summit with expected_version, 4 write their own: nothing is lost."""
    import log_worker as worker

    store = open_store(db, clock)
    store.append([announce("shared-summit").draft])
    store.close()
    per_writer = 100
    spawn = multiprocessing.get_context("spawn")
    start, queue = spawn.Barrier(8), spawn.Queue()
    writers = [
        spawn.Process(
            target=worker.write,
            args=("shared" if n < 4 else "own", db, n, per_writer, start, queue),
        )
        for n in range(8)
    ]
    for process in writers:
        process.start()
    results = [queue.get(timeout=300)[1] for _ in writers]
    for process in writers:
        process.join()
        assert process.exitcode == 0

    store = open_store(db, clock)
    log = list(store.read())
    assert [r.position for r in log] == list(range(1, len(log) + 1))
    ids = Counter(r.event_id for r in log)
    told_ok = [i for result in results for i in result["ok"]]
    told_conflict = [i for result in results for i in result["conflicted"]]
    assert len(told_ok) == 8 * per_writer
    assert all(ids[i] == 1 for i in told_ok)
    assert not any(i in ids for i in told_conflict)
    assert len(log) == 1 + len(told_ok)
    versions: dict[str, list[int]] = {}
    for record in log:
        versions.setdefault(record.summit_id, []).append(record.version)
    assert versions["shared-summit"] == list(range(1, 4 * per_writer + 2))
    for n in range(4, 8):
        assert versions[f"own-{n}"] == list(range(1, per_writer + 1))
    assert store.verify().ok
    store.close()


def test_processes_appending_one_event_id_at_once_record_it_once(
    db: str, clock: FixedClock, log_worker: None
) -> None:
    """Eight processes send one event_id at the same moment: exactly one record, and every
    other writer is told EventIdTaken (none gets a conflict, an error or a second record)."""
    import log_worker as worker

    store = open_store(db, clock)
    store.append([announce("shared-summit").draft])
    store.close()
    event_id = "0f0f0f0f-0000-4000-8000-000000000001"
    spawn = multiprocessing.get_context("spawn")
    start, queue = spawn.Barrier(8), spawn.Queue()
    writers = [
        spawn.Process(target=worker.same_id, args=(db, n, event_id, start, queue)) for n in range(8)
    ]
    for process in writers:
        process.start()
    results = [queue.get(timeout=120) for _ in writers]
    for process in writers:
        process.join()
    assert [process.exitcode for process in writers] == [0] * 8
    store = open_store(db, clock)
    log = list(store.read())
    assert store.verify().ok
    store.close()
    assert [r.event_id for r in log] == [log[0].event_id, event_id]
    winners = [(writer, position) for writer, outcome, position in results if outcome == "recorded"]
    assert len(winners) == 1
    writer, position = winners[0]
    assert position == 2
    assert log[1].data == {"note": f"sent by writer {writer}"}
    assert sorted(outcome for _, outcome, _ in results) == ["recorded"] + ["taken"] * 7


def test_every_acknowledged_append_survives_sigkill(
    db: str, clock: FixedClock, log_worker: None
) -> None:
    """A writer killed at random moments never loses an event it was told was appended."""
    import log_worker as worker

    spawn = multiprocessing.get_context("spawn")
    rng = random.Random(20250601)
    acked: list[str] = []
    for _ in range(8):
        receiver, sender = spawn.Pipe(duplex=False)
        child = spawn.Process(target=worker.crash, args=(db, sender))
        child.start()
        sender.close()
        wanted = rng.randint(1, 25)
        for _ in range(wanted):
            acked.append(receiver.recv())
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL
        while receiver.poll():  # acks sent between the last recv and the kill count too
            try:
                acked.append(receiver.recv())
            except EOFError:
                break
        receiver.close()
        store = open_store(db, clock)
        missing = [i for i in acked if store.find(i) is None]
        assert missing == []
        report = store.verify()
        assert report.ok, report
        store.close()
    assert len(acked) >= 8


def test_processes_opening_a_new_file_at_once_all_get_the_schema(
    tmp_path: Path, clock: FixedClock, log_worker: None
) -> None:
    """Eight processes creating the same new file together: each opens it and appends."""
    import log_worker as worker

    spawn = multiprocessing.get_context("spawn")
    for attempt in range(2):
        db = str(tmp_path / f"new-{attempt}" / "log.sqlite3")
        start, queue = spawn.Barrier(8), spawn.Queue()
        openers = [
            spawn.Process(target=worker.open_new, args=(db, n, start, queue)) for n in range(8)
        ]
        for process in openers:
            process.start()
        for process in openers:
            process.join()
        assert [process.exitcode for process in openers] == [0] * 8
        assert sorted(queue.get(timeout=10) for _ in openers) == list(range(8))
        store = SQLiteEventStore(db, clock)
        assert store.verify().checked == 8
        store.close()


def test_an_import_of_several_batches_is_still_all_or_nothing(db: str, clock: FixedClock) -> None:
    """A known id after more than one batch of rows was sent fails the whole import."""
    store = open_store(db, clock)
    drafts = [announce(f"summit-{n}", event_id=f"e-{n}").draft for n in range(BATCH + 200)]
    with pytest.raises(LogError):
        store.import_events(
            [*drafts, note(summit_id="summit-3", event_id="e-3").draft], expected_head=0
        )
    assert store.head() is None
    assert store.import_events(drafts, expected_head=0) == BATCH + 200
    assert [r.event_id for r in store.read()] == [draft.event_id for draft in drafts]
    assert [len(read_stream(store, f"summit-{n}")) for n in (0, BATCH, BATCH + 199)] == [1, 1, 1]
    assert store.verify().checked == BATCH + 200
    store.close()


def _refuse_rows_of(db: str, summit_id: str) -> None:
    """A trigger, made by another connection, that has the database refuse one summit's rows."""
    if db.startswith("postgres"):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.summit_id = '{summit_id}' THEN RAISE 'refused by the test'; END IF;"
                " RETURN NEW; END $$"
            )
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events"
                " FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        return
    with sqlite3.connect(db) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.summit_id = '{summit_id}'"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )


@pytest.mark.parametrize("refused", ["summit-500", f"summit-{BATCH + 400}"])
def test_an_import_fails_whole_when_the_database_refuses_a_batch(
    db: str, clock: FixedClock, refused: str
) -> None:
    """A batch the database refuses (the first, or the last after one was inserted) fails the
    import with the database's error; nothing stays and the store still works."""
    store = open_store(db, clock)
    _refuse_rows_of(db, refused)
    drafts = [announce(f"summit-{n}").draft for n in range(BATCH + 500)]
    with pytest.raises(Exception, match="refused by the test"):
        store.import_events(drafts, expected_head=0)
    assert store.head() is None
    assert store.import_events(drafts[:400], expected_head=0) == 400
    assert store.verify().checked == 400
    store.close()


def test_an_import_works_under_a_low_limit_on_statement_variables(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Rows go in one statement each (executemany): even an SQLite built to allow only the
    eleven values of one row per statement takes a big import unchanged."""
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 11)
    drafts = [announce(f"summit-{n}").draft for n in range(BATCH + 50)]
    assert store.import_events(drafts, expected_head=0) == BATCH + 50
    assert [r.summit_id for r in store.read()] == [draft.summit_id for draft in drafts]
    assert store.verify().checked == BATCH + 50
    store.close()
