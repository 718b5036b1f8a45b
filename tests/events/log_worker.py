"""Writer processes for the store concurrency and crash tests, started with multiprocessing spawn.

The test puts this folder on sys.path, which spawned children inherit, so they can import it.
`db` is what `open_store` takes: a SQLite path or a PostgreSQL URL.
"""

from __future__ import annotations

import uuid
from multiprocessing.connection import Connection
from typing import Any

from events import ConcurrencyError, EventStore, NewEvent, open_store, system_clock

ANNOUNCE: dict[str, Any] = {
    "title": "Worker summit",
    "kind": "other",
    "participants": [{"name": "Someone", "country": "KR"}],
    "location": {"country": "KR", "timezone": "Asia/Seoul"},
    "schedule": {"start": "2025-09"},
    "status": "tentative",
}


def _note(text: str) -> NewEvent:
    return NewEvent.of("SummitNoted", {"note": text}, event_id=str(uuid.uuid4()))


def write(mode: str, db: str, writer: int, count: int, start: Any, results: Any) -> None:
    """Run one writer ("shared" or "own") once all are ready (the barrier `start`); put on the
    `results` queue the ids it was told were appended or refused."""
    store = open_store(db, system_clock)
    start.wait()
    try:
        results.put((writer, (shared if mode == "shared" else own)(store, writer, count)))
    finally:
        store.close()


def shared(store: EventStore, writer: int, count: int) -> dict[str, list[str]]:
    """Append notes to one summit everyone writes to, with expected_version, retrying."""
    ok: list[str] = []
    conflicted: list[str] = []
    version = len(store.stream("shared-summit"))
    while len(ok) < count:
        event = _note(f"writer {writer} event {len(ok)}")
        try:
            version = store.append("shared-summit", [event], expected_version=version)[0].version
        except ConcurrencyError as error:
            conflicted.append(event.event_id)
            version = error.actual
        else:
            ok.append(event.event_id)
    return {"ok": ok, "conflicted": conflicted}


def own(store: EventStore, writer: int, count: int) -> dict[str, list[str]]:
    """Announce a summit of one's own and append notes to it."""
    summit = f"own-{writer}"
    first = NewEvent.of("SummitAnnounced", ANNOUNCE)
    ok = [store.append(summit, [first], expected_version=0)[0].event_id]
    for n in range(1, count):
        ok.append(store.append(summit, [_note(f"own {writer} event {n}")])[0].event_id)
    return {"ok": ok, "conflicted": []}


def crash(db: str, acks: Connection) -> None:
    """Append forever, sending each event_id down the pipe once append() has returned."""
    store = open_store(db, system_clock)
    if not store.stream("crash-summit"):
        store.append("crash-summit", [NewEvent.of("SummitAnnounced", ANNOUNCE, event_id="start")])
    n = 0
    while True:
        event = _note(f"crash note {n}")
        store.append("crash-summit", [event])
        acks.send(event.event_id)
        n += 1


def open_new(db: str, writer: int, start: Any, results: Any) -> None:
    """Open a file that may not exist yet, at the same moment as the others, and announce."""
    start.wait()
    store = open_store(db, system_clock)
    try:
        store.append(f"own-{writer}", [NewEvent.of("SummitAnnounced", ANNOUNCE)])
        results.put(writer)
    finally:
        store.close()
