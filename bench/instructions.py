"""Instructions per event of the event log's steps, counted by valgrind (steady under load).

Run by hand: `.venv/bin/python bench/instructions.py [--events N] [CASE ...]` (needs valgrind).
Each case runs under `valgrind --tool=callgrind` twice after the same set-up for N events, once
doing its work over them and once not; the difference over N is what one event costs. The
events are bench/log.py's ~350-byte SummitAnnounced dicts. Counts are not times: SHA-256 costs
far more instructions under valgrind (no SHA extensions) than it takes time, and C code like
json.loads runs more instructions per nanosecond than the interpreter does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from log import RAW_INSERT, clock, encoded, payload, raw_connect, raw_rows

from calendar_core.projection import build
from events import Draft, NewEvent
from events.chain import Tip
from events.schema import validate_event
from events.sqlite import SQLiteEventStore

Case = Callable[[int], Callable[[], object]]  # set-up for N events -> the work to count


def _datas(count: int) -> list[dict[str, object]]:
    return [payload(n) for n in range(count)]


def _drafts(count: int) -> list[Draft]:
    return [
        NewEvent.of(f"summit-{n}", "SummitAnnounced", d).draft for n, d in enumerate(_datas(count))
    ]


def _store(count: int) -> SQLiteEventStore:
    store = SQLiteEventStore(Path(tempfile.mkdtemp()) / "log.sqlite3", clock())
    store.import_events(_drafts(count), expected_head=0)
    return store


def validate(count: int) -> Callable[[], object]:
    datas = _datas(count)
    return lambda: [validate_event("SummitAnnounced", data) for data in datas]


def new_event(count: int) -> Callable[[], object]:
    datas = _datas(count)
    return lambda: [
        NewEvent.of(f"summit-{n}", "SummitAnnounced", data) for n, data in enumerate(datas)
    ]


def seal(count: int) -> Callable[[], object]:
    drafts, tip, now = _drafts(count), Tip(None), clock()()
    return lambda: [tip.seal(draft, 1, now) for draft in drafts]


def import_(count: int) -> Callable[[], object]:
    drafts = _drafts(count)
    store = SQLiteEventStore(Path(tempfile.mkdtemp()) / "log.sqlite3", clock())
    return lambda: store.import_events(drafts, expected_head=0)


def raw_import(count: int) -> Callable[[], object]:
    rows = raw_rows(count)
    conn = raw_connect(Path(tempfile.mkdtemp()) / "raw.sqlite3")

    def run() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(RAW_INSERT, encoded(rows))
        conn.execute("COMMIT")

    return run


def records(count: int) -> Callable[[], object]:
    store = _store(count)
    return lambda: list(store.read())


def read(count: int) -> Callable[[], object]:
    store = _store(count)
    return lambda: [record.event() for record in store.read()]


def replay(count: int) -> Callable[[], object]:
    store = _store(count)
    return lambda: build(store.read())


def raw_read(count: int) -> Callable[[], object]:
    conn = sqlite3.connect(_store(count).path)
    return lambda: [json.loads(row[8]) for row in conn.execute("SELECT * FROM events")]


CASES: dict[str, Case] = {
    "validate": validate,
    "NewEvent.of": new_event,
    "seal": seal,
    "import": import_,
    "raw import": raw_import,
    "records": records,
    "read": read,
    "replay": replay,
    "raw read": raw_read,
}


def counted(case: str, count: int, run: bool) -> int:
    """Instructions of one process that sets up `count` events and, if `run`, does the work."""
    command = [sys.executable, __file__, "--inside", case, str(count), str(int(run))]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stderr
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise SystemExit(f"no count from valgrind for {case}:\n{out}")
    return int(found.group(1))


def main() -> None:
    if sys.argv[1:2] == ["--inside"]:
        case, count, run = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
        work = CASES[case](count)
        if run:
            work()
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("cases", nargs="*", help=f"some of: {', '.join(CASES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    print(f"{'case':<14}{'instructions/event':>20}")
    for case in args.cases or CASES:
        spent = counted(case, args.events, True) - counted(case, args.events, False)
        print(f"{case:<14}{spent // args.events:>20,}")


if __name__ == "__main__":
    main()
