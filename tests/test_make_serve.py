"""`make serve` as a new user runs it: a fresh clone, one command, the demo feed read by ical.js."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "tests" / "interop"

pytestmark = pytest.mark.slow


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_make_serve_on_a_fresh_clone_serves_the_demo_feed(tmp_path: Path) -> None:
    """Clone, `make serve`, wait for the page; the feed holds the demo and ical.js agrees on it."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("DIPLOCAL_DB", None)
    server = subprocess.Popen(
        ["make", "serve", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # the first run creates .venv and installs everything
        while _get(url + "/healthz") is None:
            assert server.poll() is None, "make serve exited before serving"
            assert time.monotonic() < deadline, "make serve did not start in time"
            time.sleep(0.2)  # polling a bounded readiness loop, not a timing assertion
        feed = _get(url + "/calendar.ics")
        listing = _get(url + "/api/summits")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        printed, _ = server.communicate(timeout=60)
    assert feed is not None and listing is not None
    assert f"{url}/calendar.ics".encode() in printed, "make serve prints the feed URL"
    assert (tmp_path / "data" / "diplocal" / "diplocal.sqlite3").exists()

    summits = json.loads(listing)["summits"]
    assert summits, "the demo calendar is not empty"
    path = tmp_path / "demo.ics"
    path.write_bytes(feed)
    node = shutil.which("node")
    assert node is not None, "node is not installed (make test installs it)"
    read = subprocess.run(
        [node, str(INTEROP / "icaljs_dump.mjs"), str(path)],
        capture_output=True,
        check=True,
        cwd=INTEROP,
        timeout=60,
    )
    events = json.loads(read.stdout)["events"]
    for summit in summits:
        uid = next(u for u in events if u.startswith(summit["summit_id"] + "@"))
        if summit["start_utc"] is not None:
            assert events[uid]["start"] == summit["start_utc"], summit["summit_id"]
        else:
            assert events[uid]["start"] == summit["schedule"]["start"], summit["summit_id"]
