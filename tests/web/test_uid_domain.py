"""The UID domain: derived from DIPLOCAL_BASE_URL when not set, stored with the log on first
use, and a different one refused (by create_app, `diplocal serve` and gunicorn) unless the
operator asks for the change; `replay --format ics` uses the stored domain."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import factories
import pytest
from click.testing import CliRunner

from events import EventStore, FixedClock, open_store, settings_of
from events.settings import UID_DOMAIN_KEPT_SINCE_CREATION
from web import create_app
from web.cli import main
from web.config import DEFAULT_UID_DOMAIN, UidDomainError

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))
UID = re.compile(rb"^UID:[^@\r\n]+@([^\r\n]+)\r$", re.M)


@pytest.fixture(autouse=True)
def _no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test sets counts."""
    for name in ("BASE_URL", "UID_DOMAIN", "UID_DOMAIN_CHANGE", "PROXY_FIX", "DEMO"):
        monkeypatch.delenv(f"DIPLOCAL_{name}", raising=False)


def uid_domains(body: bytes) -> set[str]:
    """The domains of the UIDs in a feed."""
    return {domain.decode() for domain in UID.findall(body)}


def stored(store: EventStore) -> str | None:
    return settings_of(store).get("uid_domain")


def feed_domains(store: EventStore, clock: FixedClock, **config: Any) -> set[str]:
    """The UID domains of the feed an app with this config serves."""
    app = create_app(config, store=store, clock=clock)
    return uid_domains(app.test_client().get("/calendar.ics").data)


@pytest.fixture
def fresh(clock: FixedClock, tmp_path: Path) -> Iterator[EventStore]:
    """An empty SQLite store (no token, no domain stored yet)."""
    opened = open_store(str(tmp_path / "fresh.sqlite3"), clock)
    yield opened
    opened.close()


def test_the_domain_comes_from_the_base_url_and_is_stored(
    fresh: EventStore, clock: FixedClock
) -> None:
    create_app({"BASE_URL": "https://Calendar.Example.org:8443/diplo/"}, store=fresh, clock=clock)
    assert stored(fresh) == "calendar.example.org"
    fresh.append([factories.announce().draft])
    assert feed_domains(fresh, clock) == {"calendar.example.org"}, "kept without BASE_URL"


@pytest.mark.parametrize(
    "base_url", [None, "http://127.0.0.1:8000", "http://[::1]:8000", "http://localhost:8000"]
)
def test_without_a_named_host_the_default_stays(
    base_url: str | None, fresh: EventStore, clock: FixedClock
) -> None:
    fresh.append([factories.announce().draft])
    assert feed_domains(fresh, clock, BASE_URL=base_url) == {DEFAULT_UID_DOMAIN}
    assert stored(fresh) == DEFAULT_UID_DOMAIN


def test_an_explicit_domain_wins_over_the_base_url(fresh: EventStore, clock: FixedClock) -> None:
    fresh.append([factories.announce().draft])
    domains = feed_domains(fresh, clock, BASE_URL="https://a.example", UID_DOMAIN="b.example")
    assert domains == {"b.example"} and stored(fresh) == "b.example"


def test_a_different_domain_is_refused_naming_both(fresh: EventStore, clock: FixedClock) -> None:
    create_app({"UID_DOMAIN": "old.example"}, store=fresh, clock=clock)
    fresh.append([factories.announce().draft])
    with pytest.raises(UidDomainError) as refused:
        create_app({"UID_DOMAIN": "new.example"}, store=fresh, clock=clock)
    message = str(refused.value)
    for needed in ("old.example", "new.example", "DIPLOCAL_UID_DOMAIN=old.example"):
        assert needed in message
    assert "DIPLOCAL_UID_DOMAIN_CHANGE=1" in message and "--change-uid-domain" in message
    assert stored(fresh) == "old.example", "nothing changed"
    moved = {"BASE_URL": "https://moved.example"}  # a derived domain is refused too
    with pytest.raises(UidDomainError, match=r"moved\.example .*DIPLOCAL_BASE_URL"):
        create_app(moved, store=fresh, clock=clock)
    assert feed_domains(fresh, clock, UID_DOMAIN="old.example", **moved) == {"old.example"}


def test_the_change_is_recorded_when_asked_for_and_logged(
    fresh: EventStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    create_app({"UID_DOMAIN": "old.example"}, store=fresh, clock=clock)
    fresh.append([factories.announce().draft])
    with caplog.at_level(logging.WARNING):
        domains = feed_domains(fresh, clock, UID_DOMAIN="new.example", UID_DOMAIN_CHANGE=True)
    assert domains == {"new.example"} and stored(fresh) == "new.example"
    warned = [r.getMessage() for r in caplog.records if "UID domain changed" in r.getMessage()]
    assert len(warned) == 1 and "old.example to new.example" in warned[0]
    assert "every subscriber will see" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the flag left set: no change, nothing said
        feed_domains(fresh, clock, UID_DOMAIN="new.example", UID_DOMAIN_CHANGE=True)
    assert not [r for r in caplog.records if "UID domain changed" in r.getMessage()]


def test_the_change_flag_from_the_environment(
    fresh: EventStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_app({"UID_DOMAIN": "old.example"}, store=fresh, clock=clock)
    monkeypatch.setenv("DIPLOCAL_UID_DOMAIN", "new.example")
    monkeypatch.setenv("DIPLOCAL_UID_DOMAIN_CHANGE", "1")
    create_app(store=fresh, clock=clock)
    assert stored(fresh) == "new.example"


def _from_before(store: EventStore, path: Path) -> None:
    """Make `store` look like a log written before the UID domain was stored: events, and no
    mark that it was created since."""
    if store.head() is None:
        store.append([factories.announce().draft])
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM settings WHERE name = ?", (UID_DOMAIN_KEPT_SINCE_CREATION,))
    conn.close()


def test_a_new_log_imported_then_served_takes_the_base_urls_host(
    tmp_path: Path, clock: FixedClock
) -> None:
    """`diplocal import` into a new store, then a server with a public URL: no refusal."""
    source = tmp_path / "events.jsonl"
    draft = factories.announce().draft
    line = {"summit_id": draft.summit_id, "type": draft.type, "data": draft.data}
    source.write_text(json.dumps(line) + "\n")
    db = tmp_path / "imported.sqlite3"
    assert CliRunner().invoke(main, ["--db", str(db), "import", str(source)]).exit_code == 0
    store = open_store(str(db), clock)
    try:
        assert feed_domains(store, clock, BASE_URL="https://cal.example.org") == {"cal.example.org"}
        assert stored(store) == "cal.example.org"
    finally:
        store.close()


def test_a_log_from_before_the_stored_domain(
    fresh: EventStore, clock: FixedClock, tmp_path: Path
) -> None:
    """Served until now with the default (or DIPLOCAL_UID_DOMAIN, which the operator names)."""
    _from_before(fresh, tmp_path / "fresh.sqlite3")
    with pytest.raises(UidDomainError, match=r"before diplocal stored .*diplocal\.example"):
        create_app({"BASE_URL": "https://cal.example.org"}, store=fresh, clock=clock)
    assert stored(fresh) is None, "refused: nothing stored"
    assert feed_domains(fresh, clock, BASE_URL="https://cal.example.org", UID_DOMAIN="x.org") == {
        "x.org"
    }


def test_a_log_from_before_keeps_the_default_when_nothing_is_configured(
    fresh: EventStore, clock: FixedClock, tmp_path: Path
) -> None:
    _from_before(fresh, tmp_path / "fresh.sqlite3")
    assert feed_domains(fresh, clock) == {DEFAULT_UID_DOMAIN}
    assert stored(fresh) == DEFAULT_UID_DOMAIN


@pytest.mark.parametrize("bad", ["cal example", "a@b.example", "cal.example/x", "tab\there"])
def test_a_uid_domain_that_is_no_domain_is_refused(
    bad: str, fresh: EventStore, clock: FixedClock
) -> None:
    with pytest.raises(UidDomainError, match="not a domain name"):
        create_app({"UID_DOMAIN": bad}, store=fresh, clock=clock)
    assert stored(fresh) is None


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_every_adapter_keeps_the_domain(
    kind: str, clock: FixedClock, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = {"memory": "memory:", "sqlite": str(tmp_path / "log.sqlite3")}.get(kind)
    store = open_store(url or request.getfixturevalue("pg_url"), clock)
    create_app({"BASE_URL": "https://cal.example.org"}, store=store, clock=clock)
    store.append([factories.announce().draft])
    assert feed_domains(store, clock) == {"cal.example.org"}
    with pytest.raises(UidDomainError):
        create_app({"UID_DOMAIN": "other.example"}, store=store, clock=clock)
    store.close()


def test_a_start_with_the_stored_domain_writes_nothing(pg_url: str, clock: FixedClock) -> None:
    """A role that may only read the settings (a replica's, say) serves a log whose domain
    is stored."""
    import psycopg

    owner = open_store(pg_url, clock)
    create_app({"UID_DOMAIN": "cal.example.org"}, store=owner, clock=clock)
    owner.append([factories.announce().draft])
    owner.close()
    role = f"reader_{pg_url.rsplit('/', 1)[1]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON events, tokens, settings TO {role}")
    reader = open_store(pg_url.replace("//diplocal@", f"//{role}@", 1), clock)
    assert feed_domains(reader, clock, UID_DOMAIN="cal.example.org") == {"cal.example.org"}
    assert feed_domains(reader, clock) == {"cal.example.org"}
    reader.close()


# -- replay --


def replay(db: Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["--db", str(db), "replay", "--format", "ics"], env=env)


def test_replay_uses_the_stored_domain(tmp_path: Path, clock: FixedClock) -> None:
    db = tmp_path / "log.sqlite3"
    opened = open_store(str(db), clock)
    create_app({"BASE_URL": "https://cal.example.org"}, store=opened, clock=clock)
    opened.append([factories.announce().draft])
    opened.close()
    plain = replay(db)
    assert plain.exit_code == 0, plain.output
    assert uid_domains(plain.stdout_bytes) == {"cal.example.org"}
    asked = replay(db, {"DIPLOCAL_UID_DOMAIN": "other.example"})
    assert asked.exit_code == 0
    assert uid_domains(asked.stdout_bytes) == {"cal.example.org"}
    assert "other.example" in asked.stderr and "cal.example.org" in asked.stderr


def test_replay_of_a_log_without_a_stored_domain_writes_nothing(
    tmp_path: Path, clock: FixedClock
) -> None:
    db = tmp_path / "log.sqlite3"
    opened = open_store(str(db), clock)
    opened.append([factories.announce().draft])
    new = replay(db, {"DIPLOCAL_BASE_URL": "https://cal.example.org"})
    assert new.exit_code == 0, new.output
    assert uid_domains(new.stdout_bytes) == {"cal.example.org"}, "what a server would serve"
    _from_before(opened, db)
    opened.close()
    result = replay(db, {"DIPLOCAL_BASE_URL": "https://cal.example.org"})
    assert result.exit_code == 0, result.output
    assert uid_domains(result.stdout_bytes) == {DEFAULT_UID_DOMAIN}, "what was served"
    again = open_store(str(db), clock, create=False)
    assert stored(again) is None
    again.close()


# -- real servers --


@contextmanager
def serving(
    helpers: Any, db: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """`diplocal serve ARGS` on a free port until the block ends: (url, [what it printed])."""
    port = helpers.free_port()
    process = subprocess.Popen(
        [DIPLOCAL, "serve", "--port", str(port), "--workers", "1", *args],
        env={**helpers.server_env(str(db)), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url, printed = f"http://127.0.0.1:{port}", []
    try:
        helpers.wait_until_healthy(url, process)
        yield url, printed
    finally:
        printed.append(helpers.stop(process))


def refused_serve(helpers: Any, db: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIPLOCAL, "serve", "--port", str(helpers.free_port())],
        env={**helpers.server_env(str(db)), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def served_domains(url: str) -> set[str]:
    with urllib.request.urlopen(url + "/calendar.ics", timeout=10) as response:
        return uid_domains(response.read())


@pytest.mark.slow
def test_diplocal_serve_stores_refuses_and_changes_the_domain(tmp_path: Path, helpers: Any) -> None:
    db = tmp_path / "served.sqlite3"
    public = {"DIPLOCAL_BASE_URL": "https://cal.example.org"}
    with serving(helpers, db, "--demo", env=public) as (url, printed):
        assert served_domains(url) == {"cal.example.org"}
    assert "UIDs:      <summit id>@cal.example.org (stored with the log)" in printed[0]
    with serving(helpers, db) as (url, _):  # no settings at all: the stored domain
        assert served_domains(url) == {"cal.example.org"}

    refused = refused_serve(helpers, db, {"DIPLOCAL_UID_DOMAIN": "other.example"})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "cal.example.org" in refused.stderr and "other.example" in refused.stderr
    assert "--change-uid-domain" in refused.stderr and "Traceback" not in refused.stderr
    with serving(helpers, db) as (url, _):
        assert served_domains(url) == {"cal.example.org"}, "the refusal changed nothing"

    other = {"DIPLOCAL_UID_DOMAIN": "other.example"}
    with serving(helpers, db, "--change-uid-domain", env=other) as (url, printed):
        assert served_domains(url) == {"other.example"}
    assert "UID domain changed from cal.example.org to other.example" in printed[0]
    assert "every subscriber will see" in printed[0]
    with serving(helpers, db, env=other) as (url, printed):
        assert served_domains(url) == {"other.example"}
    assert "UID domain changed" not in printed[0]


@pytest.mark.slow
def test_gunicorn_refuses_a_different_domain(
    tmp_path: Path, helpers: Any, clock: FixedClock
) -> None:
    """`gunicorn 'web:create_app()'`: the worker does not boot, and the reason is printed."""
    db = tmp_path / "served.sqlite3"
    opened = open_store(str(db), clock)
    create_app({"UID_DOMAIN": "cal.example.org"}, store=opened, clock=clock)
    opened.close()
    env = {**helpers.server_env(str(db)), "DIPLOCAL_UID_DOMAIN": "other.example"}
    bind = f"127.0.0.1:{helpers.free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", bind, "web:create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "UidDomainError" in result.stderr and "cal.example.org" in result.stderr
    assert "DIPLOCAL_UID_DOMAIN_CHANGE=1" in result.stderr
