"""Event log speed: SQLiteEventStore next to raw sqlite3 on the same file settings and payload.

Run by hand: `.venv/bin/python bench/log.py [--events N] [--rounds R]`. Both sides use WAL,
synchronous=FULL and the store's own table (same columns, keys and indexes), in fresh files under
a temp directory, and start from the same ~350-byte data dicts: raw writes them with json.dumps and
reads them with json.loads; ours validates them (NewEvent.of), encodes canonically and hashes on the
way in (`append` of one draft; `import_events` of all drafts at an expected head), and reads records
(`store.read()`) and their validated events (`record.event()`) on the way out. "record_event" is the
service's one write path (event id look-up, the summit's stream read and folded, the rules, then
`append`), for comparison with "append". Medians of R rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from calendar_core.service import Submission, record_event
from events import Draft, FixedClock, NewEvent
from events.sqlite import SQLiteEventStore

TARGETS: dict[str, float | None] = {
    "append": 0.8,
    "append*": 0.8,
    "record": None,
    "import": 0.5,
    "read": 0.5,
}


def payload(n: int) -> dict[str, Any]:
    """A SummitAnnounced data object of about 300 bytes of canonical JSON, its times varying."""
    day = f"{2025 + n % 7}-{1 + n // 7 % 12:02d}-{1 + n // 84 % 28:02d}"
    return {
        "title": f"Korea-Japan summit {n}",
        "kind": "bilateral_summit",
        "participants": [
            {"name": "Lee Jae-myung", "country": "KR", "role": "President"},
            {"name": "Ishiba Shigeru", "country": "JP", "role": "Prime Minister"},
        ],
        "location": {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"},
        "schedule": {"start": f"{day}T{n % 23:02d}:{n % 60:02d}", "end": f"{day}T23:{n % 59:02d}"},
        "status": "confirmed",
    }


def clock() -> FixedClock:
    return FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(microseconds=7))


def raw_connect(path: Path) -> sqlite3.Connection:
    SQLiteEventStore(path, clock()).close()  # same table, indexes and triggers
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


RAW_INSERT = (
    "INSERT INTO events (position, event_id, summit_id, version, type, schema_version,"
    " recorded_at, recorded_by, data, prev_hash, hash)"
    " VALUES (?, ?, 'summit', ?, 'SummitAnnounced', 1, '2025-06-01T00:00:00Z', NULL, ?,"
    " '0', '0')"
)


def raw_rows(count: int) -> list[tuple[int, str, int, dict[str, Any]]]:
    """Rows for the raw side: its data still to be written as JSON, as ours must too."""
    return [(n, str(uuid.uuid4()), n, payload(n)) for n in range(1, count + 1)]


def encoded(rows: list[tuple[int, str, int, dict[str, Any]]]) -> Iterator[tuple[Any, ...]]:
    for n, event_id, version, data in rows:
        yield n, event_id, version, json.dumps(data)


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_append(folder: Path, count: int, *, how: str = "append") -> tuple[float, float]:
    """Durable appends, one event per call, vs raw one INSERT per transaction.

    The two sides take turns, one append each, on two files of the same folder, so that a
    change in the disk's fsync latency during the run falls on both alike. `how`: "append"
    validates each event (`NewEvent.of`) and appends its draft; "append*" appends drafts
    validated before the clock starts (what `append` itself costs, the validation being the
    caller's work); "record" goes through `record_event`, the write path the API and CLI use.
    """
    rows = raw_rows(count)
    conn = raw_connect(folder / f"raw-{how}.sqlite3")
    store = SQLiteEventStore(folder / f"ours-{how}.sqlite3", clock())
    datas = [payload(n) for n in range(count)]
    built = [NewEvent.of(f"summit-{n}", "SummitAnnounced", d).draft for n, d in enumerate(datas)]
    clock_now = time.perf_counter
    raw_s = ours_s = 0.0
    gc.collect()
    for n in range(count):
        position, event_id, version, data = rows[n]
        start = clock_now()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(RAW_INSERT, (position, event_id, version, json.dumps(data)))
        conn.execute("COMMIT")
        middle = clock_now()
        if how == "append":
            store.append([NewEvent.of(f"summit-{n}", "SummitAnnounced", datas[n]).draft])
        elif how == "append*":
            store.append([built[n]])
        else:
            outcome = record_event(store, Submission(f"summit-{n}", "SummitAnnounced", datas[n]))
            assert outcome.record is not None, outcome.message
        raw_s, ours_s = raw_s + middle - start, ours_s + clock_now() - middle
    conn.close()
    store.close()
    return count / ours_s, count / raw_s


def bench_import(folder: Path, count: int) -> tuple[float, float]:
    """NewEvent.of for each event, then import_events of the drafts, vs raw executemany, each in
    one transaction (the rules' ImportCheck is the caller's: see bench/cli_import.py)."""
    rows = raw_rows(count)
    conn = raw_connect(folder / "raw-import.sqlite3")

    def raw() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(RAW_INSERT, encoded(rows))
        conn.execute("COMMIT")

    raw_s = timed(raw)
    conn.close()
    datas = [payload(n) for n in range(count)]
    store = SQLiteEventStore(folder / "ours-import.sqlite3", clock())

    def drafts() -> Iterator[Draft]:
        for n, data in enumerate(datas):
            yield NewEvent.of(f"summit-{n}", "SummitAnnounced", data).draft

    ours_s = timed(lambda: store.import_events(drafts(), expected_head=0))
    store.close()
    return count / ours_s, count / raw_s


def bench_read(folder: Path, count: int) -> tuple[float, float]:
    """read() + `.event()` for every record vs raw SELECT + json.loads, on the same file."""
    path = folder / "ours-import.sqlite3"  # written by bench_import
    conn = sqlite3.connect(path, isolation_level=None)

    def raw() -> None:
        for row in conn.execute("SELECT * FROM events ORDER BY position"):
            json.loads(row[8])  # data (the columns of RECORD_FIELDS)

    raw_s = timed(raw)
    conn.close()
    store = SQLiteEventStore(path, clock())

    def ours() -> None:
        for record in store.read():
            record.event()  # parse and validate

    ours_s = timed(ours)
    store.close()
    return count / ours_s, count / raw_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5, help="raw and ours alternate each round")
    args = parser.parse_args()
    gc.collect()
    gc.freeze()  # what a long-running server does after start-up; the same for both sides
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in TARGETS}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="diplocal-bench-") as tmp:
            folder = Path(tmp)
            for how in ("append", "append*", "record"):
                rounds[how].append(bench_append(folder, args.appends, how=how))
            rounds["import"].append(bench_import(folder, args.events))
            rounds["read"].append(bench_read(folder, args.events))
    print(f"median of {args.rounds} rounds (ratio taken per round; rates are the medians too)")
    print(f"{'case':<8}{'ours/s':>12}{'raw/s':>12}{'ratio':>8}{'range':>13}{'target':>8}  verdict")
    for name, results in rounds.items():
        ratios = sorted(ours / raw for ours, raw in results)
        ratio, target = statistics.median(ratios), TARGETS[name]
        ours = statistics.median(r[0] for r in results)
        raw = statistics.median(r[1] for r in results)
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        verdict = "-" if target is None else "PASS" if ratio >= target else "MISS"
        goal = "" if target is None else f"{target:.2f}"
        figures = f"{ours:>12,.0f}{raw:>12,.0f}{ratio:>8.2f}{spread:>13}{goal:>8}"
        print(f"{name:<8}{figures}  {verdict}")
    print("append* = the same appends with the events validated before the clock starts")
    print("record = record_event, the service's write path (rules and stream read included)")


if __name__ == "__main__":
    main()
