"""`diplocal import` reads its file twice (a survey, then the checked import): repeats inside
the file are skipped and counted, a reused event_id is refused by line, on SQLite and
PostgreSQL, from a file, stdin or a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factories import announce_data

from calendar_core.projection import fold
from events import open_store, system_clock
from web.cli import main

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))


def line(summit_id: str, kind: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summit_id": summit_id, "type": kind, "data": data, **extra}


CONFIRM_A = line("summit-a", "SummitConfirmed", {}, event_id="confirm-a")
FILE = [
    line("summit-a", "SummitAnnounced", announce_data(), event_id="announce-a"),
    line("summit-b", "SummitAnnounced", announce_data(), event_id="announce-b"),
    CONFIRM_A,
    line("summit-b", "SummitNoted", {"note": "b"}, event_id="note-b"),
    CONFIRM_A,  # a repeat: the rules would refuse a second confirmation
    line("summit-a", "SummitNoted", {"note": "a"}, event_id="note-a"),
]


def text(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def run(db: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", db, *args], input=stdin)


def head(db: str) -> tuple[int, str] | None:
    store = open_store(db, system_clock)
    try:
        found = store.head()
        return None if found is None else (found.position, found.hash)
    finally:
        store.close()


def status_of(db: str, summit_id: str) -> tuple[int, str]:
    store = open_store(db, system_clock)
    try:
        summit = fold(store.read(summit_id=summit_id))
    finally:
        store.close()
    assert summit is not None
    return summit.version, summit.status


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_repeat_inside_the_file_is_skipped_and_counted(db: str, tmp_path: Path, via: str) -> None:
    file = tmp_path / "log.jsonl"
    file.write_text(text(*FILE))
    args, stdin = ([str(file)], None) if via == "file" else (["-"], text(*FILE))
    result = run(db, "import", *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    assert result.output == "imported 5 events (skipped 1 already in the log)\n"
    assert status_of(db, "summit-a") == (3, "confirmed")
    again = run(db, "import", str(file))
    assert again.output == "imported 0 events (skipped 6 already in the log)\n"


@pytest.mark.parametrize("log", ["empty", "with-events"])
def test_a_reused_event_id_inside_the_file_is_refused_by_line_and_nothing_appended(
    db: str, tmp_path: Path, log: str
) -> None:
    """Into an empty log (streamed into the transaction) or one with events (spooled first)."""
    if log == "with-events":
        earlier = line("summit-z", "SummitAnnounced", announce_data())
        assert run(db, "import", "-", stdin=text(earlier)).exit_code == 0
    before = head(db)
    reused = line("summit-b", "SummitNoted", {"note": "other content"}, event_id="confirm-a")
    result = run(db, "import", "-", stdin=text(*FILE[:4], reused, *FILE[5:]))
    assert result.exit_code == 1
    assert "line 5" in result.output
    assert "event_id confirm-a is already used by another event" in result.output
    assert "nothing imported" in result.output
    assert head(db) == before


def test_a_pipe_is_read_twice_through_a_copy(tmp_path: Path) -> None:
    """A path that cannot be read twice (/dev/stdin on a pipe) is copied, then surveyed."""
    db = tmp_path / "log.sqlite3"
    done = subprocess.run(
        [DIPLOCAL, "--db", str(db), "import", "/dev/stdin"],
        input=text(*FILE),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "imported 5 events (skipped 1 already in the log)\n"
    assert status_of(str(db), "summit-a") == (3, "confirmed")
