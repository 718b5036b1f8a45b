"""The whole feed's listing kept beside the log (issue 10): a restarted worker serves that feed
before its calendar is restored, caught up with the few records written since, the same bytes
and ETag as a worker that renders it all; never when it was altered in the database, nor
when the log moved on too far."""

from __future__ import annotations

import logging
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from factories import announce, announced_log, confirm
from flask import Flask

import web
from calendar_core import ical
from calendar_core.summit import Summit
from events import EventStore, open_store
from events.renderings import KeptFeed, SQLRenderingStore, renderings_of
from web import create_app, feeds
from web import renderings as web_renderings
from web.live import LiveCalendar

SUMMITS = 5
TITLE = b"Korea-Japan summit in Tokyo"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "kept.sqlite3"


@pytest.fixture
def log(path: Path) -> Iterator[EventStore]:
    with announced_log(path, SUMMITS) as store:
        yield store


def _app(store: EventStore, tmp_path: Path) -> Flask:
    config = {
        "BASE_URL": "https://cal.example.org",
        "UID_DOMAIN": "cal.example.org",
        "SNAPSHOT_KEY_FILE": str(tmp_path / "snapshot.key"),
    }
    return create_app(config, store=store)


def _served_and_kept(app: Flask) -> tuple[bytes, str]:
    """The app's whole feed and its ETag, once the feed is kept beside the log."""
    answer = app.test_client().get("/calendar.ics")
    assert answer.status_code == 200
    app.extensions["diplocal"].renderings.wait_for_feeds()
    return answer.data, answer.headers["ETag"]


def _hold(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """From now on, workers restore their calendar only once the first event is set; the
    second is set once one has."""
    gate, restored = threading.Event(), threading.Event()
    real = LiveCalendar._from_snapshot

    def waits(live: LiveCalendar, position: int) -> object:
        assert gate.wait(timeout=60)
        restored.set()
        return real(live, position)

    monkeypatch.setattr(LiveCalendar, "_from_snapshot", waits)
    return gate, restored


def test_a_restarted_worker_serves_the_kept_feed_before_its_calendar_is_restored(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, etag = _served_and_kept(_app(log, tmp_path))
    gate, restored = _hold(monkeypatch)
    client = _app(log, tmp_path).test_client()  # its calendar waits at the gate
    answer = client.get("/calendar.ics")
    assert not restored.is_set()
    assert (answer.status_code, answer.data, answer.headers["ETag"]) == (200, feed, etag)
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
    gate.set()
    summits = client.get("/api/summits").get_json()["summits"]  # waits for the calendar
    assert restored.is_set() and len(summits) == SUMMITS


def _cold_feed(log: EventStore, tmp_path: Path) -> bytes:
    """The whole feed as a worker keeping nothing renders it."""
    cold = _app(log, tmp_path)
    cold.extensions["diplocal"].renderings = None
    return cold.test_client().get("/calendar.ics").data


def test_a_restarted_worker_catches_the_kept_feed_up_with_what_was_written_since(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, _ = _served_and_kept(_app(log, tmp_path))
    log.append([confirm("summit-3").draft], expected_version=1)
    log.append([announce("summit-new", title="A summit announced since").draft], expected_version=0)
    gate, restored = _hold(monkeypatch)
    client = _app(log, tmp_path).test_client()  # its calendar waits at the gate
    after = client.get("/calendar.ics").data
    assert not restored.is_set()
    assert after != before and after.count(b"STATUS:CONFIRMED") == 1
    assert b"A summit announced since" in after
    gate.set()
    assert client.get("/api/summits").status_code == 200  # once the calendar is restored
    assert after == _cold_feed(log, tmp_path)


def test_a_kept_feed_too_far_behind_the_log_is_not_caught_up(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _served_and_kept(_app(log, tmp_path))
    log.append([confirm("summit-3").draft], expected_version=1)
    monkeypatch.setattr(feeds, "CATCH_UP_RECORDS", 0)
    assert not feeds.serve_kept_feed(_app(log, tmp_path).extensions["diplocal"])
    restarted = _app(log, tmp_path).test_client().get("/calendar.ics").data
    assert restarted == _cold_feed(log, tmp_path)


def test_an_altered_kept_feed_is_never_served(
    log: EventStore, path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feed, _ = _served_and_kept(_app(log, tmp_path))
    conn = sqlite3.connect(path)
    (packed,) = conn.execute("SELECT body FROM feeds").fetchone()
    listing = zlib.decompress(packed)
    assert TITLE in listing
    forged = zlib.compress(listing.replace(b"Korea-Japan", b"FORGED-FAKE"), 1)  # same length
    conn.execute("UPDATE feeds SET body = ?", (forged,))
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, logger="diplocal"):
        restarted = _app(log, tmp_path)
    answer = restarted.test_client().get("/calendar.ics").data
    assert b"FORGED" not in answer and answer == feed
    assert "the kept feed fails its MAC" in caplog.text


def _feed(position: int, body: bytes) -> KeptFeed:
    return KeptFeed("", position, f"hash-{position}", body, b"mac")


def test_the_store_keeps_each_feeds_latest(db: str) -> None:
    store = open_store(db)
    try:
        kept = renderings_of(store)
        assert kept.load_feed("a", "") is None
        kept.save_feed("a", _feed(7, b"seven"))
        kept.save_feed("a", _feed(5, b"older"))  # an older position replaces nothing
        kept.save_feed("a", KeptFeed("country=KR", 6, "hash-6", b"kr", b"mac"))
        assert kept.load_feed("a", "") == _feed(7, b"seven")
        assert kept.load_feed("a", "country=KR") == KeptFeed(
            "country=KR", 6, "hash-6", b"kr", b"mac"
        )
        kept.save_feed("a", _feed(7, b"again"))  # the same position: the newer bytes
        assert kept.load_feed("a", "") == _feed(7, b"again")
        kept.save_feed("b", _feed(8, b"eight"))  # other settings: the old ones go
        assert kept.load_feed("a", "") is None and kept.load_feed("b", "") == _feed(8, b"eight")
    finally:
        store.close()


def test_the_whole_feed_is_kept_again_only_once_the_log_has_moved_on(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_renderings, "KEEP_FEED_EVERY", 2)
    app = _app(log, tmp_path)
    kept = renderings_of(log)
    name = app.extensions["diplocal"].renderings.name
    for n, expected in ((0, SUMMITS), (1, SUMMITS), (2, SUMMITS + 2)):
        if n:
            log.append([confirm(f"summit-{n}").draft], expected_version=1)
        _served_and_kept(app)
        feed = kept.load_feed(name, "")
        assert feed is not None and feed.position == expected


def test_a_worker_started_from_the_kept_feed_takes_its_vevents_from_it(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its summits' VEVENTs come with the kept listing: the per-summit table is not read, and
    only what changes afterwards is rendered."""
    _served_and_kept(_app(log, tmp_path))
    rendered: list[str] = []
    real = ical.render_vevent

    def spy(summit: Summit, options: ical.FeedOptions) -> ical.Chunk | None:
        rendered.append(summit.summit_id)
        return real(summit, options)

    def unread(*_: object) -> None:
        raise AssertionError("the kept VEVENTs' table was read")

    monkeypatch.setattr(ical, "render_vevent", spy)
    monkeypatch.setattr(SQLRenderingStore, "load", unread)
    client = _app(log, tmp_path).test_client()
    assert client.get("/api/summits").status_code == 200  # once the calendar is restored
    assert rendered == []
    log.append([confirm("summit-2").draft], expected_version=1)
    assert client.get("/calendar.ics").data.count(b"STATUS:CONFIRMED") == 1
    assert rendered == ["summit-2"]


def test_a_gevent_worker_restores_its_calendar_on_the_first_request_that_needs_it(
    log: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Greenlets are not preempted: a restore started with the worker would hold up its loop,
    so a gevent worker serves the kept feed and restores when a request needs the calendar."""
    feed, _ = _served_and_kept(_app(log, tmp_path))
    gate, restored = _hold(monkeypatch)
    gate.set()
    monkeypatch.setattr(web, "_cooperative", lambda: True)
    client = _app(log, tmp_path).test_client()
    assert client.get("/calendar.ics").data == feed
    assert not restored.is_set()  # nothing restored it in the background
    assert len(client.get("/api/summits").get_json()["summits"]) == SUMMITS
    assert restored.is_set()


def test_a_database_from_before_the_kept_feed_gains_its_table(db: str) -> None:
    """A log laid out by an older version (no `feeds` table) gets one when opened by its
    owner (`diplocal init`, or any command, on SQLite)."""
    open_store(db).close()
    if db.startswith("postgresql"):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("DROP TABLE feeds")
    else:
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("DROP TABLE feeds")
    store = open_store(db)
    try:
        renderings_of(store).save_feed("a", _feed(3, b"three"))
        assert renderings_of(store).load_feed("a", "") == _feed(3, b"three")
    finally:
        store.close()
