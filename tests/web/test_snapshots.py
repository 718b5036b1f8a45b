"""Snapshots are a cache, never evidence (issue 10): a worker started from one serves the same
bytes as one that folded the whole log, and a snapshot written by other code, altered in the
database, or off the log's chain is dropped and never served."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from calendar_core.snapshot import take
from events import EventStore, open_store
from events.snapshots import Snapshot, snapshots_of
from web import create_app
from web.demo import load_demo
from web.snapshots import code_version, load_key

URLS = (
    "/calendar.ics",
    "/api/summits",
    "/api/summits?at_position=9",
    "/calendar.ics?at_position=12",
)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "snapshot.key"


@pytest.fixture
def demo_store(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(str(tmp_path / "demo.sqlite3"))
    assert load_demo(store) == 16
    yield store
    store.close()


def _app(store: EventStore, key_file: Path, every: int) -> Flask:
    config = {"SNAPSHOT_EVERY": every, "SNAPSHOT_KEY_FILE": str(key_file)}
    return create_app({**config, "UID_DOMAIN": "cal.example.org"}, store=store)


def _answers(app: Flask) -> list[bytes]:
    client = app.test_client()
    return [client.get(url).data for url in URLS]


def _latest(store: EventStore) -> Snapshot:
    snapshot = snapshots_of(store).nearest(1 << 62)
    assert snapshot is not None
    return snapshot


def _forged(store: EventStore, key_file: Path, **changes: Any) -> Snapshot:
    """A snapshot of the whole demo log with a title changed, signed with the real key."""
    app = _app(store, key_file, every=0)
    with app.app_context():
        calendar = app.extensions["diplocal"].live.current().calendar.copy()
    summit = calendar.summits["kr-us-2025-08-washington"]
    calendar.summits[summit.summit_id] = dataclasses.replace(summit, title="FORGED TITLE")
    head = store.head()
    assert head is not None
    snapshot = take(calendar, head.hash, load_key(key_file), code_version())
    return dataclasses.replace(snapshot, **changes) if changes else snapshot


def test_a_worker_started_from_a_snapshot_serves_the_same_bytes(
    demo_store: EventStore, key_file: Path
) -> None:
    """The first worker takes a snapshot; the next one starts from it; a third folds it all."""
    first = _app(demo_store, key_file, every=5)
    _answers(first)
    assert _latest(demo_store).position == 15  # every 5 positions, taken while catching up
    from_snapshot = _answers(_app(demo_store, key_file, every=5))
    replayed = _answers(_app(demo_store, key_file, every=0))
    assert from_snapshot == replayed
    assert b"Washington" in from_snapshot[0]


def test_a_valid_snapshot_is_what_a_starting_worker_uses(
    demo_store: EventStore, key_file: Path
) -> None:
    """The control for the tests below: a snapshot signed with the key is taken as it is."""
    snapshots_of(demo_store).save(_forged(demo_store, key_file))
    assert b"FORGED TITLE" in _answers(_app(demo_store, key_file, every=5))[0]


@pytest.mark.parametrize(
    "change",
    [
        "body",  # edited in the database: the MAC fails
        "code_version",  # written by another version of the code
        "head_hash",  # built from another chain than the log's
        "key",  # signed with another key
    ],
)
def test_an_unusable_snapshot_is_dropped_and_never_served(
    demo_store: EventStore, key_file: Path, tmp_path: Path, change: str
) -> None:
    """Each way a snapshot can lie: the worker folds the log instead and drops it."""
    snapshot = _forged(demo_store, key_file)
    key, forged = load_key(key_file), _restored_forgery(snapshot)
    if change == "body":
        text = zlib.decompress(snapshot.body)
        edited = text.replace(b'"title":"', b'"title":"EDITED IN THE DATABASE ', 1)
        assert edited != text
        snapshot = dataclasses.replace(snapshot, body=zlib.compress(edited))
    elif change == "code_version":
        snapshot = take(forged, snapshot.head_hash, key, "written-by-older-code")
    elif change == "head_hash":
        snapshot = take(forged, "f" * 64, key, code_version())
    else:
        snapshot = take(
            forged, snapshot.head_hash, load_key(tmp_path / "other.key"), code_version()
        )
    snapshots_of(demo_store).save(snapshot)
    served = _answers(_app(demo_store, key_file, every=5))
    assert served == _answers(_app(demo_store, key_file, every=0))
    assert not any(b"FORGED" in body or b"EDITED" in body for body in served)
    kept = snapshots_of(demo_store).nearest(1 << 62)
    assert kept is None or kept.mac != snapshot.mac, "the unusable snapshot was kept"


def _restored_forgery(snapshot: Snapshot) -> Any:
    """The forged calendar a snapshot holds (read back without any checks)."""
    from calendar_core.snapshot import _calendar, _lines

    return _calendar(_lines(snapshot.body))


def test_an_as_of_view_folds_from_the_nearest_snapshot(
    demo_store: EventStore, key_file: Path
) -> None:
    """A view between snapshots gives what folding from position 1 gives."""
    writer = _app(demo_store, key_file, every=5)
    writer.test_client().get("/api/summits")  # takes snapshots at 5, 10 and 15
    for position in range(0, 17):
        url = f"/api/summits?at_position={position}"
        with_snapshots = _app(demo_store, key_file, every=5).test_client().get(url).data
        without = _app(demo_store, key_file, every=0).test_client().get(url).data
        assert with_snapshots == without, position


def test_the_key_file_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "snapshot.key"
    key = load_key(path)
    assert len(key) == 64 and load_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
