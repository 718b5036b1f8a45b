"""Settings kept with the log (`settings_of`): first value wins, replace on purpose, kept in
the log's own database; old SQLite files and PostgreSQL databases gain the table."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from events import EventStore, FixedClock, open_store, settings_of
from events.postgres import PostgresEventStore
from events.sqlite import SQLiteEventStore


def test_the_first_value_stays_until_replaced(store: EventStore) -> None:
    kept = settings_of(store)
    assert kept.get("uid_domain") is None
    assert kept.put_once("uid_domain", "a.example") == "a.example"
    assert kept.put_once("uid_domain", "b.example") == "a.example", "the stored value wins"
    assert settings_of(store).get("uid_domain") == "a.example"
    assert kept.replace("uid_domain", "c.example") == "a.example"
    assert kept.get("uid_domain") == "c.example"
    assert kept.replace("other", "x") is None and kept.get("other") == "x"
    assert kept.get("uid_domain") == "c.example", "names are separate"


def test_settings_are_kept_in_the_log_file(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "log.sqlite3"
    first = open_store(str(path), clock)
    settings_of(first).put_once("uid_domain", "cal.example.org")
    first.close()
    again = open_store(str(path), clock, create=False)
    assert settings_of(again).get("uid_domain") == "cal.example.org"
    again.close()


def test_memory_settings_belong_to_one_log(clock: FixedClock) -> None:
    one, two = open_store("memory:", clock), open_store("memory:", clock)
    settings_of(one).put_once("uid_domain", "one.example")
    assert settings_of(one).get("uid_domain") == "one.example"
    assert settings_of(two).get("uid_domain") is None


def test_a_sqlite_file_from_before_settings_gains_the_table(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "old.sqlite3"
    SQLiteEventStore(path, clock).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE settings")
    reopened = open_store(str(path), clock, create=False)
    assert settings_of(reopened).put_once("uid_domain", "x.example") == "x.example"
    reopened.close()


def test_a_postgres_database_from_before_settings_gains_the_table(
    pg_url: str, clock: FixedClock
) -> None:
    PostgresEventStore(pg_url, clock).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE settings")
    reopened = PostgresEventStore(pg_url, clock)
    assert settings_of(reopened).put_once("uid_domain", "x.example") == "x.example"
    reopened.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_starts_racing_on_a_new_log_agree_on_one_value(
    kind: str, tmp_path: Path, clock: FixedClock, request: pytest.FixtureRequest
) -> None:
    """Several stores (as worker processes have) put different values at once: one wins and
    every one of them is told the winner."""
    url = str(tmp_path / "race.sqlite3") if kind == "sqlite" else request.getfixturevalue("pg_url")
    stores = [open_store(url, clock) for _ in range(6)]
    start = threading.Barrier(len(stores))
    told: list[str] = []

    def put(number: int) -> None:
        start.wait()
        told.append(settings_of(stores[number]).put_once("uid_domain", f"d{number}.example"))

    threads = [threading.Thread(target=put, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(told) == len(stores) and len(set(told)) == 1
    assert settings_of(stores[0]).get("uid_domain") == told[0]
    for opened in stores:
        opened.close()
