"""Raw references for bench/scale.py, each run as its own process like the `diplocal` it faces.

`python bench/_scale_raw.py import FILE DB`: parse JSON Lines, build each record of CONTRACT
section 2 (position, version, a new event_id, recorded_at), SHA-256 chain over canonical JSON,
`executemany` into a table shaped like the store's, one transaction.
`python bench/_scale_raw.py replay DB`: SELECT every row in position order and `json.loads` each
data. `python bench/_scale_raw.py verify EXPORT`: re-hash an exported log with hashlib and check
every link (the three sentences of CONTRACT section 2, no code of ours).
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE events (
    position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, summit_id TEXT NOT NULL,
    version INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    recorded_at TEXT NOT NULL, recorded_at_us INTEGER NOT NULL, recorded_by TEXT,
    data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (summit_id, version)
);
CREATE INDEX events_by_recorded_at ON events (recorded_at_us);
"""
ZERO = "0" * 64


def canonical(value: Any) -> bytes:
    """CONTRACT section 2's canonical JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rows(path: str) -> Iterator[tuple[Any, ...]]:
    """The table rows of a JSON Lines file in import form, hash-chained."""
    versions: dict[str, int] = {}
    prev = ZERO
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with open(path, "rb") as lines:
        for position, line in enumerate(lines, start=1):
            item = json.loads(line)
            summit_id = item["summit_id"]
            version = versions[summit_id] = versions.get(summit_id, 0) + 1
            recorded_at = item.get("recorded_at") or now
            stamp = datetime.fromisoformat(recorded_at)
            record = {
                "position": position,
                "event_id": str(uuid.uuid4()),
                "summit_id": summit_id,
                "version": version,
                "type": item["type"],
                "schema_version": item.get("schema_version", 1),
                "recorded_at": recorded_at,
                "recorded_by": item.get("recorded_by"),
                "data": item["data"],
                "prev_hash": prev,
            }
            prev = hashlib.sha256(canonical(record)).hexdigest()
            micros = int(stamp.timestamp()) * 1_000_000 + stamp.microsecond
            yield (
                position, record["event_id"], summit_id, version, record["type"],
                record["schema_version"], recorded_at, micros, record["recorded_by"],
                canonical(record["data"]).decode(), record["prev_hash"], prev,
            )  # fmt: skip


def import_(path: str, db: str) -> None:
    """The raw import."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 12)})", rows(path))
    conn.execute("COMMIT")
    count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    print(f"imported {count}")


def replay(db: str) -> None:
    """The raw read: every row, each data decoded."""
    conn = sqlite3.connect(db)
    count = 0
    query = (
        "SELECT position, summit_id, version, type, recorded_at, data FROM events ORDER BY position"
    )
    for row in conn.execute(query):
        json.loads(row[5])
        count += 1
    conn.close()
    print(f"read {count}")


def verify(path: str) -> None:
    """Re-hash an export and check the chain; exit 1 at the first bad line."""
    prev, count = ZERO, 0
    with open(path, "rb") as lines:
        for count, line in enumerate(lines, start=1):
            record = json.loads(line)
            claimed = record.pop("hash")
            if record["prev_hash"] != prev or record["position"] != count:
                raise SystemExit(f"bad link at {count}")
            if hashlib.sha256(canonical(record)).hexdigest() != claimed:
                raise SystemExit(f"bad hash at {count}")
            prev = claimed
    print(f"ok {count}")


def main() -> None:
    """Dispatch: import FILE DB | replay DB | verify EXPORT."""
    command, *args = sys.argv[1:]
    commands: dict[str, Callable[..., None]] = {
        "import": import_,
        "replay": replay,
        "verify": verify,
    }
    commands[command](*args)


if __name__ == "__main__":
    main()
