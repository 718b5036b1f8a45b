"""Fixtures for the web tests: a fixed clock, a store with tokens, the app and its client."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import servers
from support.servers import free_port

from events import EventStore, FixedClock, Token, open_store, tokens_of
from web import create_app
from web.auth import token_hash

WRITE_TOKEN = "write-token-for-tests"
READ_TOKEN = "read-only-token-for-tests"

PARIS: dict[str, Any] = {
    "title": "France-Germany consultations",
    "kind": "official_visit",
    "participants": [
        {"name": "Emmanuel Macron", "country": "FR"},
        {"name": "Friedrich Merz", "country": "DE"},
    ],
    "location": {"city": "Paris", "country": "FR", "timezone": "Europe/Paris"},
    "schedule": {"start": "2025-09-10", "end": "2025-09-11"},
    "status": "confirmed",
}


def announce_data(**changes: Any) -> dict[str, Any]:
    """The shared sample SummitAnnounced data (tests/factories.py), with a source."""
    sample = {
        "title": "Korea-Japan summit",
        "source": {"url": "https://example.org/news/kr-jp", "publisher": "Example News"},
    }
    return factories.announce_data(**{**sample, **changes})


@pytest.fixture
def clock() -> FixedClock:
    """A clock on 2025-08-01 that moves one minute per reading."""
    return FixedClock(datetime(2025, 8, 1, 9, 0, tzinfo=UTC), tick=timedelta(minutes=1))


@pytest.fixture
def store(clock: FixedClock, tmp_path: Any) -> Iterator[EventStore]:
    """A SQLite store in a temp dir, with a write token and a read-only token."""
    opened = open_store(str(tmp_path / "web.sqlite3"), clock)
    tokens = tokens_of(opened)
    tokens.add(Token("desk", token_hash(WRITE_TOKEN), True, "2025-08-01T09:00:00Z"))
    tokens.add(Token("reader", token_hash(READ_TOKEN), False, "2025-08-01T09:00:00Z"))
    yield opened
    opened.close()


@pytest.fixture
def app(store: EventStore, clock: FixedClock) -> Flask:
    """The app over the store, with a fixed base URL, once its chain check has ended."""
    app = create_app(
        {"BASE_URL": "https://cal.example.org", "UID_DOMAIN": "cal.example.org"},
        store=store,
        clock=clock,
    )
    assert app.extensions["diplocal"].chain.wait(timeout=60)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


Poster = Callable[..., Any]


@pytest.fixture
def post(client: FlaskClient) -> Poster:
    """POST an event with the write token: post(summit_id, type, data, **headers/event_id)."""

    def send(
        summit_id: str,
        event_type: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        token: str | None = WRITE_TOKEN,
        headers: dict[str, str] | None = None,
    ) -> Any:
        body: dict[str, Any] = {"type": event_type, "data": data}
        if event_id is not None:
            body["event_id"] = event_id
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return client.post(f"/api/summits/{summit_id}/events", json=body, headers=sent)

    return send


@pytest.fixture
def seeded(post: Poster) -> Poster:
    """Two summits: kr-jp-2025-tokyo (tentative, Asia/Tokyo) and fr-de-2025-paris (all day)."""
    assert post("kr-jp-2025-tokyo", "SummitAnnounced", announce_data()).status_code == 201
    assert post("fr-de-2025-paris", "SummitAnnounced", copy.deepcopy(PARIS)).status_code == 201
    return post


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll /healthz until it answers 200; fail if the process dies or time runs out."""
    servers.wait_until_healthy(url, process, lambda: stop(process), timeout)


def stop(process: subprocess.Popen[bytes]) -> str:
    """Terminate a server process we started, reap it, and return what it printed."""
    servers.terminate(process)
    if process.stdout is None:
        return ""
    with process.stdout:
        return process.stdout.read().decode(errors="replace")


def server_env(db: str) -> dict[str, str]:
    """The environment for a server subprocess using a given database."""
    env = dict(os.environ)
    env["DIPLOCAL_DB"] = db
    env.pop("DIPLOCAL_BASE_URL", None)
    env.pop("DIPLOCAL_DEMO", None)
    return env


@dataclass
class Running:
    """A server subprocess on a free loopback port; `printed` is filled when it stops."""

    url: str
    printed: str = ""


@contextmanager
def running(command: Callable[[int], list[str]], db: str) -> Iterator[Running]:
    """Start `command(port)` with DIPLOCAL_DB=db, wait for /healthz, stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        command(port), env=server_env(db), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Running(f"http://127.0.0.1:{port}")
    try:
        wait_until_healthy(server.url, process)
        yield server
    finally:
        server.printed = stop(process)


@pytest.fixture
def helpers() -> Any:
    """Sample data and server helpers (test modules cannot import conftest)."""

    class Helpers:
        WRITE_TOKEN = WRITE_TOKEN
        READ_TOKEN = READ_TOKEN
        PARIS = PARIS
        announce_data = staticmethod(announce_data)
        free_port = staticmethod(free_port)
        wait_until_healthy = staticmethod(wait_until_healthy)
        stop = staticmethod(stop)
        server_env = staticmethod(server_env)
        running = staticmethod(running)

    return Helpers
