"""A writer that would wait behind a long import gets a 503 with Retry-After after the
store's write wait (not a minute-long hang); nothing is written, and it succeeds afterwards.

A real import (a second store on the same database, its drafts still coming) holds the log's
write lock on SQLite and on PostgreSQL while the app's POST arrives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import factories
import pytest
from flask import Flask

from events import Draft, EventStore, FixedClock, Token, open_store, tokens_of
from web import create_app
from web.auth import token_hash

WAIT = 1.0  # the app store's write wait, seconds
TOKEN = "write-token-for-the-wait-test"
SID = "kr-jp-2025-tokyo"


@pytest.fixture
def store(db: str, clock: FixedClock) -> Iterator[EventStore]:
    """The app's store, opened with a short write wait, holding one summit and a write token."""
    opened = open_store(db, clock, write_wait=WAIT)
    opened.append([factories.announce(SID).draft])
    tokens_of(opened).add(Token("desk", token_hash(TOKEN), True, "2025-06-01T00:00:00Z"))
    yield opened
    opened.close()


class SlowImport:
    """`diplocal import`'s store call from another connection, its input held mid-way."""

    def __init__(self, db: str, clock: FixedClock, expected_head: int) -> None:
        self.store = open_store(db, clock)
        self.holding = threading.Event()  # the import has the write lock
        self.release = threading.Event()  # let the rest of the input come
        self.added: int | None = None
        self.thread = threading.Thread(target=self._run, args=(expected_head,))

    def _drafts(self) -> Iterator[Draft]:
        yield factories.announce("fr-de-2025-paris").draft
        self.holding.set()
        self.release.wait(timeout=60)
        yield factories.note("imported", "fr-de-2025-paris").draft

    def _run(self, expected_head: int) -> None:
        self.added = self.store.import_events(self._drafts(), expected_head=expected_head)

    def __enter__(self) -> SlowImport:
        self.thread.start()
        assert self.holding.wait(timeout=30), "the import never took the write lock"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(timeout=60)
        self.store.close()


def post_note(app: Flask, text: str) -> Any:
    return app.test_client().post(
        f"/api/summits/{SID}/events",
        json={"type": "SummitNoted", "data": {"note": text}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def test_a_writer_behind_an_import_gets_503_then_succeeds(
    db: str, store: EventStore, clock: FixedClock
) -> None:
    app = create_app(
        {"BASE_URL": "https://cal.example.org", "UID_DOMAIN": "cal.example.org"},
        store=store,
        clock=clock,
    )
    with SlowImport(db, clock, expected_head=1) as importing:
        started = time.monotonic()
        refused = post_note(app, "sent during the import")
        waited = time.monotonic() - started
        assert refused.status_code == 503
        assert refused.content_type == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert waited < WAIT + 5  # the store's wait, not SQLite's old 10 s or a long hang
        head = store.head()
        assert head is not None and head.position == 1  # neither the POST nor the import yet
    assert importing.added == 2
    assert [r.type for r in store.read(summit_id=SID)] == ["SummitAnnounced"]
    accepted = post_note(app, "sent after the import")
    assert accepted.status_code == 201
    assert accepted.get_json()["position"] == 4
    notes = [r.data for r in store.read(summit_id=SID) if r.type == "SummitNoted"]
    assert notes == [{"note": "sent after the import"}]
