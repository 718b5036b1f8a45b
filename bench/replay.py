"""Calendar replay speed: building the calendar from a SQLite log next to reading its rows raw.

Run by hand: `.venv/bin/python bench/replay.py [--summits S] [--rounds R]`. One SQLite file (the
store's own schema, WAL) holds S summits with 10 events each, interleaved as a desk would record
them. "raw" is `SELECT` of the same columns in position order plus `json.loads` of each `data`;
"replay" is `build(store.read())` (every record, its `data` decoded, each event validated again by
`record.event()` and folded summit by summit); "records" is the `read()` alone, without events or
folding; "events" is the read plus `record.event()` for each record, without folding;
"as-of" is the same replay cut at the middle recorded time (`position_of` over the hashed
recorded_at, then `build(store.read(until=...))`). Both sides read the same rows from the same
file; best of R rounds, alternating, in CPU time of this process.
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

from calendar_core.point import Point, position_of
from calendar_core.projection import build
from events import Draft, FixedClock, NewEvent
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


def batches(summits: int) -> Iterator[list[Draft]]:
    """Stories interleaved in batches of 50 summits, as a desk would record them."""
    for batch in range(0, summits, 50):
        stories = {f"summit-{n:06d}": story(n) for n in range(batch, min(batch + 50, summits))}
        yield [
            NewEvent.of(sid, *events[step]).draft
            for step in range(10)
            for sid, events in stories.items()
        ]


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
        count = 0  # one import per batch: an import stamps its events with one recorded_at
        for batch in batches(args.summits):
            count += store.import_events(batch, expected_head=count)
        head = store.head()
        assert head is not None and head.position == count
        cut = next(store.read(after=count // 2 - 1, limit=1)).instant
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
            calendar = build(store.read())
            assert calendar.position == count

        def records() -> None:
            for _ in store.read():
                pass

        def events() -> None:
            for record in store.read():
                record.event()

        def as_of() -> None:
            until = position_of(store, Point(as_of=cut), count)
            calendar = build(store.read(until=until))
            assert calendar.position == until == count // 2

        cases = {
            "raw": raw,
            "records": records,
            "events": events,
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
        "events": count / best["events"],
        "replay": count / best["replay"],
        "as-of": (count // 2) / best["as-of"],
    }
    print(f"{count:,} events, {args.summits:,} summits, best of {args.rounds}")
    print(f"{'case':<8}{'events/s':>12}{'ratio':>8}{'target':>8}  verdict")
    print(f"{'raw':<8}{per_second['raw']:>12,.0f}{1.0:>8.2f}")
    for name, what in (("records", "read() only"), ("events", "read() + record.event()")):
        ratio = per_second[name] / per_second["raw"]
        print(f"{name:<8}{per_second[name]:>12,.0f}{ratio:>8.2f}  ({what})")
    for name in ("replay", "as-of"):
        ratio = per_second[name] / per_second["raw"]
        verdict = "PASS" if ratio >= TARGET else "MISS"
        print(f"{name:<8}{per_second[name]:>12,.0f}{ratio:>8.2f}{TARGET:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
