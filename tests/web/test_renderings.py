"""Rendered VEVENTs kept beside the log (issue 10): a restarted server takes them back instead of
rendering every summit again, serves the same bytes, and never serves one that was altered in
the database, that belongs to an older version of its summit, or to other feed settings."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import announced_log, confirm
from flask import Flask

from calendar_core import ical
from calendar_core.summit import Summit
from events import EventStore, open_store
from events import renderings as renderings_module
from events.renderings import Rendering, renderings_of
from web import create_app
from web import renderings as web_renderings
from web.renderings import SAVE_AFTER

SUMMITS = SAVE_AFTER + 20  # enough new VEVENTs in one feed to be kept
TITLE = "Korea-Japan summit in Tokyo"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "many.sqlite3"


@pytest.fixture
def log(path: Path) -> Iterator[EventStore]:
    with announced_log(path, SUMMITS, "summit-{:04d}") as store:
        yield store


def _app(store: EventStore, tmp_path: Path, base: str = "https://cal.example.org") -> Flask:
    config = {
        "BASE_URL": base,
        "UID_DOMAIN": "cal.example.org",
        "SNAPSHOT_KEY_FILE": str(tmp_path / "snapshot.key"),
    }
    return create_app(config, store=store)


@pytest.fixture(autouse=True)
def no_kept_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests restart workers from kept VEVENTs: no whole feed is kept to serve first
    (tests/web/test_kept_feed.py has those)."""
    monkeypatch.setattr(web_renderings.RenderingKeeper, "offer_feed", lambda *_: None)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The summit ids of every VEVENT rendered from here on (a spy on the real renderer)."""
    seen: list[str] = []
    real = ical.render_vevent

    def spy(summit: Summit, options: ical.FeedOptions) -> ical.Chunk | None:
        seen.append(summit.summit_id)
        return real(summit, options)

    monkeypatch.setattr(ical, "render_vevent", spy)
    return seen


def test_a_restarted_server_renders_nothing_again(
    log: EventStore, tmp_path: Path, renders: list[str]
) -> None:
    first = _app(log, tmp_path)
    feed = first.test_client().get("/calendar.ics").data
    assert feed.count(b"BEGIN:VEVENT") == SUMMITS and len(renders) == SUMMITS
    assert len(list(renderings_of(log).load(first.extensions["diplocal"].renderings.name))) == (
        SUMMITS
    )
    renders.clear()
    second = _app(log, tmp_path)
    assert len(second.extensions["diplocal"].listings) == 1  # the whole feed, listed at start
    assert second.test_client().get("/calendar.ics").data == feed
    assert renders == []


def test_only_what_changed_is_rendered_again(
    log: EventStore, tmp_path: Path, renders: list[str]
) -> None:
    _app(log, tmp_path).test_client().get("/calendar.ics")
    log.append([confirm("summit-0007").draft], expected_version=1)
    renders.clear()
    restarted = _app(log, tmp_path)
    feed = restarted.test_client().get("/calendar.ics").data
    assert renders == ["summit-0007"]
    assert feed.count(b"STATUS:CONFIRMED") == 1
    cold = _app(log, tmp_path, base="https://cal.example.org")
    cold.extensions["diplocal"].renderings = None
    assert cold.test_client().get("/calendar.ics").data == feed


def test_an_altered_rendering_is_never_served(
    log: EventStore,
    path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    renders: list[str],
) -> None:
    feed = _app(log, tmp_path).test_client().get("/calendar.ics").data
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE renderings SET body = CAST(replace(body, ?, ?) AS BLOB)",
        (TITLE.encode(), b"FORGED TITLE"),
    )
    conn.commit()
    conn.close()
    renders.clear()
    with caplog.at_level(logging.WARNING, logger="diplocal"):
        restarted = _app(log, tmp_path)
    answer = restarted.test_client().get("/calendar.ics").data
    assert b"FORGED" not in answer and answer == feed
    assert len(renders) == SUMMITS
    assert f"{SUMMITS} kept VEVENTs fail their MAC" in caplog.text
    renders.clear()  # the restarted server kept good ones again
    assert _app(log, tmp_path).test_client().get("/calendar.ics").data == feed
    assert renders == []


def test_other_settings_neither_use_nor_keep_the_old_renderings(
    log: EventStore, tmp_path: Path
) -> None:
    first = _app(log, tmp_path)
    first.test_client().get("/calendar.ics")
    moved = _app(log, tmp_path, base="https://calendar.example.net")
    feed = moved.test_client().get("/calendar.ics").data
    assert b"https://calendar.example.net/summits/summit-0000" in feed
    assert b"cal.example.org/summits" not in feed
    old = first.extensions["diplocal"].renderings.name
    assert list(renderings_of(log).load(old)) == []  # the moved server's save dropped them


def test_without_snapshots_nothing_is_kept(log: EventStore, tmp_path: Path) -> None:
    config = {"BASE_URL": "https://cal.example.org", "UID_DOMAIN": "cal.example.org"}
    app = create_app({**config, "SNAPSHOT_EVERY": 0}, store=log)
    app.test_client().get("/calendar.ics")
    assert app.extensions["diplocal"].renderings is None


def _rendering(summit_id: str, version: int, body: bytes) -> Rendering:
    return Rendering(
        summit_id, version, f"2025-0{version}-01T00:00:00Z", body, None, 2025, 2025, b"m"
    )


def test_the_store_keeps_each_summits_latest(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(renderings_module, "BATCH", 2)  # loads cross page boundaries
    store = open_store(db)
    try:
        kept = renderings_of(store)
        kept.save("a", [_rendering("x", 2, b"two"), _rendering("y", 1, b"one")])
        kept.save("a", [_rendering("x", 1, b"older"), _rendering("y", 3, b"three")])
        kept.save("a", [_rendering("x", 2, b"again")])  # the same version: the newer bytes
        assert sorted((r.summit_id, r.version, r.body) for r in kept.load("a")) == [
            ("x", 2, b"again"),
            ("y", 3, b"three"),
        ]
        kept.save("b", [_rendering("z", 1, b"z")])
        assert list(kept.load("a")) == [] and [r.body for r in kept.load("b")] == [b"z"]
        many = [_rendering(f"s{n}", 1, b"%d" % n) for n in range(7)]
        kept.save("b", many)
        assert sorted(r.summit_id for r in kept.load("b")) == sorted(
            ["z", *(r.summit_id for r in many)]
        )
    finally:
        store.close()


def test_a_worker_stopped_mid_render_leaves_its_batches_to_the_next(
    log: EventStore, tmp_path: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first feed renders and keeps a batch at a time: when the worker dies mid-way (here,
    its renderer fails after two batches), the next worker renders only the rest."""
    monkeypatch.setattr(web_renderings, "WARM_BATCH", 100)
    monkeypatch.setattr(web_renderings, "SAVE_AFTER", 100)
    real = ical.render_vevent

    def dies_at_250(summit: Summit, options: ical.FeedOptions) -> ical.Chunk | None:
        if len(renders) == 250:
            raise SystemExit("the worker was stopped")
        return real(summit, options)

    stopped = _app(log, tmp_path)
    monkeypatch.setattr(ical, "render_vevent", dies_at_250)
    with pytest.raises(SystemExit):
        stopped.test_client().get("/calendar.ics")
    monkeypatch.setattr(ical, "render_vevent", real)
    renders.clear()
    feed = _app(log, tmp_path).test_client().get("/calendar.ics").data
    assert feed.count(b"BEGIN:VEVENT") == SUMMITS and len(renders) == SUMMITS - 200
