"""Every ```sh block of README.md, run with bash as written, in README order (issue 11).

The README cannot drift from the program: each block runs under `set -euo pipefail` and fails
the test on a non-zero exit, and the outputs the README promises are checked. The blocks run
as written except for these substitutions, and only these, made by this test:

- every `/tmp/diplocal-*.sqlite3` path and `/var/lib/diplocal` become paths in a fresh
  temporary folder (a fresh store for every run);
- port 8000 becomes a free port (a fresh one for each block);
- `PGADMIN` is set to a superuser URL of the test PostgreSQL server (the `pg_server` fixture:
  PostgreSQL is required, its absence is an error, never a skip);
- the working directory is a fresh temporary folder in which `.venv`, `calendar_core`,
  `bench`, `tests` and `pyproject.toml` are symlinks to the repository's, so the files the
  blocks write (desk.token, log.jsonl, then.json...) never land in the repository. The blocks
  share that folder: later ones read what earlier ones wrote (desk.token, log.jsonl).

The environment is the test's own without DIPLOCAL_DB, DIPLOCAL_BASE_URL and DIPLOCAL_UID_DOMAIN,
with XDG_DATA_HOME (the default store's home) and XDG_CONFIG_HOME (the snapshot key's, set in
conftest.py) in temporary folders, so a block can reach no store but the ones it names.

The first block (`make serve`, `make test`) is the exception: it is checked to be exactly those
two commands, which tests/test_make_serve.py (`make serve` on a fresh clone) and CI's
`make test` run. Whatever a block leaves running is killed with its process group. The
PostgreSQL block installs psycopg by its pin (an editable `pip install -e .` from the temporary
folder would point the shared .venv at it); a test holds that pin to pyproject's extra.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINKED = (".venv", "calendar_core", "bench", "tests", "pyproject.toml")
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TMP_STORE = re.compile(r"/tmp/(diplocal-[A-Za-z0-9_.-]*\.sqlite3)")
PORT = re.compile(r"\b8000\b")
HEAD = re.compile(r"[0-9]+:[0-9a-f]{64}")
BLOCK_TIMEOUT = 300  # seconds; a block that hangs fails instead of stalling the run
STOP_GRACE = 10  # seconds for what a block stopped (`kill %1`) to finish stopping

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Block:
    """One ```sh block: where it starts in README.md and its text."""

    line: int
    text: str


@dataclass(frozen=True)
class Ran:
    """A block as run: the script after substitution, its output and how long it took."""

    block: Block
    script: str
    stdout: str
    stderr: str
    seconds: float


def _blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in BLOCK.finditer(text)
    ]


def _substitute(text: str, stores: Path) -> str:
    """The documented substitutions: temporary stores and a free port."""
    text = TMP_STORE.sub(lambda match: str(stores / match.group(1)), text)
    text = text.replace("/var/lib/diplocal", str(stores / "var-lib-diplocal"))
    return PORT.sub(str(free_port()), text)


def _running(group: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def _end_group(group: int) -> str:
    """End what the block left in its process group: a moment to finish stopping, then SIGKILL."""
    deadline = time.monotonic() + STOP_GRACE
    while _running(group):
        if time.monotonic() > deadline:
            os.killpg(group, signal.SIGKILL)
            return ", left running: killed"
        time.sleep(0.1)  # polling a bounded wait, not a timing assertion
    return ""


def _run(block: Block, work: Path, stores: Path, env: dict[str, str], logs: Path) -> Ran:
    """Run one block with bash in its own process group; fail on a non-zero exit."""
    script = _substitute(block.text, stores)
    out, err = logs / f"line-{block.line}.out", logs / f"line-{block.line}.err"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            ["bash", "-c", "set -euo pipefail\n" + script],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        code: int | None = None
        try:
            code = process.wait(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if code is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            left = _end_group(process.pid)
    ran = Ran(
        block,
        script,
        out.read_text(encoding="utf-8", errors="replace"),
        err.read_text(encoding="utf-8", errors="replace"),
        time.monotonic() - started,
    )
    print(f"README.md line {block.line}: {ran.seconds:.1f} s{left}")
    assert code == 0, (
        f"README.md block at line {block.line} "
        + ("timed out" if code is None else f"exited {code}")
        + f":\n{script}\n--- stdout:\n{ran.stdout}\n--- stderr:\n{ran.stderr}"
    )
    return ran


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects in a block's output (curl's bodies, between the server's log lines)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    at = text.find('{"')
    while at >= 0:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            end = at + 1
        else:
            found.append(value)
        at = text.find('{"', end)
    return found


def _exported_head(work: Path) -> str:
    """POS:HASH of the last record of the export the blocks wrote (log.jsonl)."""
    last = json.loads((work / "log.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    return f"{last['position']}:{last['hash']}"


def _demo_events() -> int:
    return len((ROOT / "calendar_core" / "demo.jsonl").read_text(encoding="utf-8").splitlines())


# What each block promises, keyed by a command only that block runs.
def _tokens(ran: Ran, work: Path) -> None:
    for name in ("desk", "archive"):
        token = (work / f"{name}.token").read_text(encoding="utf-8")
        assert re.fullmatch(r"\S{16,}\n", token), f"token add prints the token alone: {token!r}"
    listed = {line.split()[0]: line.split()[1:] for line in ran.stdout.splitlines()[:2]}
    assert set(listed) == {"desk", "archive"}, f"token list names both\n{ran.stdout}"
    assert "write" in listed["desk"] and "read-only" in listed["archive"], ran.stdout


def _append(ran: Ran, work: Path) -> None:
    record, history = _json_objects(ran.stdout)
    assert record["version"] == 1 and record["type"] == "SummitAnnounced", record
    assert record["event_id"] == "7d9c2f0e-6a53-4d0a-9d55-3c2b1f1e9a10"
    assert record["recorded_by"] == "desk", "written with the desk token"
    assert history["events"] == [record], "the history holds the recorded event"


def _cli(ran: Ran, work: Path) -> None:
    events = _demo_events()
    assert ran.stdout.startswith("diplocal, version "), "--version"
    verified = f"ok: {events} events, head {_exported_head(work)}"
    assert verified in ran.stdout.splitlines(), f"verify prints {verified}\n{ran.stdout}"
    assert len((work / "log.jsonl").read_text().splitlines()) == events
    then = json.loads((work / "then.json").read_text())
    assert then["summits"], "the calendar as known on 2025-08-20 is not empty"
    assert (work / "then.ics").read_text().startswith("BEGIN:VCALENDAR")


def _audit(ran: Ran, work: Path) -> None:
    head = _exported_head(work)
    assert head.startswith(f"{_demo_events()}:") and HEAD.fullmatch(head), head
    assert ran.stdout == f"ok: {_demo_events()} records, head {head}\n", "the head verify printed"


def _rebuild(ran: Ran, work: Path) -> None:
    assert json.loads((work / "audited.json").read_text())["summits"]


def _healthz(ran: Ran, work: Path) -> None:
    (health,) = _json_objects(ran.stdout)
    assert health["status"] == "ok", health
    assert health["chain"]["ok"] is True, health


def _postgres(ran: Ran, work: Path) -> None:
    _healthz(ran, work)
    assert (work / "desk.token").read_text(encoding="utf-8").strip(), "the app role adds a token"


def _bench(ran: Ran, work: Path) -> None:
    assert ran.stdout.strip(), "the benchmarks print their figures"


PROMISES: dict[str, Callable[[Ran, Path], None]] = {
    "token add archive": _tokens,
    "/api/summits/kr-cn-2025-11-gyeongju/events": _append,
    "diplocal verify ": _cli,
    "python3 - log.jsonl": _audit,
    "diplocal-audit.sqlite3 .venv/bin/diplocal replay": _rebuild,
    "DIPLOCAL_DB=/var/lib/diplocal": _healthz,
    'psql "$PGADMIN"': _postgres,
    "bench/scale.py": _bench,
}


def test_the_first_block_is_the_two_commands() -> None:
    """`make serve` and `make test`, nothing else: tests/test_make_serve.py and CI run them."""
    first = _blocks()[0]
    commands = [line.split("#", 1)[0].strip() for line in first.text.splitlines()]
    assert commands == ["make serve", "make test"]


def test_the_postgres_extra_in_the_readme_is_the_one_in_pyproject() -> None:
    """The deploy block installs psycopg with the pin of the `postgres` extra."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (pin,) = extra["optional-dependencies"]["postgres"]
    assert f'.venv/bin/pip install --quiet "{pin}"' in README.read_text()


def test_every_readme_block_runs_as_written(tmp_path: Path, pg_server: str) -> None:
    """Each block after the first, in order, in one shared folder: exit 0 and what it promises."""
    work, stores, logs = tmp_path / "work", tmp_path / "stores", tmp_path / "logs"
    for folder in (work, stores, logs):
        folder.mkdir()
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    env = {**os.environ, "PGADMIN": pg_server}
    for name in ("DIPLOCAL_DB", "DIPLOCAL_BASE_URL", "DIPLOCAL_UID_DOMAIN"):
        env.pop(name, None)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")

    kept: dict[str, int] = {}
    for block in _blocks()[1:]:
        ran = _run(block, work, stores, env, logs)
        for key, promise in PROMISES.items():
            if key in block.text:  # checked at once: a later block may rewrite its files
                promise(ran, work)
                kept[key] = kept.get(key, 0) + 1
    assert kept == dict.fromkeys(PROMISES, 1), "each promise belongs to exactly one block"
