"""`diplocal serve` as real processes: a busy port refused, what it prints, the feed's links."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from web.cli.serve import machine_name

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))


@contextmanager
def server(
    helpers: Any, db: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """`diplocal serve --port PORT ARGS` until the block ends; yields [what it printed]."""
    process = subprocess.Popen(
        [DIPLOCAL, "serve", "--port", str(port), "--workers", "1", *args],
        env={**helpers.server_env(str(db)), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    printed: list[str] = []
    try:
        helpers.wait_until_healthy(f"http://127.0.0.1:{port}", process)
        yield printed
    finally:
        printed.append(helpers.stop(process))


def second(helpers: Any, db: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    """Another `diplocal serve` on the same port, run to its end."""
    return subprocess.run(
        [DIPLOCAL, "serve", "--port", str(port), *args],
        env=helpers.server_env(str(db)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def get(url: str) -> tuple[bytes, Message]:
    """A GET's body and headers (names case-insensitive)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


@pytest.mark.parametrize(
    ("first_server", "second_args"),
    [
        ("granian", []),
        ("granian", ["--server", "gunicorn"]),
        ("gunicorn", []),
        ("granian", ["--host", "0.0.0.0"]),
    ],
    ids=["granian-twice", "then-gunicorn", "gunicorn-then-granian", "then-wildcard"],
)
def test_a_second_server_on_a_busy_port_is_refused_and_the_first_keeps_serving(
    first_server: str, second_args: list[str], tmp_path: Path, helpers: Any
) -> None:
    port = helpers.free_port()
    first_db, second_db = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    with server(helpers, first_db, port, "--demo", "--server", first_server):
        _, headers = get(f"http://127.0.0.1:{port}/healthz")
        worker = headers["X-Diplocal-Worker"]
        refused = second(helpers, second_db, port, *second_args)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"port {port} is already in use" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not second_db.exists(), "refused before opening (or creating) its store"
        for _ in range(8):  # every request still reaches the first server's one worker
            body, headers = get(f"http://127.0.0.1:{port}/api/summits")
            assert headers["X-Diplocal-Worker"] == worker
            assert b'"summits"' in body


def test_a_port_freed_by_a_stopped_server_can_be_served_again(tmp_path: Path, helpers: Any) -> None:
    port = helpers.free_port()
    db = tmp_path / "log.sqlite3"
    with server(helpers, db, port):
        get(f"http://127.0.0.1:{port}/calendar.ics")  # leaves connections to close
    with server(helpers, db, port):  # TIME_WAIT connections do not count as a server
        body, _ = get(f"http://127.0.0.1:{port}/healthz")
        assert b'"ok"' in body


def test_serve_prints_the_store_and_the_url_to_open(tmp_path: Path, helpers: Any) -> None:
    port = helpers.free_port()
    db = tmp_path / "shown.sqlite3"
    with server(helpers, db, port, "--demo") as printed:
        pass
    output = printed[0]
    assert re.search(rf"^Store: +{re.escape(str(db))} \(SQLite\), \d+ events$", output, re.M)
    assert f"Open:      http://127.0.0.1:{port}/" in output
    assert f"Feed:      http://127.0.0.1:{port}/calendar.ics" in output


def test_serve_masks_a_postgresql_password(pg_url: str, helpers: Any, tmp_path: Path) -> None:
    with_password = pg_url.replace("://diplocal@", "://diplocal:not-shown-pw@")
    port = helpers.free_port()
    with server(helpers, tmp_path / "unused", port, env={"DIPLOCAL_DB": with_password}) as out:
        pass
    assert "Store:     postgresql://diplocal:***@" in out[0]
    assert "not-shown-pw" not in out[0]


def test_a_wildcard_host_keeps_loopback_addresses_out_of_the_feed(
    tmp_path: Path, helpers: Any
) -> None:
    """Served on 0.0.0.0 without DIPLOCAL_BASE_URL, the feed's links use the host each
    subscriber reached: a machine on the network never sees 127.0.0.1 or 0.0.0.0."""
    port = helpers.free_port()
    name = machine_name() or "calendar.lan"
    with server(helpers, tmp_path / "log.sqlite3", port, "--demo", "--host", "0.0.0.0") as out:
        remote = urllib.request.Request(
            f"http://127.0.0.1:{port}/calendar.ics", headers={"Host": f"{name}:{port}"}
        )
        with urllib.request.urlopen(remote, timeout=10) as response:
            feed = response.read()
        local, _ = get(f"http://127.0.0.1:{port}/calendar.ics")
    links = set(re.findall(rb"^URL:(http://[^/]+)/summits/", feed, re.M))
    assert links == {f"http://{name}:{port}".encode()}
    assert b"127.0.0.1" not in feed and b"0.0.0.0" not in feed
    local_links = set(re.findall(rb"^URL:(http://[^/]+)/summits/", local, re.M))
    assert local_links == {f"http://127.0.0.1:{port}".encode()}, "and this machine its own"
    if machine_name() is not None:
        assert f"from other machines: http://{name}:{port}/" in out[0]
    assert f"Open:      http://127.0.0.1:{port}/" in out[0]
    assert "DIPLOCAL_BASE_URL" in out[0], "says how to set the public address"


def test_diplocal_base_url_names_the_feeds_links(tmp_path: Path, helpers: Any) -> None:
    port = helpers.free_port()
    public = "https://calendar.example.org"
    env = {"DIPLOCAL_BASE_URL": public + "/"}
    with server(
        helpers, tmp_path / "log.sqlite3", port, "--demo", "--host", "0.0.0.0", env=env
    ) as out:
        feed, _ = get(f"http://127.0.0.1:{port}/calendar.ics")
        page, _ = get(f"http://127.0.0.1:{port}/")
    assert set(re.findall(rb"^URL:(https?://[^/]+)/summits/", feed, re.M)) == {public.encode()}
    assert b"webcal://calendar.example.org/calendar.ics" in page
    assert f"Feed:      {public}/calendar.ics" in out[0]


def _make_plan(target: str, venv: Path) -> str:
    """What `make -n <target>` would run with this virtual environment."""
    command = ["make", "-n", "-C", str(ROOT), target, f"VENV={venv}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_make_serve_installs_the_runtime_only(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    plan = _make_plan("serve", venv)
    installs = [x for x in plan.splitlines() if "pip install" in x and "--upgrade pip" not in x]
    assert len(installs) == 1 and installs[0].endswith("pip install --quiet -e ."), plan
    assert f"touch {venv}/.installed-runtime" in plan
    tests = _make_plan("test", venv)
    assert '-e ".[dev,postgres]"' in tests, "the test extras stay with make test"
