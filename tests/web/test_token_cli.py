"""`diplocal token add|list|revoke` through the CLI, against a SQLite file a running app reads."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import open_store, system_clock, tokens_of
from web import create_app
from web.auth import token_hash
from web.cli import main

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))


def diplocal(db: Path, *args: str) -> Result:
    """Run `diplocal --db DB ARGS` in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, ["--db", str(db), *args])


def add(db: Path, name: str, *options: str) -> str:
    """`diplocal token add`: the secret it prints once."""
    result = diplocal(db, "token", "add", *options, "--", name)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    return secret


def listed(db: Path) -> list[tuple[str, str, str]]:
    """`diplocal token list` as (name, rights, created_at) rows; none while no store exists."""
    if not db.exists():
        return []
    result = diplocal(db, "token", "list")
    assert result.exit_code == 0, result.output
    rows = [tuple(line.split("\t")) for line in result.stdout.splitlines()]
    assert all(len(row) == 3 for row in rows), rows
    return rows  # type: ignore[return-value]


def post(app: Flask, secret: str, summit_id: str, helpers: Any) -> int:
    """POST an announcement with a bearer token; the status code."""
    response = app.test_client().post(
        f"/api/summits/{summit_id}/events",
        json={"type": "SummitAnnounced", "data": helpers.announce_data()},
        headers={"Authorization": f"Bearer {secret}"},
    )
    return response.status_code


def full_verify(app: Flask, secret: str) -> Any:
    """GET /api/audit/verify?full=true, which any valid token (read-only too) may ask for."""
    return app.test_client().get(
        "/api/audit/verify?full=true", headers={"Authorization": f"Bearer {secret}"}
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A new SQLite store file."""
    return tmp_path / "tokens.sqlite3"


@pytest.fixture
def serve(db: Path) -> Iterator[Callable[[], Flask]]:
    """Start apps over the store file (each on its own connection); closed afterwards."""
    apps: list[Flask] = []

    def start() -> Flask:
        apps.append(create_app({"DB": str(db)}))
        return apps[-1]

    yield start
    for app in apps:
        app.extensions["diplocal"].store.close()


def test_add_prints_a_new_secret_each_time_and_stores_only_its_hash(db: Path) -> None:
    desk, reader = add(db, "desk"), add(db, "reader", "--read-only")
    assert desk != reader and min(len(desk), len(reader)) >= 32
    store = open_store(str(db), system_clock)
    try:
        tokens = tokens_of(store)
        found = [tokens.find(token_hash(secret)) for secret in (desk, reader)]
    finally:
        store.close()
    assert [(t.name, t.can_write) if t else None for t in found] == [
        ("desk", True),
        ("reader", False),
    ]
    stored = db.read_bytes()
    assert desk.encode() not in stored and reader.encode() not in stored


def test_a_duplicate_name_is_refused_and_the_first_token_is_kept(
    db: Path, serve: Callable[[], Flask], helpers: Any
) -> None:
    first = add(db, "desk")
    again = diplocal(db, "token", "add", "desk")
    assert again.exit_code == 1
    assert again.stdout == "", "no secret is printed for a token that was not stored"
    assert "error:" in again.stderr and "'desk'" in again.stderr
    assert "exists already" in again.stderr
    as_reader = diplocal(db, "token", "add", "--read-only", "desk")
    assert as_reader.exit_code == 1 and as_reader.stdout == ""
    assert [(name, rights) for name, rights, _ in listed(db)] == [("desk", "write")]
    app = serve()
    assert post(app, first, "kr-jp-2025-tokyo", helpers) == 201


def test_list_shows_names_and_rights_but_never_a_secret_or_its_hash(db: Path) -> None:
    assert listed(db) == []
    secrets = [add(db, "reader", "--read-only"), add(db, "desk"), add(db, "Agence Presse")]
    result = diplocal(db, "token", "list")
    rows = listed(db)
    assert [(name, rights) for name, rights, _ in rows] == [
        ("Agence Presse", "write"),
        ("desk", "write"),
        ("reader", "read-only"),
    ]
    for _, _, created_at in rows:
        assert created_at.endswith("Z") and created_at[:4].isdigit()
    for secret in secrets:
        assert secret not in result.output
        assert token_hash(secret) not in result.output


def test_a_revoked_token_is_refused_at_once_by_a_running_app(
    db: Path, serve: Callable[[], Flask], helpers: Any
) -> None:
    desk, other, reader = add(db, "desk"), add(db, "other"), add(db, "reader", "--read-only")
    app = serve()  # running before the revocation, on its own connection
    assert post(app, desk, "kr-jp-2025-tokyo", helpers) == 201
    assert full_verify(app, reader).status_code == 200

    revoked = diplocal(db, "token", "revoke", "desk")
    assert revoked.exit_code == 0 and revoked.stdout == "revoked desk\n"
    refused = app.test_client().post(
        "/api/summits/kr-jp-2025-seoul/events",
        json={"type": "SummitAnnounced", "data": helpers.announce_data()},
        headers={"Authorization": f"Bearer {desk}"},
    )
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert "invalid_token" in refused.headers["WWW-Authenticate"]
    assert post(app, other, "kr-jp-2025-seoul", helpers) == 201
    assert app.test_client().get("/api/summits/kr-jp-2025-seoul").get_json()["version"] == 1

    assert diplocal(db, "token", "revoke", "reader").exit_code == 0
    assert full_verify(app, reader).status_code == 401
    assert [name for name, _, _ in listed(db)] == ["other"]


def test_revoking_an_unknown_name_fails_and_a_name_can_be_reused_after(
    db: Path, serve: Callable[[], Flask], helpers: Any
) -> None:
    assert diplocal(db, "init").exit_code == 0
    unknown = diplocal(db, "token", "revoke", "nobody")
    assert unknown.exit_code == 1
    assert "no token named 'nobody'" in unknown.stderr
    old = add(db, "desk")
    assert diplocal(db, "token", "revoke", "desk").exit_code == 0
    again = diplocal(db, "token", "revoke", "desk")
    assert again.exit_code == 1 and "no token named 'desk'" in again.stderr
    new = add(db, "desk", "--read-only")
    app = serve()
    assert post(app, old, "kr-jp-2025-tokyo", helpers) == 401
    assert post(app, new, "kr-jp-2025-tokyo", helpers) == 403  # read-only now
    assert listed(db)[0][:2] == ("desk", "read-only")


@pytest.mark.parametrize(
    "args",
    [["add"], ["add", ""], ["add", "   "], ["add", "a\tb"], ["add", "x" * 101], ["revoke"]],
    ids=["no-name", "empty", "blank", "tab", "too-long", "revoke-no-name"],
)
def test_a_missing_or_unprintable_name_is_a_usage_error(db: Path, args: list[str]) -> None:
    result = diplocal(db, "token", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert listed(db) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=0, max_size=120))
def test_any_name_is_listed_as_given_or_refused_with_nothing_stored(name: str) -> None:
    """1-100 printable characters, not all blank: stored and listed exactly; else exit 2."""
    acceptable = name.isprintable() and bool(name.strip()) and len(name) <= 100
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tokens.sqlite3"
        result = diplocal(db, "token", "add", "--", name)
        if acceptable:
            assert result.exit_code == 0, result.output
            assert [(n, rights) for n, rights, _ in listed(db)] == [(name, "write")]
            assert diplocal(db, "token", "revoke", "--", name).exit_code == 0
        else:
            assert result.exit_code == 2, result.output
        assert listed(db) == []


@pytest.mark.slow
def test_the_installed_script_and_a_server_process(tmp_path: Path, helpers: Any) -> None:
    """Real processes: `diplocal token` changes what a running `diplocal serve` accepts."""
    db = str(tmp_path / "served.sqlite3")

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DIPLOCAL, "--db", db, "token", *args], capture_output=True, text=True, check=False
        )

    desk, other = script("add", "desk"), script("add", "other")
    assert desk.returncode == 0 and other.returncode == 0
    duplicate = script("add", "desk")
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    assert duplicate.stdout == ""
    with helpers.running(lambda port: [DIPLOCAL, "serve", "--port", str(port)], db) as server:
        assert served_post(server.url, desk.stdout.strip(), "kr-jp-2025-tokyo", helpers) == 201
        assert script("revoke", "desk").returncode == 0
        for summit_id in ("kr-jp-2025-seoul", "kr-jp-2025-busan"):
            assert served_post(server.url, desk.stdout.strip(), summit_id, helpers) == 401
        assert served_post(server.url, other.stdout.strip(), "kr-jp-2025-seoul", helpers) == 201
    listing = script("list")
    assert listing.returncode == 0
    assert [line.split("\t")[:2] for line in listing.stdout.splitlines()] == [["other", "write"]]
    assert other.stdout.strip() not in listing.stdout


def served_post(url: str, secret: str, summit_id: str, helpers: Any) -> int:
    """POST an announcement to a server process; the status code."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{url}/api/summits/{summit_id}/events",
        data=json.dumps({"type": "SummitAnnounced", "data": helpers.announce_data()}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code)
