"""Only writing commands create a store; a wrong --db is a clear error, never a traceback."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import announce

from events import StoreMissing, StoreUnreachable, open_store, system_clock
from web.cli import main

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))
READING = [["verify"], ["export"], ["replay"], ["replay", "--format", "ics"]]


def run(db: str, *args: str, stdin: str | None = None) -> Result:
    """The CLI in-process with --db."""
    return CliRunner().invoke(main, ["--db", db, *args], input=stdin)


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `diplocal` script, as an operator runs it."""
    return subprocess.run(
        [DIPLOCAL, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def line(summit_id: str) -> str:
    """One import line announcing a summit."""
    draft = announce(summit_id).draft
    return json.dumps({"summit_id": summit_id, "type": draft.type, "data": draft.data})


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_reading_command_on_a_missing_store_fails_and_creates_nothing(
    args: list[str], tmp_path: Path
) -> None:
    db = tmp_path / "no" / "dir" / "x.sqlite3"
    result = run(str(db), *args)
    assert result.exit_code == 1, result.output
    assert f"no store at {db}" in result.output
    assert "diplocal init" in result.output
    assert not (tmp_path / "no").exists(), "neither the folder nor the file is created"


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_sqlite_url_to_a_missing_file_is_refused_the_same_way(
    args: list[str], tmp_path: Path
) -> None:
    db = tmp_path / "absent.sqlite3"
    result = run(f"sqlite:///{db}", *args)  # sqlite:////abs/path
    assert result.exit_code == 1, result.output
    assert str(db) in result.output
    assert not db.exists()


def test_an_empty_file_is_no_store_to_read_and_is_left_empty(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    db.touch()
    result = run(str(db), "verify")
    assert result.exit_code == 1, result.output
    assert "empty file" in result.output
    assert db.stat().st_size == 0


def test_another_programs_sqlite_database_is_not_read_as_an_empty_log(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    result = run(str(db), "export")
    assert result.exit_code == 1, result.output
    assert "without a diplocal log" in result.output
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert tables == {"notes"}, "nothing was added to someone else's database"


@pytest.mark.parametrize("url", ["mysql://x", "redis://localhost/0", "sqlite://relative.db"])
@pytest.mark.parametrize("args", [["verify"], ["import", "-"], ["serve"]], ids=" ".join)
def test_an_unknown_scheme_is_a_usage_error_naming_the_schemes(
    url: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(url, *args, stdin="")
    assert result.exit_code == 2, result.output
    assert "--db / DIPLOCAL_DB" in result.output
    assert "sqlite:///" in result.output
    if "://" in url and not url.startswith("sqlite"):
        assert "postgresql://" in result.output
    assert list(tmp_path.iterdir()) == [], "no relative file named after the URL"


def test_the_environment_variable_is_checked_like_the_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export"], env={"DIPLOCAL_DB": "mysql://x"})
    assert result.exit_code == 2, result.output
    assert "unknown store scheme 'mysql'" in result.output


@pytest.mark.parametrize("args", [["verify"], ["export"], ["import", "-"], ["token", "add", "a"]])
def test_a_file_that_is_not_sqlite_is_a_clear_error(args: list[str], tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("root:x:0:0:root:/root:/bin/bash\n" * 20)
    before = db.read_bytes()
    result = run(str(db), *args, stdin=line("summit-a") + "\n")
    assert result.exit_code == 1, result.output
    assert f"{db} is not a SQLite database" in result.output
    assert isinstance(result.exception, SystemExit), "a message and an exit, not an exception"
    assert db.read_bytes() == before


def test_etc_passwd_through_the_installed_script_gives_no_traceback() -> None:
    assert Path("/etc/passwd").is_file()
    for args in (["verify"], ["import", "/dev/null"]):
        done = script("--db", "/etc/passwd", *args)
        assert done.returncode == 1, done.stderr
        assert "/etc/passwd is not a SQLite database" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout


def test_a_folder_given_as_the_store_is_a_clear_error(tmp_path: Path) -> None:
    for args in (["verify"], ["import", "-"]):
        result = run(str(tmp_path), *args, stdin="")
        assert result.exit_code == 1, result.output
        assert "is a folder, not a SQLite file" in result.output


def test_an_unreachable_postgresql_is_a_clear_error_with_the_password_masked() -> None:
    url = f"postgresql://desk:s3cret-pw@127.0.0.1:{closed_port()}/calendar"
    for args in (["verify"], ["import", "/dev/null"], ["export"]):
        done = script("--db", url, *args)
        assert done.returncode == 1, done.stderr
        assert "cannot open the PostgreSQL store postgresql://desk:***@127.0.0.1" in done.stderr
        assert "s3cret-pw" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr


def test_open_store_refuses_an_unreachable_postgresql_with_a_log_error() -> None:
    with pytest.raises(StoreUnreachable, match=r"desk:\*\*\*@"):
        open_store(f"postgresql://desk:pw@127.0.0.1:{closed_port()}/x", system_clock)


def test_a_postgresql_database_without_the_log_is_not_created_by_a_reader(pg_url: str) -> None:
    import psycopg

    result = run(pg_url, "verify")
    assert result.exit_code == 1, result.output
    assert "holds no diplocal log" in result.output
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT to_regclass('events')").fetchone()
    assert row == (None,), "verify created no table"
    with pytest.raises(StoreMissing):
        open_store(pg_url, system_clock, create=False)

    imported = run(pg_url, "import", "-", stdin=line("summit-a") + "\n")
    assert imported.exit_code == 0, imported.output
    verified = run(pg_url, "verify")
    assert verified.exit_code == 0, verified.output


def test_import_creates_a_missing_store_and_its_folder(tmp_path: Path) -> None:
    db = tmp_path / "new" / "log.sqlite3"
    result = run(str(db), "import", "-", stdin=line("summit-a") + "\n" + line("summit-b") + "\n")
    assert result.exit_code == 0, result.output
    exported = run(str(db), "export")
    assert exported.exit_code == 0, exported.output
    assert [json.loads(x)["summit_id"] for x in exported.output.splitlines()] == [
        "summit-a",
        "summit-b",
    ]


def test_token_add_creates_a_missing_store(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    result = run(str(db), "token", "add", "desk")
    assert result.exit_code == 0, result.output
    assert db.is_file()


def test_init_creates_an_empty_store_once(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "log.sqlite3"
    first = run(str(db), "init")
    assert first.exit_code == 0, first.output
    assert f"Created an empty store at {db}" in first.output
    again = run(str(db), "init")
    assert again.exit_code == 0, again.output
    assert "already exists (0 events)" in again.output
    verified = run(str(db), "verify")
    assert verified.exit_code == 0, verified.output
    exported = run(str(db), "export")
    assert (exported.exit_code, exported.output) == (0, "")


def test_init_leaves_an_existing_log_alone(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    assert run(str(db), "import", "-", stdin=line("summit-a") + "\n").exit_code == 0
    result = run(str(db), "init")
    assert result.exit_code == 0, result.output
    assert "already exists (1 events)" in result.output


def test_init_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("hello\n")
    result = run(str(db), "init")
    assert result.exit_code == 1, result.output
    assert "not a SQLite database" in result.output


def test_version_prints_the_installed_version() -> None:
    done = script("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"diplocal, version {version('diplocal')}"
