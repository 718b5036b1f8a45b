"""What the SQL stores promise beyond the contract: durability, append-only triggers, concurrent
writers. The concurrency and crash tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from factories import announce, confirm, note

from events import ConcurrencyError, EventIdReused, FixedClock, NewEvent, open_store
from events.sql import _Written
from events.sqlite import SQLiteEventStore

HERE = Path(__file__).resolve().parent


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What `open_store` takes for a new log: a SQLite file path, or a new PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return str(tmp_path / "log.sqlite3")


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
    written = store.append("summit-a", [announce(), note()])
    store.close()
    again = open_store(f"sqlite:///{path}", clock)
    assert list(again.iter_log()) == written
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
    store.append("summit-a", [announce()])
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


def test_verify_names_a_row_whose_data_is_no_longer_json(tmp_path: Path, clock: FixedClock) -> None:
    """A byte change that breaks the stored JSON is reported at its position, not raised."""
    path = tmp_path / "log.sqlite3"
    store = SQLiteEventStore(path, clock)
    store.append("summit-a", [announce(), note(), note("x")])
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
    """A store remembers its head and versions between appends only while nobody else writes:
    each append here follows the other connection's last one, and its own imports."""
    first, second = open_store(db, clock), open_store(db, clock)
    first.append("summit-a", [announce()])
    second.append("summit-a", [note("from the second")])
    first.append("summit-a", [note("from the first")])
    first.append("summit-b", [announce(title="B")])
    second.append("summit-b", [confirm()], expected_version=1)
    with pytest.raises(ConcurrencyError) as caught:
        first.append("summit-b", [note("too late")], expected_version=1)
    assert caught.value.actual == 2
    first.import_events([("summit-c", announce(title="C"))])
    first.append("summit-c", [confirm()])
    second.import_events([("summit-a", note("imported"))])
    first.append("summit-a", [note("after the import")])
    log = list(second.iter_log())
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
    assert first.verify().ok and second.verify().ok
    first.close()
    second.close()


def test_a_retry_after_a_landed_append_gets_its_records_despite_the_version_it_expected(
    db: str, clock: FixedClock
) -> None:
    """A client that resends after its first try landed (now a stale expected_version) gets the
    stored records, not a conflict; a reused announcement is still refused."""
    store = open_store(db, clock)
    sent = [announce(), confirm()]
    written = store.append("summit-a", sent, expected_version=0)
    assert store.append("summit-a", sent, expected_version=0) == written
    with pytest.raises(Exception, match="already announced"):
        store.append("summit-a", [announce()])
    assert [r.position for r in store.iter_log()] == [1, 2]
    store.close()


def test_eight_processes_appending_at_once_serialise_correctly(
    db: str, clock: FixedClock, log_worker: None
) -> None:
    """4 writers race on one summit with expected_version, 4 write their own: nothing is lost."""
    import log_worker as worker

    store = open_store(db, clock)
    store.append("shared-summit", [announce()])
    store.close()
    per_writer = 200
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
    results = [queue.get(timeout=120)[1] for _ in writers]
    for process in writers:
        process.join()
        assert process.exitcode == 0

    store = open_store(db, clock)
    log = list(store.iter_log())
    assert [r.position for r in log] == list(range(1, len(log) + 1))
    ids = Counter(r.event_id for r in log)
    told_ok = [i for result in results for i in result["ok"]]
    told_conflict = [i for result in results for i in result["conflicted"]]
    assert len(told_ok) == 8 * per_writer
    assert all(ids[i] == 1 for i in told_ok)
    assert not any(i in ids for i in told_conflict)
    assert len(log) == 1 + len(told_ok)
    assert told_conflict, "four writers on one summit should have collided at least once"
    versions: dict[str, list[int]] = {}
    for record in log:
        versions.setdefault(record.summit_id, []).append(record.version)
    assert versions["shared-summit"] == list(range(1, 4 * per_writer + 2))
    for n in range(4, 8):
        assert versions[f"own-{n}"] == list(range(1, per_writer + 1))
    assert store.verify().ok
    store.close()


def test_every_acknowledged_append_survives_sigkill(
    db: str, clock: FixedClock, log_worker: None
) -> None:
    """A writer killed at random moments never loses an event it was told was appended."""
    import log_worker as worker

    spawn = multiprocessing.get_context("spawn")
    rng = random.Random(20250601)
    acked: list[str] = []
    for _ in range(10):
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
        missing = [i for i in acked if store.by_event_id(i) is None]
        assert missing == []
        report = store.verify()
        assert report.ok, report
        store.close()
    assert len(acked) >= 10


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


def test_an_import_into_an_empty_log_still_finds_its_own_flushed_events(
    db: str, clock: FixedClock
) -> None:
    """Ids resent after their chunk was written are recognised: refused if the content
    differs (nothing written), skipped if it is the same."""
    store = open_store(db, clock)
    first = [announce(event_id=f"e-{n}") for n in range(1200)]
    items = [(f"summit-{n}", new) for n, new in enumerate(first)]
    with pytest.raises(EventIdReused):
        store.import_events([*items, ("summit-3", note(event_id="e-3"))])
    assert store.head() is None
    again = [("summit-3", first[3]), ("summit-1100", first[1100])]
    assert store.import_events([*items, *again]) == 1200
    assert [r.event_id for r in store.iter_log()] == [new.event_id for new in first]
    assert store.verify().ok
    store.close()


@pytest.mark.parametrize("empty", [True, False])
def test_reads_during_an_import_see_its_own_events_pending_or_written(
    db: str, clock: FixedClock, empty: bool
) -> None:
    """What an import's caller reads between items (as check_import does) includes the
    import's earlier events, whether still buffered or already sent in a chunk."""
    store = open_store(db, clock)
    if not empty:
        store.append("summit-old", [announce(event_id="e-old")])
    seen: list[tuple[str, int, bool]] = []

    def items() -> Iterator[tuple[str, NewEvent]]:
        for n in range(1100):
            yield f"summit-{n}", announce(event_id=f"e-{n}")
            if n in (0, 999, 1099):  # buffered, just sent in a chunk, buffered after a chunk
                for probe in (0, n):
                    record = store.by_event_id(f"e-{probe}")
                    stream = store.stream(f"summit-{probe}")
                    found = record is not None and record.summit_id == f"summit-{probe}"
                    seen.append((f"e-{probe}", len(stream), found))
        assert store.by_event_id("e-never") is None
        assert store.stream("summit-never") == []
        assert (store.by_event_id("e-old") is not None) is not empty

    assert store.import_events(items()) == 1100
    assert all(found and count == 1 for _, count, found in seen)
    assert len(seen) == 6
    assert store.verify().ok
    store.close()


def test_the_import_id_filter_never_misses_an_id_it_was_given() -> None:
    """The filter of written ids may say yes wrongly (one lookup too many), never no wrongly."""
    written = _Written()
    ids = [f"id-{n}" for n in range(50_000)]
    assert not any(event_id in written for event_id in ids)
    assert sum(written.add(event_id) for event_id in ids) < 20  # seen before: rarely, wrongly
    assert all(event_id in written and written.add(event_id) for event_id in ids)
    assert sum(f"other-{n}" in written for n in range(10_000)) < 10


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


@pytest.mark.parametrize("refused", ["summit-500", "summit-1400"])
def test_an_import_fails_whole_when_the_database_refuses_a_chunk(
    db: str, clock: FixedClock, refused: str
) -> None:
    """A chunk refused on the import's writer thread (summit-500: the first chunk, inserted
    while later items are sealed) or on the caller's (summit-1400: the last one) fails the
    import with the database's error; nothing stays, the thread ends, the store still works."""
    store = open_store(db, clock)
    _refuse_rows_of(db, refused)
    threads = threading.active_count()
    items = [(f"summit-{n}", announce()) for n in range(1500)]
    with pytest.raises(Exception, match="refused by the test"):
        store.import_events(items)
    assert store.head() is None
    assert threading.active_count() == threads
    assert store.import_events(items[:400]) == 400
    assert store.verify().checked == 400
    store.close()


def test_an_import_splits_its_inserts_to_the_values_a_statement_may_carry(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Chunks go in as INSERTs of many rows; a lower SQLite limit on values per statement (999
    before SQLite 3.32) gives more, smaller statements, and the same log."""
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)  # 8 rows of 12 values
    items = [(f"summit-{n}", announce()) for n in range(1050)]
    assert store.import_events(items) == 1050
    assert [r.summit_id for r in store.iter_log()] == [summit_id for summit_id, _ in items]
    assert store.verify().checked == 1050
    store.close()
