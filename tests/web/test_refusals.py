"""Hostile input is refused at the door (issue 9): through the HTTP API and `diplocal import`,
each refusal a clear problem or message, and nothing appended."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from events import EventStore

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))
SID = "kr-jp-2025-tokyo"


def _head(store: EventStore) -> int:
    head = store.head()
    return 0 if head is None else head.position


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


@pytest.mark.parametrize("start", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31", "2201"])
def test_a_schedule_outside_the_supported_years_is_a_422(
    post: Any, store: EventStore, helpers: Any, start: str, client: FlaskClient
) -> None:
    """Years beyond 1900-2200 never reach the log, so no feed or replay can break on them."""
    data = helpers.announce_data(schedule={"start": start})
    _problem(post(SID, "SummitAnnounced", data), 422, "data.schedule.start")
    assert _head(store) == 0
    for url in ("/", "/api/summits", "/calendar.ics"):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("summit_id", ["abc-def%0A", "abc-def%0D", "ABC-def", "ab"])
def test_a_summit_id_must_match_completely(
    client: FlaskClient, store: EventStore, helpers: Any, summit_id: str
) -> None:
    """`$` would match before a final newline: ids are matched whole, and nothing is stored."""
    body = {"type": "SummitAnnounced", "data": helpers.announce_data()}
    headers = {"Authorization": f"Bearer {helpers.WRITE_TOKEN}"}
    response = client.post(f"/api/summits/{summit_id}/events", json=body, headers=headers)
    assert response.status_code in (404, 422)
    assert response.mimetype == "application/problem+json"
    assert _head(store) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Summit\x00"),
        ("title", "Summit\nBEGIN:VEVENT"),
        ("title", "Summit\x7f"),
        ("title", "Summit\x85"),
        ("description", "one\rtwo"),
        ("description", "bell\x07"),
        ("participants.0.name", "Lee\x1b[31m"),
        ("location.city", "Tokyo\t"),
        ("source.url", "https://example.org/a\x01b"),
    ],
)
def test_control_characters_in_text_are_a_422(
    post: Any, store: EventStore, helpers: Any, field: str, value: str
) -> None:
    """NUL, C0 (but tab and line feed in paragraphs), DEL and C1 are refused in every text."""
    data = helpers.announce_data(source={"url": "https://example.org/news"})
    target: Any = data
    *path, last = field.split(".")
    for part in path:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    _problem(post(SID, "SummitAnnounced", data), 422, f"data.{field}")
    assert _head(store) == 0


def test_tabs_and_line_feeds_are_kept_in_paragraphs(post: Any, helpers: Any) -> None:
    """A description may keep its line breaks."""
    data = helpers.announce_data(description="First line\n\tSecond line")
    assert post(SID, "SummitAnnounced", data).status_code == 201


@pytest.mark.parametrize(
    "query",
    [
        "after=%C2%B2",  # superscript two
        "after=%D9%A3",  # Arabic-Indic three
        "limit=%EF%BC%95",  # fullwidth five
        f"after={2**63}",
        "limit=1" + "0" * 30,
        "after=-1",
        "after=+1",
        "after=1%0A",
    ],
)
def test_numbers_in_the_query_are_ascii_digits_within_64_bits(
    client: FlaskClient, query: str
) -> None:
    """Every such number answers 422 naming the parameter, never 500."""
    response = client.get(f"/api/events?{query}")
    _problem(response, 422, query.split("=")[0])


@pytest.mark.parametrize("url", ["/api/summits", "/calendar.ics"])
@pytest.mark.parametrize("value", ["%C2%B2", str(2**63), "9" * 400])
def test_at_position_is_checked_everywhere(client: FlaskClient, url: str, value: str) -> None:
    """The same rule on the feed, the API and the page."""
    assert client.get(f"{url}?at_position={value}").status_code == 422


@pytest.mark.parametrize("if_match", ['"' + "9" * 5000 + '"', '"²"', '"1"x', '"-1"'])
def test_an_if_match_that_cannot_be_a_version_is_a_412(
    seeded: Any, store: EventStore, if_match: str
) -> None:
    """Thousands of digits or non-ASCII digits: a precondition that cannot hold, not a 500."""
    before = _head(store)
    response = seeded(SID, "SummitConfirmed", {}, headers={"If-Match": if_match})
    _problem(response, 412)
    assert _head(store) == before


def test_a_database_that_refuses_writes_answers_503_and_recovers(
    seeded: Any, store: EventStore, tmp_path: Path
) -> None:
    """A read-only database: 503 problem+json with Retry-After, nothing partial; then fine."""
    before = _head(store)
    conn = sqlite3.connect(tmp_path / "web.sqlite3", isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")  # another process holds the write lock past the timeout
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        store._conn.execute("PRAGMA busy_timeout = 50")  # type: ignore[attr-defined]
        response = seeded(SID, "SummitConfirmed", {})
        body = _problem(response, 503)
        assert response.headers["Retry-After"].isdigit()
        assert "nothing was changed" in body["detail"]
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert _head(store) == before
    assert seeded(SID, "SummitConfirmed", {}).status_code == 201


def _post(url: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_sixteen_identical_posts_at_once_record_one_event(tmp_path: Path, helpers: Any) -> None:
    """One 201; the fifteen others get 200 with the first record; the log holds it once."""
    db = str(tmp_path / "race.sqlite3")
    token = subprocess.run(
        [DIPLOCAL, "--db", db, "token", "add", "desk"], capture_output=True, check=True, text=True
    ).stdout.strip()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "4",
        "--threads",
        "4",
        "web:create_app()",
        "--bind",
    ]
    with helpers.running(lambda port: [*command, f"127.0.0.1:{port}"], db) as server:
        url = f"{server.url}/api/summits/{SID}/events"
        body = {"type": "SummitAnnounced", "data": helpers.announce_data(), "event_id": "ev-1"}
        start = threading.Barrier(16)
        answers: list[tuple[int, dict[str, Any]]] = []

        def send() -> None:
            start.wait()
            answers.append(_post(url, body, token))

        threads = [threading.Thread(target=send) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 15 + [201]
    assert len({answer["hash"] for _, answer in answers}) == 1
    export = subprocess.run(
        [DIPLOCAL, "--db", db, "export"], capture_output=True, check=True, text=True
    ).stdout
    assert len(export.splitlines()) == 1


def test_a_server_on_a_tampered_log_says_so(tmp_path: Path, helpers: Any) -> None:
    """The chain is verified when a server starts: /healthz answers 503, the page warns."""
    db = tmp_path / "tampered.sqlite3"
    env = {**os.environ, "DIPLOCAL_DB": str(db)}
    subprocess.run([DIPLOCAL, "token", "add", "desk"], env=env, check=True, capture_output=True)
    demo = subprocess.run(
        [DIPLOCAL, "serve", "--help"], env=env, check=True, capture_output=True, text=True
    )
    assert "--demo" in demo.stdout
    from web import create_app

    create_app({"DB": str(db), "DEMO": True})  # loads the demo log
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET recorded_by = 'mallory' WHERE position = 3")
    conn.commit()
    conn.close()
    app = create_app({"DB": str(db)})
    client = app.test_client()
    assert app.extensions["diplocal"].chain.wait(timeout=60)  # the check runs in the background
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["chain"]["first_bad_position"] == 3
    page = client.get("/").get_data(as_text=True)
    assert "hash chain is broken at position" in page
    verify = subprocess.run([DIPLOCAL, "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 1 and "first bad position: 3" in verify.stderr


def _import(db: Path, lines: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    source = db.with_suffix(".jsonl")
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return subprocess.run(
        [DIPLOCAL, "--db", str(db), "import", str(source)], capture_output=True, text=True
    )


def _exported(db: Path) -> str:
    return subprocess.run(
        [DIPLOCAL, "--db", str(db), "export"], capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ({"summit_id": "abc-def\n"}, "summit_id"),
        ({"event_id": "ev\n1"}, "event_id"),
        ({"recorded_by": "desk\x00"}, "recorded_by"),
        ({"data": {"title": "T\x00"}}, "data.title"),
        ({"data": {"schedule": {"start": "0001-01-01"}}}, "data.schedule.start"),
        ({"data": {"schedule": {"start": "9999-12-31T23:59"}}}, "data.schedule.start"),
        ({"data": {"schedule": {"start": "\uff12\uff10\uff12\uff15"}}}, "data.schedule.start"),
    ],
)
def test_an_import_refuses_the_same_input_by_line(
    tmp_path: Path, helpers: Any, line: dict[str, Any], words: str
) -> None:
    """The CLI import names the line and the field; the log stays empty."""
    good = {"summit_id": "good-summit", "type": "SummitAnnounced", "data": helpers.announce_data()}
    bad = {"summit_id": SID, "type": "SummitAnnounced", "data": helpers.announce_data()}
    bad.update({k: v for k, v in line.items() if k != "data"})
    bad["data"].update(line.get("data", {}))
    db = tmp_path / "import.sqlite3"
    done = _import(db, [good, bad])
    assert done.returncode == 1, done.stdout
    assert "line 2" in done.stderr and words in done.stderr and "nothing imported" in done.stderr
    assert _exported(db) == ""
