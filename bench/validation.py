"""What validating one event costs: ours next to the same nested models with no checks of ours.

Run by hand: `.venv/bin/python bench/validation.py [--events N]`. The event is bench/log.py's
~350-byte SummitAnnounced, its schedule different for each event. Three settings, each the best
of 5 rounds: "hot" validates one dict again and again; "first sight" validates N fresh dicts in
a loop; "after fsync" validates one fresh dict right after each durable one-row SQLite commit,
as a server's append does (the caches of the CPU are cold then). "floor" is pydantic with the
same models, strict and frozen, and none of our checks, caches or validators.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from log import RAW_INSERT, payload, raw_connect, raw_rows
from pydantic import BaseModel, ConfigDict

from events.schema import validate_event

Validate = Callable[[dict[str, Any]], object]


class _Plain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Schedule(_Plain):
    start: str
    end: str | None = None


class _Participant(_Plain):
    name: str
    country: str | None = None
    organization: str | None = None
    role: str | None = None


class _Location(_Plain):
    city: str | None = None
    country: str
    venue: str | None = None
    timezone: str


class _Announced(_Plain):
    type: Literal["SummitAnnounced"] = "SummitAnnounced"
    title: str
    kind: str
    participants: list[_Participant]
    location: _Location
    schedule: _Schedule
    status: str


def ours(data: dict[str, Any]) -> object:
    """The project's validation of the event (what `NewEvent.of` runs)."""
    return validate_event("SummitAnnounced", data)


CASES: dict[str, Validate] = {"ours": ours, "floor": _Announced.model_validate}


def hot(validate: Validate, count: int, start: int) -> float:
    data = payload(start)
    begin = time.perf_counter()
    for _ in range(count):
        validate(data)
    return (time.perf_counter() - begin) / count


def first_sight(validate: Validate, count: int, start: int) -> float:
    datas = [payload(n) for n in range(start, start + count)]
    gc.collect()
    begin = time.perf_counter()
    for data in datas:
        validate(data)
    return (time.perf_counter() - begin) / count


def after_fsync(validate: Validate, count: int, start: int) -> float:
    datas = [payload(n) for n in range(start, start + count)]
    spent = 0.0
    with tempfile.TemporaryDirectory() as folder:
        conn = raw_connect(Path(folder) / "raw.sqlite3")
        for (position, event_id, version, _), data in zip(raw_rows(count), datas, strict=True):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(RAW_INSERT, (position, event_id, version, json.dumps(data)))
            conn.execute("COMMIT")
            begin = time.perf_counter()
            validate(data)
            spent += time.perf_counter() - begin
        conn.close()
    return spent / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    settings = {"hot": hot, "first sight": first_sight, "after fsync": after_fsync}
    best = {(s, c): float("inf") for s in settings for c in CASES}
    for round_no in range(5):
        for setting, measure in settings.items():
            for case, validate in CASES.items():
                start = (round_no * len(CASES) + list(CASES).index(case)) * args.events * 3
                best[setting, case] = min(
                    best[setting, case], measure(validate, args.events, start)
                )
    print(f"{'setting':<14}{'ours us':>10}{'floor us':>10}{'ours/floor':>12}")
    for setting in settings:
        mine, floor = best[setting, "ours"] * 1e6, best[setting, "floor"] * 1e6
        print(f"{setting:<14}{mine:>10.1f}{floor:>10.1f}{mine / floor:>12.2f}")


if __name__ == "__main__":
    main()
