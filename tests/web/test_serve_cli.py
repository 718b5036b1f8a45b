"""`diplocal serve --demo` as a subprocess (granian or gunicorn): demo loaded, feed served."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from calendar_core.demo import demo_lines

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("server", [None, "gunicorn"])
def test_serve_demo_serves_the_demo_summits(
    server: str | None, tmp_path: Path, helpers: Any
) -> None:
    db = str(tmp_path / "demo.sqlite3")
    diplocal = str(Path(sys.executable).parent / "diplocal")
    chosen = [] if server is None else ["--server", server]
    with helpers.running(
        lambda port: [diplocal, "serve", "--demo", "--port", str(port), *chosen], db
    ) as running:
        url = running.url
        with urllib.request.urlopen(url + "/calendar.ics", timeout=10) as response:
            feed = response.read()
            engine = response.headers["Server"]
        with urllib.request.urlopen(url + "/api/summits", timeout=10) as response:
            listed = json.load(response)
    printed = running.printed
    assert f"{url}/calendar.ics" in printed
    assert engine.startswith(server or "granian"), "the default server is granian"
    demo_ids = {json.loads(line)["summit_id"] for line in demo_lines()}
    assert {s["summit_id"] for s in listed["summits"]} <= demo_ids
    dated = [s for s in listed["summits"] if s["schedule"]["start"].count("-") >= 2]
    assert dated, "the demo has summits with a day"
    for summit in dated:
        assert f"UID:{summit['summit_id']}@".encode() in feed
    assert listed["position"] == len(list(demo_lines()))
