"""Event log speed on PostgreSQL: PostgresEventStore next to raw psycopg on the same server.

Run by hand: `.venv/bin/python bench/log_pg.py [--appends N] [--events N] [--rounds R]`. Starts a
throwaway server with tests/support/pgserver.py (fsync on, synchronous_commit on) and gives each
side a fresh database with the store's own table, indexes and triggers. Same payloads as
bench/log.py: raw writes json.dumps text (one INSERT per transaction; COPY for the import) and
reads with json.loads; ours validates, encodes canonically, hashes, takes the table lock, and
builds validated events on the way out. Medians of R rounds.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from log import clock, payload  # noqa: E402  (bench/log.py)
from support.pgserver import postgres_server  # noqa: E402

from events import Draft, NewEvent  # noqa: E402
from events.postgres import PostgresEventStore  # noqa: E402

RAW_INSERT = (
    "INSERT INTO events (position, event_id, summit_id, version, type, schema_version,"
    " recorded_at, recorded_by, data, prev_hash, hash)"
    " VALUES (%s, %s, 'summit', %s, 'SummitAnnounced', 1, '2025-06-01T00:00:00Z', NULL, %s,"
    " '0', '0')"
)
RAW_COPY = "COPY events (position, event_id, summit_id, version, type, schema_version, recorded_at,"
RAW_COPY += " recorded_by, data, prev_hash, hash) FROM STDIN"
_names = itertools.count(1)


def fresh_database(server: str) -> str:
    """A new database with the store's schema; its URL."""
    name = f"bench_{next(_names)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = server.rsplit("/", 1)[0] + "/" + name
    PostgresEventStore(url, clock()).close()
    return url


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def raw_rows(count: int) -> list[tuple[int, str, int, str]]:
    return [(n, str(uuid.uuid4()), n, json.dumps(payload(n))) for n in range(1, count + 1)]


def bench_append(server: str, count: int) -> tuple[float, float]:
    """Durable appends, one event per call (validated beforehand), vs one INSERT per transaction."""
    rows = raw_rows(count)
    with psycopg.connect(fresh_database(server), autocommit=True) as conn:

        def raw() -> None:
            for row in rows:
                with conn.transaction():
                    conn.execute(RAW_INSERT, row)

        raw_s = timed(raw)
    store = PostgresEventStore(fresh_database(server), clock())
    built = [NewEvent.of(f"summit-{n}", "SummitAnnounced", payload(n)).draft for n in range(count)]

    def ours() -> None:
        for draft in built:
            store.append([draft])

    ours_s = timed(ours)
    store.close()
    return count / ours_s, count / raw_s


def bench_import_and_read(server: str, count: int) -> dict[str, tuple[float, float]]:
    """NewEvent.of + import_events vs raw COPY; then read() + `.event()` vs SELECT + json.loads."""
    rows = raw_rows(count)
    with psycopg.connect(fresh_database(server), autocommit=True) as conn:

        def raw_import() -> None:
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(RAW_COPY) as copy:
                for n, event_id, version, data in rows:
                    fixed = ("summit", version, "SummitAnnounced", 1, "2025-06-01T00:00:00Z")
                    copy.write_row((n, event_id, *fixed, None, data, "0", "0"))

        raw_import_s = timed(raw_import)

        def raw_read() -> None:
            for row in conn.execute("SELECT * FROM events ORDER BY position"):
                json.loads(row[8])  # data (the columns of RECORD_FIELDS)

        raw_read_s = timed(raw_read)
    datas = [payload(n) for n in range(count)]
    store = PostgresEventStore(fresh_database(server), clock())

    def drafts() -> Iterator[Draft]:
        for n, data in enumerate(datas):
            yield NewEvent.of(f"summit-{n}", "SummitAnnounced", data).draft

    ours_import_s = timed(lambda: store.import_events(drafts(), expected_head=0))

    def ours_read() -> None:
        for record in store.read():
            record.event()  # parse and validate

    ours_read_s = timed(ours_read)
    store.close()
    return {
        "import": (count / ours_import_s, count / raw_import_s),
        "read": (count / ours_read_s, count / raw_read_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds: dict[str, list[tuple[float, float]]] = {"append*": [], "import": [], "read": []}
    with postgres_server() as server:
        gc.collect()
        gc.freeze()
        for _ in range(args.rounds):
            rounds["append*"].append(bench_append(server, args.appends))
            for name, result in bench_import_and_read(server, args.events).items():
                rounds[name].append(result)
    print(f"median of {args.rounds} rounds (ratio taken per round; rates are the medians too)")
    print(f"{'case':<8}{'ours/s':>12}{'raw/s':>12}{'ratio':>8}{'range':>13}")
    for name, results in rounds.items():
        ratios = sorted(ours / raw for ours, raw in results)
        ours = statistics.median(r[0] for r in results)
        raw = statistics.median(r[1] for r in results)
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        print(f"{name:<8}{ours:>12,.0f}{raw:>12,.0f}{statistics.median(ratios):>8.2f}{spread:>13}")
    print("append* = one event per append, validated before the clock starts")


if __name__ == "__main__":
    main()
