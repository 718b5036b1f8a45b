"""Calendar replay speed: building the calendar from a SQLite log next to reading its rows raw.

Run by hand: `.venv/bin/python bench/replay.py [--summits S] [--rounds R]`. One SQLite file (the
store's own schema, WAL) holds S summits with 10 events each, interleaved as a desk would record
them. "raw" is `SELECT` of the same columns in position order plus `json.loads` of each `data`;
"replay" is `build(store.iter_entries())` (the columns a projection reads, each `data` decoded,
folded summit by summit); "entries" is that read alone, without folding; "records" is the full
`iter_log` read (hashes and all, each `data` decoded) for comparison;
"as-of" is the same replay cut at the middle recorded time. Both sides read the same rows from the
same file; best of R rounds, alternating, in CPU time of this process.
Ratio = replay events/s / raw events/s (target >= 0.5).
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from calendar_core.projection import build
from events import FixedClock, NewEvent
from events.record import parse_stamp
from events.sqlite import SQLiteEventStore

TARGET = 0.5
PLACES = [
    {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"},
    {"city": "Washington", "country": "US", "timezone": "America/New_York"},
    {"city": "Berlin", "country": "DE", "timezone": "Europe/Berlin", "venue": "Kanzleramt"},
]
LEE = {"name": "Lee Jae-myung", "country": "KR", "role": "President"}
OTHERS = [
    {"name": "Ishiba Shigeru", "country": "JP", "role": "Prime Minister"},
    {"name": "Donald Trump", "country": "US", "role": "President"},
    {"name": "Friedrich Merz", "country": "DE", "role": "Chancellor"},
]


def story(n: int) -> list[tuple[str, dict[str, Any]]]:
    """Ten events one summit goes through, from announcement to completion."""
    year, month, day = 2025 + n % 3, 1 + n % 12, 1 + n % 26
    place, guest = PLACES[n % 3], OTHERS[n % 3]
    source = {"url": f"https://news.example.org/{n}", "publisher": "Yonhap"}
    return [
        (
            "SummitAnnounced",
            {
                "title": f"Summit {n}",
                "kind": "bilateral_summit",
                "participants": [LEE, guest],
                "location": place,
                "schedule": {"start": f"{year}-{month:02d}"},
                "status": "tentative",
                "source": source,
            },
        ),
        ("SummitNoted", {"note": "Both offices are preparing the visit.", "source": source}),
        ("SummitConfirmed", {"source": {"url": f"https://mofa.example.org/{n}"}}),
        (
            "ScheduleRefined",
            {
                "schedule": {
                    "start": f"{year}-{month:02d}-{day:02d}",
                    "end": f"{year}-{month:02d}-{day + 1:02d}",
                }
            },
        ),
        ("ParticipantsChanged", {"added": [{"name": "Foreign minister", "country": "KR"}]}),
        ("SummitPostponed", {"reason": "A typhoon closes the airports."}),
        (
            "SummitRescheduled",
            {
                "schedule": {
                    "start": f"{year}-{month:02d}-{day + 1:02d}T10:30",
                    "end": f"{year}-{month:02d}-{day + 1:02d}T12:00",
                },
                "reason": "The typhoon passed.",
            },
        ),
        ("DetailsAmended", {"venue": "State guest house"}),
        ("SummitNoted", {"note": "Opposition calls the date premature.", "disputed": True}),
        (
            "SummitCompleted",
            {
                "outcome": "A joint statement.",
                "documents": [f"https://mofa.example.org/{n}/statement"],
            },
        ),
    ]


def items(summits: int) -> Iterator[tuple[str, NewEvent]]:
    """Stories interleaved in batches of 50 summits, as a desk would record them."""
    for batch in range(0, summits, 50):
        stories = {f"summit-{n:06d}": story(n) for n in range(batch, min(batch + 50, summits))}
        for step in range(10):
            for sid, events in stories.items():
                event_type, data = events[step]
                yield sid, NewEvent.of(event_type, data)


def timed(run: Callable[[], object]) -> float:
    """CPU seconds of this process (other jobs on a shared 2-core machine skew wall time)."""
    gc.collect()
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summits", type=int, default=5000, help="10 events each")
    parser.add_argument("--rounds", type=int, default=5, help="best of N, raw and ours alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.sqlite3"
        clock = FixedClock(datetime(2025, 1, 1, tzinfo=UTC), tick=timedelta(seconds=3))
        store = SQLiteEventStore(path, clock)
        count = store.import_events(items(args.summits))
        head = store.head()
        assert head is not None and head.position == count
        middle = store.at(count // 2)
        assert middle is not None
        cut = parse_stamp(middle.recorded_at)
        conn = sqlite3.connect(path)
        columns = (
            "position, event_id, summit_id, version, type, schema_version,"
            " recorded_at, recorded_by, data, prev_hash, hash"
        )

        def raw() -> None:
            rows = conn.execute(f"SELECT {columns} FROM events ORDER BY position")
            for row in rows:
                json.loads(row[8])

        def replay() -> None:
            calendar = build(store.iter_entries())
            assert calendar.position == count

        def entries() -> None:
            for _ in store.iter_entries():
                pass

        def records() -> None:
            for record in store.iter_log():
                record.data  # noqa: B018 (decoded on first use)

        def as_of() -> None:
            calendar = build(store.iter_entries(until_recorded_at=cut))
            assert calendar.position == count // 2

        cases = {
            "raw": raw,
            "records": records,
            "entries": entries,
            "replay": replay,
            "as-of": as_of,
        }
        best = dict.fromkeys(cases, float("inf"))
        for _ in range(args.rounds):
            for name, run in cases.items():
                best[name] = min(best[name], timed(run))
        conn.close()
        store.close()
    per_second = {
        "raw": count / best["raw"],
        "records": count / best["records"],
        "entries": count / best["entries"],
        "replay": count / best["replay"],
        "as-of": (count // 2) / best["as-of"],
    }
    print(f"{count:,} events, {args.summits:,} summits, best of {args.rounds}")
    print(f"{'case':<8}{'events/s':>12}{'ratio':>8}{'target':>8}  verdict")
    print(f"{'raw':<8}{per_second['raw']:>12,.0f}{1.0:>8.2f}")
    for name, what in (("records", "iter_log read only"), ("entries", "iter_entries read only")):
        ratio = per_second[name] / per_second["raw"]
        print(f"{name:<8}{per_second[name]:>12,.0f}{ratio:>8.2f}  ({what})")
    for name in ("replay", "as-of"):
        ratio = per_second[name] / per_second["raw"]
        verdict = "PASS" if ratio >= TARGET else "MISS"
        print(f"{name:<8}{per_second[name]:>12,.0f}{ratio:>8.2f}{TARGET:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
