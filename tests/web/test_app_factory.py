"""create_app: settings from defaults, environment, config; the projection follows the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calendar_core.demo import demo_lines
from events import Token, open_store
from web import create_app
from web.auth import token_hash
from web.config import DEFAULTS, load


def desk(write_token: str) -> Token:
    """The write token the tests send, as the token store keeps it."""
    return Token("desk", token_hash(write_token), True, "2025-08-01T09:00:00Z")


def test_settings_layer_defaults_then_environment_then_config() -> None:
    env = {"DIPLOCAL_DB": "/tmp/env.sqlite3", "DIPLOCAL_DEMO": "yes", "DIPLOCAL_UID_DOMAIN": "a.b"}
    merged = load({"UID_DOMAIN": "c.d"}, env)
    assert merged["DB"] == "/tmp/env.sqlite3"
    assert merged["DEMO"] is True
    assert merged["UID_DOMAIN"] == "c.d"
    assert merged["FEED_NAME"] == DEFAULTS["FEED_NAME"]
    assert load(None, {"DIPLOCAL_DEMO": "0"})["DEMO"] is False


def test_the_app_opens_the_store_named_by_diplocal_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: Any
) -> None:
    db = str(tmp_path / "env.sqlite3")
    monkeypatch.setenv("DIPLOCAL_DB", db)
    monkeypatch.delenv("DIPLOCAL_DEMO", raising=False)
    app = create_app()
    app.extensions["diplocal"].tokens.add(desk(helpers.WRITE_TOKEN))
    response = app.test_client().post(
        "/api/summits/kr-jp-2025-tokyo/events",
        json={"type": "SummitAnnounced", "data": helpers.announce_data()},
        headers={"Authorization": f"Bearer {helpers.WRITE_TOKEN}"},
    )
    assert response.status_code == 201
    other = open_store(db)
    try:
        assert [r.summit_id for r in other.read(limit=10)] == ["kr-jp-2025-tokyo"]
    finally:
        other.close()


def test_demo_setting_loads_the_demo_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIPLOCAL_DB", raising=False)
    db = str(tmp_path / "demo.sqlite3")
    first = create_app({"DB": db, "DEMO": True})
    second = create_app({"DB": db, "DEMO": True})
    count = len(list(demo_lines()))
    for app in (first, second):
        assert app.test_client().get("/api/summits").get_json()["position"] == count


def test_each_process_sees_writes_made_through_another(tmp_path: Path, helpers: Any) -> None:
    db = str(tmp_path / "shared.sqlite3")
    reader, writer = create_app({"DB": db}), create_app({"DB": db})
    writer.extensions["diplocal"].tokens.add(desk(helpers.WRITE_TOKEN))
    before = reader.test_client().get("/calendar.ics")
    assert b"BEGIN:VEVENT" not in before.data
    writer.test_client().post(
        "/api/summits/kr-jp-2025-tokyo/events",
        json={"type": "SummitAnnounced", "data": helpers.announce_data()},
        headers={"Authorization": f"Bearer {helpers.WRITE_TOKEN}"},
    )
    after = reader.test_client().get("/calendar.ics")
    assert b"UID:kr-jp-2025-tokyo@" in after.data
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.data == writer.test_client().get("/calendar.ics").data
