"""Feed rendering speed: FeedRenderer next to icalendar's own build of the same events.

Run by hand: `.venv/bin/python bench/feed.py [--sizes 100,1000,10000] [--repeat 3]`.

(a) A full feed of N summits with cold caches (new renderer, VTIMEZONE caches cleared) against
    the reference: the same VEVENTs built with icalendar from precomputed values,
    `add_missing_timezones()` over the same years, sorted VTIMEZONEs, `to_ical()`.
    Target: ours <= 1.1x the reference.
(b) After one new event in a 1,000-summit calendar (one summit at a new version), the next
    feed from the warm renderer against a full cold render. Target: <= 5%.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event, Timezone, vDuration

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from interop.feedcases import OPTIONS, generated_summits

from calendar_core import vtimezone
from calendar_core.ical import FeedRenderer
from calendar_core.summit import Summit

LAST_MODIFIED = "2025-07-01T09:30:00Z"
TARGET_FULL = 1.1
TARGET_INCREMENT = 0.05


def clear_caches() -> None:
    """Forget everything a previous render left behind."""
    vtimezone.vtimezone_bytes.cache_clear()
    vtimezone.observances.cache_clear()


def ours_cold(summits: list[Summit]) -> bytes:
    """A fresh renderer, cold caches."""
    clear_caches()
    return FeedRenderer(OPTIONS).feed(summits, last_modified=LAST_MODIFIED)


def reference_values(summits: list[Summit]) -> list[dict[str, Any]]:
    """The property values of each VEVENT, computed before the clock starts."""
    body = FeedRenderer(OPTIONS).feed(summits, last_modified=LAST_MODIFIED)
    values = []
    for event in Calendar.from_ical(body).walk("VEVENT"):
        item: dict[str, Any] = {}
        for name in event:
            value = event[name]
            item[name] = value.dt if hasattr(value, "dt") else value
        values.append(item)
    return values


def reference(values: list[dict[str, Any]]) -> bytes:
    """icalendar's own way: build, add the missing VTIMEZONEs, serialise."""
    cal = Calendar.new(
        name=OPTIONS.name,
        description=OPTIONS.description,
        prodid=OPTIONS.prodid,
        uid=f"calendar@{OPTIONS.uid_domain}",
    )
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("REFRESH-INTERVAL", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(timedelta(hours=6)))
    cal.add("LAST-MODIFIED", datetime(2025, 7, 1, 9, 30, tzinfo=UTC))
    years = []
    for item in values:
        event = Event()
        for name, value in item.items():
            event.add(name, value)
        start = item["DTSTART"]
        years.append(start.year)
        cal.add_component(event)
    cal.add_missing_timezones(
        first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
    )
    zones = sorted(cal.walk("VTIMEZONE"), key=lambda tz: str(tz["TZID"]))
    cal.subcomponents = [*zones, *(c for c in cal.subcomponents if not isinstance(c, Timezone))]
    return bytes(cal.to_ical())


def best(run: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs, in seconds (garbage collected before each)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def alternating(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Best times of two runs measured in turn, so that load on the machine hits both."""
    a, b = [], []
    for _ in range(repeat):
        a.append(best(first, 1))
        b.append(best(second, 1))
    return min(a), min(b)


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


def full(sizes: list[int], repeat: int) -> None:
    print(f"(a) full feed, cold caches; target ours <= {TARGET_FULL}x icalendar")
    print(f"{'N':>7} {'ours ms':>9} {'icalendar ms':>13} {'ratio':>6}  result")
    for n in sizes:
        summits = generated_summits(n)
        values = reference_values(summits)
        ours, ref = alternating(
            lambda s=summits: ours_cold(s), lambda v=values: reference(v), repeat
        )
        ratio = ours / ref
        print(
            f"{n:>7} {ours * 1e3:>9.1f} {ref * 1e3:>13.1f} {ratio:>6.2f}  "
            + verdict(ratio, TARGET_FULL)
        )


def increment(n: int, repeat: int) -> None:
    print(f"(b) next feed after one new event in a {n}-summit calendar; target <= 5% of full")
    summits = generated_summits(n)
    cold = best(lambda: ours_cold(summits), repeat)
    times = []
    for round_ in range(repeat):
        renderer = FeedRenderer(OPTIONS)
        renderer.feed(summits, last_modified=LAST_MODIFIED)
        changed = list(summits)
        target = changed[n // 2]
        changed[n // 2] = replace(target, version=target.version + 1, title=f"Moved {round_}")
        gc.collect()
        began = time.perf_counter()
        renderer.feed(changed, last_modified="2025-07-02T00:00:00Z")
        times.append(time.perf_counter() - began)
    step = min(times)
    ratio = step / cold
    print(
        f"full {cold * 1e3:.1f} ms, after one event {step * 1e3:.2f} ms: "
        f"{ratio * 100:.2f}%  {verdict(ratio, TARGET_INCREMENT)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    full([int(x) for x in args.sizes.split(",")], args.repeat)
    increment(1000, args.repeat)


if __name__ == "__main__":
    main()
