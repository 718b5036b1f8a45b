"""A starting server verifies the whole chain in the background and serves meanwhile."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import announce

from events import FixedClock, Recorded
from events.sqlite import SQLiteEventStore
from web import audit, create_app

SETTINGS = {"BASE_URL": "https://cal.example.org", "UID_DOMAIN": "cal.example.org"}


class GatedLog(SQLiteEventStore):
    """A real SQLite log whose reads from the start-up check wait until the gate opens."""

    gate = threading.Event()

    def read(self, **kwargs: Any) -> Iterator[Recorded]:
        if threading.current_thread().name == "diplocal-verify":
            assert self.gate.wait(timeout=60)
        return super().read(**kwargs)


def _log(path: Path, clock: FixedClock) -> GatedLog:
    log = GatedLog(path, clock)
    for summit_id in ("lee-ishiba-tokyo", "lee-trump-washington"):
        log.append([announce(summit_id).draft])
    return log


def test_the_server_answers_while_it_verifies(tmp_path: Path, clock: FixedClock) -> None:
    log = _log(tmp_path / "gated.sqlite3", clock)
    GatedLog.gate.clear()
    app = create_app(SETTINGS, store=log, clock=clock)
    client = app.test_client()
    try:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["status"] == "verifying"
        assert health.get_json()["chain"] == {"verifying": True, "checked": 0}
        feed = client.get("/calendar.ics")
        assert feed.status_code == 200 and feed.data.count(b"BEGIN:VEVENT") == 2
        assert "hash chain is broken" not in client.get("/").get_data(as_text=True)
    finally:
        GatedLog.gate.set()
    assert app.extensions["diplocal"].chain.wait(timeout=60)
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["chain"]["checked"] == 2
    log.close()


def test_a_break_found_after_start_is_reported(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "gated.sqlite3"
    log = _log(path, clock)
    GatedLog.gate.clear()
    app = create_app(SETTINGS, store=log, clock=clock)
    client = app.test_client()
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET recorded_by = 'mallory' WHERE position = 2")
    conn.commit()
    conn.close()
    assert client.get("/healthz").get_json()["status"] == "verifying"
    GatedLog.gate.set()
    audit = client.get("/api/audit/verify")  # waits for the first pass
    assert audit.get_json()["ok"] is False and audit.get_json()["first_bad_position"] == 2
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "chain broken"
    log.close()


def test_the_start_up_check_pauses_between_pages_of_records(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under gevent's workers nothing preempts the check: it pauses (a switch to the worker's
    other greenlets) every PAUSE_EVERY records, so the worker keeps answering."""
    log = SQLiteEventStore(tmp_path / "paced.sqlite3", clock)
    drafts = [announce(f"summit-{n}").draft for n in range(25)]
    log.import_events(drafts, expected_head=0)
    pauses: list[int] = []
    monkeypatch.setattr(audit, "PAUSE_EVERY", 10)
    monkeypatch.setattr(audit, "_pause", lambda: pauses.append(len(pauses)))
    watch = audit.ChainWatch()
    watch.start(log).join()
    assert watch.report(log) is not None and watch.report(log).ok  # type: ignore[union-attr]
    assert len(pauses) == 2  # after records 10 and 20
    log.close()
