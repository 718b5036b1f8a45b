"""`diplocal import` end to end: a JSON Lines file into a new SQLite file and a new PostgreSQL log.

Run by hand: `.venv/bin/python bench/cli_import.py [--summits S]`. The file holds S summits of
ten events each (bench/replay.py's stories, 50 summits interleaved at a time), in import form.
PostgreSQL 15 runs throwaway on 127.0.0.1 (tests/support/pgserver.py). Prints the wall time of
each `diplocal import` (a new process, start-up included) and checks the log with `verify`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replay import story

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.pgserver import postgres_server  # noqa: E402

DIPLOCAL = str(Path(sys.executable).parent / "diplocal")


def write_file(path: Path, summits: int) -> int:
    lines = 0
    with path.open("w") as out:
        for batch in range(0, summits, 50):
            stories = {n: story(n) for n in range(batch, min(batch + 50, summits))}
            for step in range(10):
                for n, events in stories.items():
                    event_type, data = events[step]
                    record = {"summit_id": f"summit-{n:06d}", "type": event_type, "data": data}
                    out.write(json.dumps(record) + "\n")
                    lines += 1
    return lines


def timed_import(db: str, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([DIPLOCAL, "--db", db, "import", str(path)], check=True, capture_output=True)
    spent = time.perf_counter() - start
    subprocess.run([DIPLOCAL, "--db", db, "verify"], check=True, capture_output=True)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summits", type=int, default=1000, help="10 events each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, postgres_server() as url:
        path = Path(folder) / "events.jsonl"
        lines = write_file(path, args.summits)
        results = {
            "sqlite": timed_import(str(Path(folder) / "log.sqlite3"), path),
            "postgres": timed_import(url, path),
        }
    for name, seconds in results.items():
        print(f"{name:<9}{lines:,} events in {seconds:.2f} s ({lines / seconds:,.0f}/s)")


if __name__ == "__main__":
    main()
