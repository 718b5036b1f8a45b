"""Real servers (gunicorn, `diplocal serve` on granian), two workers: conditional GET, agreement.

Each runs over a SQLite file and over a PostgreSQL database (one connection per worker)."""

from __future__ import annotations

import email
import json
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from events import Token, open_store, tokens_of
from web.auth import token_hash

pytestmark = pytest.mark.slow


def fetch(
    url: str, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def command(server: str, port: int) -> list[str]:
    if server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                "web:create_app()"]  # fmt: skip
    diplocal = str(Path(sys.executable).parent / "diplocal")
    return [diplocal, "serve", "--server", server, "--workers", "2", "--port", str(port)]


@pytest.fixture(params=["sqlite", "postgres"])
def served_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store the server uses: a SQLite file, or a new PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return str(tmp_path / "served.sqlite3")


@pytest.fixture(params=["gunicorn", "granian"])
def server(request: pytest.FixtureRequest, served_db: str, helpers: Any) -> Iterator[str]:
    db = served_db
    store = open_store(db)
    tokens_of(store).add(
        Token("desk", token_hash(helpers.WRITE_TOKEN), True, "2025-08-01T09:00:00Z")
    )
    store.close()
    with helpers.running(lambda port: command(request.param, port), db) as running:
        yield running.url


def head(url: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def post(url: str, summit_id: str, event_type: str, data: dict[str, Any], token: str) -> int:
    body = json.dumps({"type": event_type, "data": data}).encode()
    status, _, _ = fetch(
        f"{url}/api/summits/{summit_id}/events",
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        body,
    )
    return status


def test_conditional_get_and_two_workers_agree_after_a_write(server: str, helpers: Any) -> None:
    assert (
        post(
            server,
            "kr-jp-2025-tokyo",
            "SummitAnnounced",
            helpers.announce_data(),
            helpers.WRITE_TOKEN,
        )
        == 201
    )
    status, headers, body = fetch(server + "/calendar.ics")
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"kr-jp-2025-tokyo@" in body
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert fetch(server + "/calendar.ics", {"If-None-Match": etag})[0] == 304
    assert fetch(server + "/calendar.ics", {"If-Modified-Since": modified})[0] == 304
    stale = format_datetime(parsedate_to_datetime(modified) - timedelta(hours=1), usegmt=True)
    assert fetch(server + "/calendar.ics", {"If-Modified-Since": stale})[0] == 200
    for _ in range(4):  # HEAD, whichever worker answers and whether or not it has the feed cached
        status, head_headers, head_body = head(server + "/calendar.ics")
        assert (status, head_body) == (200, b"")
        assert head_headers["Content-Length"] == str(len(body))
        assert head_headers["ETag"] == etag

    # warm both workers' caches on the old state, then write through whichever answers
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: fetch(server + "/calendar.ics"), range(16)))
    assert post(server, "kr-jp-2025-tokyo", "SummitConfirmed", {}, helpers.WRITE_TOKEN) == 201

    # A sync worker that has accepted a half-sent request is busy until it is complete, so the
    # other worker must answer meanwhile: both workers are heard from, whatever the scheduling.
    where = urllib.parse.urlsplit(server)
    held = socket.create_connection((str(where.hostname), int(where.port or 80)), timeout=10)
    # the Host urllib sends: feed links (and so the bytes) follow the host asked for
    held.sendall(f"GET /calendar.ics HTTP/1.1\r\nHost: {where.netloc}\r\n".encode())
    seen: dict[str, set[str]] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(25):  # bounded: stop as soon as two workers have answered
            for status, headers, body in pool.map(
                lambda _: fetch(server + "/calendar.ics"), range(8)
            ):
                assert status == 200
                assert b"STATUS:CONFIRMED" in body
                seen.setdefault(headers["X-Diplocal-Worker"], set()).add(headers["ETag"])
            if len(seen) >= 2:
                break
    with held:
        held.sendall(b"Connection: close\r\n\r\n")
        reply = b"".join(iter(lambda: held.recv(65536), b""))
    response = email.message_from_bytes(reply.split(b"\r\n", 1)[1].split(b"\r\n\r\n", 1)[0])
    assert b"STATUS:CONFIRMED" in reply
    seen.setdefault(response["X-Diplocal-Worker"], set()).add(response["ETag"])
    assert len(seen) >= 2, "only one worker answered"
    etags = set().union(*seen.values())
    assert len(etags) == 1 and etag not in etags
    assert datetime.now(UTC) > parsedate_to_datetime(modified)
