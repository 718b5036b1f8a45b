"""Writer processes for the store concurrency and crash tests, started with multiprocessing spawn.

The test puts this folder on sys.path, which spawned children inherit, so they can import it.
`db` is what `open_store` takes: a SQLite path or a PostgreSQL URL.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any

from events import (
    ConcurrencyError,
    Draft,
    EventIdTaken,
    EventStore,
    NewEvent,
    open_store,
    system_clock,
)

ANNOUNCE: dict[str, Any] = {
    "title": "Worker summit",
    "kind": "other",
    "participants": [{"name": "Someone", "country": "KR"}],
    "location": {"country": "KR", "timezone": "Asia/Seoul"},
    "schedule": {"start": "2025-09"},
    "status": "tentative",
}


def announcement(summit_id: str, event_id: str | None = None) -> Draft:
    """A valid SummitAnnounced draft."""
    return NewEvent.of(summit_id, "SummitAnnounced", ANNOUNCE, event_id=event_id).draft


def note(summit_id: str, text: str, event_id: str | None = None) -> Draft:
    """A valid SummitNoted draft (a fresh random event_id unless given)."""
    return NewEvent.of(summit_id, "SummitNoted", {"note": text}, event_id=event_id).draft


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
    version = len(list(store.read(summit_id="shared-summit")))
    while len(ok) < count:
        draft = note("shared-summit", f"writer {writer} event {len(ok)}")
        try:
            version = store.append([draft], expected_version=version)[0].version
        except ConcurrencyError as error:
            conflicted.append(draft.event_id)
            version = error.actual
        else:
            ok.append(draft.event_id)
    return {"ok": ok, "conflicted": conflicted}


def own(store: EventStore, writer: int, count: int) -> dict[str, list[str]]:
    """Announce a summit of one's own and append notes to it."""
    summit = f"own-{writer}"
    ok = [store.append([announcement(summit)], expected_version=0)[0].event_id]
    for n in range(1, count):
        ok.append(store.append([note(summit, f"own {writer} event {n}")])[0].event_id)
    return {"ok": ok, "conflicted": []}


def same_id(db: str, writer: int, event_id: str, start: Any, results: Any) -> None:
    """Append a note with an event_id every writer uses, once all are ready; put on `results`
    (writer, "recorded", position) or (writer, "taken", None)."""
    store = open_store(db, system_clock)
    try:
        draft = note("shared-summit", f"sent by writer {writer}", event_id)
        start.wait()
        try:
            record = store.append([draft])[0]
        except EventIdTaken as error:
            assert error.event_id == event_id
            results.put((writer, "taken", None))
        else:
            results.put((writer, "recorded", record.position))
    finally:
        store.close()


def crash(db: str, acks: Connection) -> None:
    """Append forever, sending each event_id down the pipe once append() has returned."""
    store = open_store(db, system_clock)
    if store.find("start") is None:
        store.append([announcement("crash-summit", event_id="start")])
    n = 0
    while True:
        draft = note("crash-summit", f"crash note {n}")
        store.append([draft])
        acks.send(draft.event_id)
        n += 1


def open_new(db: str, writer: int, start: Any, results: Any) -> None:
    """Open a file that may not exist yet, at the same moment as the others, and announce."""
    start.wait()
    store = open_store(db, system_clock)
    try:
        store.append([announcement(f"own-{writer}")])
        results.put(writer)
    finally:
        store.close()
