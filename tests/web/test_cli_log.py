"""`diplocal import`, `export`, `verify` and `token add`, through click and the installed script."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factories import announce, announce_data, confirm, note

from events import EventStore, ImportRejected, Recorded, open_store, system_clock, tokens_of
from events.upcast import UPCASTERS, UnknownSchema, upcaster
from web.cli import main
from web.cli.log import read_lines

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))


def run(db: Path, *args: str, stdin: str | None = None) -> Result:
    """Invoke the CLI in-process against one SQLite file."""
    return CliRunner().invoke(main, ["--db", str(db), *args], input=stdin)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A log of five events over two summits (positions 2 and 4 are announcements)."""
    path = tmp_path / "log.sqlite3"
    store = open_store(str(path), system_clock)
    store.append([announce("summit-a", title="Seoul summit \u2013 \uc11c\uc6b8").draft])
    store.append([announce("summit-b").draft])
    store.append([confirm("summit-a").draft])
    store.append([note("Ça a été confirmé", "summit-b").draft])
    store.append([note("last", "summit-a").draft])
    store.close()
    return path


def at(store: EventStore, position: int) -> Recorded:
    """The record at a log position."""
    return next(store.read(after=position - 1, limit=1))


def head_of(db: Path) -> tuple[int, str]:
    store = open_store(str(db), system_clock)
    head = store.head()
    store.close()
    assert head is not None
    return head.position, head.hash


def tamper(db: Path, *statements: str) -> None:
    """Run raw SQL on the file after dropping the append-only triggers."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


# -- verify --


def test_verify_reports_the_head_of_an_intact_log(db: Path) -> None:
    """Exit 0 with the count and the head."""
    position, digest = head_of(db)
    result = run(db, "verify")
    assert result.exit_code == 0
    assert result.output == f"ok: 5 events, head {position}:{digest}\n"


@pytest.mark.parametrize(
    ("statements", "bad"),
    [
        (["UPDATE events SET data = replace(data, 'Tokyo', 'Tokyp') WHERE position = 2"], 2),
        (["DELETE FROM events WHERE position = 3"], 3),
        (
            [
                "UPDATE events SET position = -1 WHERE position = 2",
                "UPDATE events SET position = 2 WHERE position = 3",
                "UPDATE events SET position = 3 WHERE position = -1",
            ],
            2,
        ),
        (["UPDATE events SET recorded_by = 'mallory' WHERE position = 4"], 4),
        (["DELETE FROM events WHERE position = 1"], 1),
    ],
    ids=["changed-byte", "deleted-row", "swapped-rows", "changed-column", "deleted-first"],
)
def test_verify_names_the_first_bad_position_of_a_tampered_log(
    db: Path, statements: list[str], bad: int
) -> None:
    """A changed byte, a deleted row or two swapped rows: exit 1 naming where it breaks."""
    assert run(db, "verify").exit_code == 0
    tamper(db, *statements)
    result = run(db, "verify")
    assert result.exit_code == 1
    assert f"first bad position: {bad} (" in result.output


def test_expect_head_catches_a_history_rewritten_with_fresh_hashes(
    db: Path, tmp_path: Path
) -> None:
    """A rewritten log verifies on its own, but not against the head an auditor noted."""
    position, digest = head_of(db)
    assert run(db, "verify", "--expect-head", f"{position}:{digest}").exit_code == 0
    exported = run(db, "export").output.splitlines()
    rewritten = []
    for line in exported:
        record = json.loads(line)
        for name in ("position", "version", "prev_hash", "hash"):
            del record[name]
        if record["type"] == "SummitNoted":
            record["data"]["note"] = "something else"
        rewritten.append(record)
    forged = tmp_path / "forged.sqlite3"
    assert run(forged, "import", "-", stdin=lines(*rewritten)).exit_code == 0
    assert run(forged, "verify").exit_code == 0
    result = run(forged, "verify", "--expect-head", f"{position}:{digest}")
    assert result.exit_code == 1
    assert f"position {position}" in result.output
    beyond = run(db, "verify", "--expect-head", f"{position + 1}:{digest}")
    assert beyond.exit_code == 1
    assert run(db, "verify", "--expect-head", "five:abc").exit_code == 2


# -- export and import --


def contract_verifier(text: str) -> int:
    """CONTRACT section 2 alone: SHA-256 of canonical JSON without `hash`, linked by prev_hash."""
    previous, count = "0" * 64, 0
    for number, line in enumerate(text.splitlines(), start=1):
        record = json.loads(line)
        claimed = record.pop("hash")
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == claimed
        assert record["prev_hash"] == previous
        assert record["position"] == number
        previous, count = claimed, number
    return count


def test_export_then_import_into_an_empty_store_gives_the_same_hashes(
    db: Path, tmp_path: Path
) -> None:
    """The round trip keeps every byte, and the export re-verifies with hashlib and json only."""
    exported = run(db, "export")
    assert exported.exit_code == 0
    assert contract_verifier(exported.output) == 5
    assert "서울" in exported.output and "\\u" not in exported.output
    copy = tmp_path / "copy.sqlite3"
    file = tmp_path / "log.jsonl"
    file.write_text(exported.output, encoding="utf-8")
    result = run(copy, "import", str(file))
    assert result.exit_code == 0, result.output
    assert result.output == "imported 5 events (skipped 0 already in the log)\n"
    assert run(copy, "export").output == exported.output
    assert head_of(copy) == head_of(db)
    again = run(copy, "import", str(file))
    assert again.output == "imported 0 events (skipped 5 already in the log)\n"
    assert head_of(copy) == head_of(db)


def test_export_stops_at_a_position(db: Path) -> None:
    """--until-position N writes records 1..N."""
    result = run(db, "export", "--until-position", "3")
    assert [json.loads(line)["position"] for line in result.output.splitlines()] == [1, 2, 3]
    assert run(db, "export", "--until-position", "-1").exit_code == 2


def test_import_defaults_and_stdin(tmp_path: Path) -> None:
    """Lines may leave out event_id, schema_version, recorded_by and recorded_at."""
    db = tmp_path / "new.sqlite3"
    given = "2025-06-01T10:00:00.500000Z"
    first_line = {
        "summit_id": "summit-a",
        "type": "SummitAnnounced",
        "data": announce_data(),
        "event_id": "mine-1",
        "recorded_by": "desk",
        "recorded_at": given,
    }
    last_line = {"summit_id": "summit-a", "type": "SummitConfirmed", "data": {}}
    result = run(db, "import", "-", stdin=lines(first_line) + "\n" + lines(last_line))
    assert result.exit_code == 0, result.output
    store = open_store(str(db), system_clock)
    first, second = store.read()
    store.close()
    assert (first.event_id, first.recorded_by, first.recorded_at) == ("mine-1", "desk", given)
    assert second.schema_version == 1 and second.recorded_by is None
    assert len(second.event_id) == 36 and second.event_id != first.event_id
    assert second.instant > first.instant


ANNOUNCE_B = {"summit_id": "summit-new", "type": "SummitAnnounced", "data": announce_data()}


def _bad(**changes: Any) -> dict[str, Any]:
    line = {"summit_id": "summit-a", "type": "SummitNoted", "data": {"note": "fine"}}
    line.update(changes)
    return line


BAD_LINES: dict[str, tuple[str, str]] = {
    "malformed-json": ('{"summit_id": "summit-a", "type": ', "not valid JSON"),
    "not-an-object": ("[1, 2]", "JSON object"),
    "unknown-type": (json.dumps(_bad(type="SummitExploded")), "type"),
    "unknown-field": (json.dumps(_bad(colour="red")), "colour"),
    "unknown-data-field": (json.dumps(_bad(data={"note": "x", "colour": "red"})), "data.colour"),
    "missing-data": (json.dumps({"summit_id": "summit-a", "type": "SummitNoted"}), "data"),
    "bad-summit-id": (json.dumps(_bad(summit_id="A B")), "summit_id"),
    "bad-country": (
        json.dumps(
            _bad(
                summit_id="summit-c",
                type="SummitAnnounced",
                data=announce_data(participants=[{"name": "X", "country": "XX"}]),
            )
        ),
        "data.participants.0.country",
    ),
    "unknown-zone": (
        json.dumps(
            _bad(
                summit_id="summit-c",
                type="SummitAnnounced",
                data=announce_data(location={"country": "JP", "timezone": "Mars/Olympus"}),
            )
        ),
        "data.location.timezone",
    ),
    "end-before-start": (
        json.dumps(
            _bad(
                summit_id="summit-c",
                type="SummitAnnounced",
                data=announce_data(schedule={"start": "2025-08-23", "end": "2025-08-22"}),
            )
        ),
        "end is before start",
    ),
    "duplicate-announcement": (
        json.dumps(_bad(type="SummitAnnounced", data=announce_data())),
        "announced",
    ),
    "stale-version": (json.dumps(_bad(version=1)), "version"),
    "wrong-position": (json.dumps(_bad(position=99)), "position"),
    "wrong-prev-hash": (json.dumps(_bad(prev_hash="a" * 64)), "prev_hash"),
    "recorded-in-the-future": (json.dumps(_bad(recorded_at="2999-01-01T00:00:00Z")), "future"),
    "recorded-before-the-head": (
        json.dumps(_bad(recorded_at="2000-01-01T00:00:00Z")),
        "before the log's last event",
    ),
    "recorded-at-not-utc": (
        json.dumps(_bad(recorded_at="2025-06-01T10:00:00+02:00")),
        "recorded_at",
    ),
    "reused-event-id": (json.dumps(_bad(event_id="twice")), "already used"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_line_is_refused_by_number_and_nothing_is_imported(db: Path, case: str) -> None:
    """Exit 1, the message names line 2 and the problem, and the log's head is unchanged."""
    bad, expected = BAD_LINES[case]
    before = head_of(db)
    first = dict(ANNOUNCE_B, event_id="twice") if case == "reused-event-id" else ANNOUNCE_B
    result = run(db, "import", "-", stdin=lines(first) + bad + "\n")
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert expected in result.output
    assert "nothing imported" in result.output
    assert head_of(db) == before


def test_lines_are_read_lazily() -> None:
    """A bad line is reported before any later line is read (the file is streamed)."""

    def source() -> Iterator[bytes]:
        yield (json.dumps(ANNOUNCE_B) + "\n").encode()
        yield b"not json\n"
        raise AssertionError("read past the bad line")

    with pytest.raises(ImportRejected) as caught:
        list(read_lines(source(), lambda size: None))
    assert caught.value.line == 2


def test_the_installed_script_imports_refuses_and_verifies(db: Path, tmp_path: Path) -> None:
    """A real `diplocal` process: exit codes and messages as documented."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines(ANNOUNCE_B) + '{"summit_id": "summit-new", "type": "Nope", "data": {}}\n')
    before = head_of(db)
    refused = subprocess.run(
        [DIPLOCAL, "--db", str(db), "import", str(bad)], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert "line 2" in refused.stderr and "type" in refused.stderr
    assert refused.stdout == ""
    assert head_of(db) == before
    good = tmp_path / "good.jsonl"
    good.write_text(lines(ANNOUNCE_B))
    env_run = subprocess.run(
        [DIPLOCAL, "import", str(good)],
        capture_output=True,
        text=True,
        check=False,
        env={"DIPLOCAL_DB": str(db), "PATH": "/usr/bin:/bin"},
    )
    assert env_run.returncode == 0, env_run.stderr
    assert env_run.stdout == "imported 1 events (skipped 0 already in the log)\n"
    verified = subprocess.run(
        [DIPLOCAL, "--db", str(db), "verify"], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0
    assert verified.stdout.startswith("ok: 6 events, head 6:")
    usage = subprocess.run([DIPLOCAL, "verify", "--nope"], capture_output=True, check=False)
    assert usage.returncode == 2


def test_an_upcaster_reads_an_older_schema_version(tmp_path: Path) -> None:
    """A made-up SummitPostponed v0 ("why") is imported, then read as v1 ("reason")."""

    def rename(data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        out["reason"] = out.pop("why")
        return out

    db = tmp_path / "old.sqlite3"
    old = {"summit_id": "summit-new", "type": "SummitPostponed", "schema_version": 0}
    text = lines(ANNOUNCE_B, {**old, "data": {"why": "the weather"}})
    refused = run(db, "import", "-", stdin=text)
    assert refused.exit_code == 1 and "no upcaster" in refused.output
    upcaster("SummitPostponed", 0)(rename)
    try:
        result = run(db, "import", "-", stdin=text)
        assert result.exit_code == 0, result.output
        store = open_store(str(db), system_clock)
        record = at(store, 2)
        assert (record.schema_version, record.data) == (0, {"why": "the weather"})
        assert record.event().reason == "the weather"  # type: ignore[union-attr]
        store.close()
    finally:
        del UPCASTERS[("SummitPostponed", 0)]
    store = open_store(str(db), system_clock)
    record = at(store, 2)
    with pytest.raises(UnknownSchema):
        record.event()
    assert store.verify().ok
    store.close()


# -- tokens --


def test_token_add_prints_a_token_and_stores_only_its_hash(tmp_path: Path) -> None:
    """The token is shown once; the store knows it by SHA-256 only, with its rights."""
    db = tmp_path / "tokens.sqlite3"
    writer = run(db, "token", "add", "desk")
    reader = run(db, "token", "add", "reader", "--read-only")
    assert writer.exit_code == 0 and reader.exit_code == 0
    write_token, read_token = writer.output.strip(), reader.output.strip()
    assert len(write_token) >= 32 and write_token != read_token
    store = open_store(str(db), system_clock)
    tokens = tokens_of(store)
    known = [tokens.find(hashlib.sha256(t.encode()).hexdigest()) for t in (write_token, read_token)]
    store.close()
    assert [(t.name, t.can_write) if t else None for t in known] == [
        ("desk", True),
        ("reader", False),
    ]
    assert write_token.encode() not in db.read_bytes()
    assert run(db, "token", "add").exit_code == 2


def test_a_progress_bar_is_drawn_only_on_a_terminal(db: Path, tmp_path: Path) -> None:
    """With stderr on a pseudo-terminal the bar reaches 100%; stdout keeps only the summary."""
    file = tmp_path / "log.jsonl"
    file.write_text(run(db, "export").output, encoding="utf-8")
    main_fd, terminal = pty.openpty()
    child = subprocess.run(
        [DIPLOCAL, "--db", str(tmp_path / "bar.sqlite3"), "import", str(file)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        check=False,
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main_fd)
    assert child.returncode == 0
    assert child.stdout == b"imported 5 events (skipped 0 already in the log)\n"
    assert b"importing" in drawn and b"100%" in drawn
