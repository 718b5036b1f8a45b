"""Shared fixtures: a ticking clock, every EventStore adapter, and the event factories."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from events import EventStore, FixedClock
from events.memory import MemoryEventStore
from events.postgres import PostgresEventStore
from events.sqlite import SQLiteEventStore

TESTS = Path(__file__).resolve().parent

StoreFactory = Callable[[pytest.FixtureRequest, FixedClock], EventStore]

# One line per adapter; the contract suite runs against each.
STORES: dict[str, StoreFactory] = {
    "memory": lambda request, clock: MemoryEventStore(clock),
    "sqlite": lambda request, clock: SQLiteEventStore(
        request.getfixturevalue("tmp_path") / "log.sqlite3", clock
    ),
    "postgres": lambda request, clock: PostgresEventStore(request.getfixturevalue("pg_url"), clock),
}
_databases = itertools.count(1)


# Make tests/factories.py importable as `factories` (tests are not a package) before any
# conftest below this one is imported.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session", autouse=True)
def _configuration_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files the app keeps beside the user's configuration (the snapshot key) go to a
    temporary folder, for this process and the servers it starts."""
    folder = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder))
        yield


@pytest.fixture
def clock() -> FixedClock:
    """A clock at 2025-06-01T00:00Z that moves one second per reading."""
    return FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(seconds=1))


@pytest.fixture(params=list(STORES))
def store(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[EventStore]:
    """An empty store of each adapter kind, closed afterwards."""
    opened = STORES[request.param](request, clock)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What `open_store` takes for a new durable log: a SQLite file path, or the URL of a new
    PostgreSQL database (a module may define its own `db`)."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return str(tmp_path / "log.sqlite3")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One throwaway PostgreSQL server for the run; an error, never a skip, if it cannot start."""
    from support.pgserver import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """The URL of a new, empty database on the test server (one per test)."""
    import psycopg

    name = f"test_{next(_databases)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def factories() -> ModuleType:
    """The event factories module (announce, note, confirm, announce_data)."""
    import factories

    return factories
