"""Where a server's start goes, and what an append costs while and after the chain is checked.

Run by hand, on a copy of a log a server has served (so snapshots and kept VEVENTs exist):
`.venv/bin/python bench/start.py DB` (e.g. a copy of bench/scale.py's run-1000000 store). In one
process it builds the app as a worker does (`web:create_app()` with a public URL), timing the
restore of the latest snapshot, the kept VEVENTs taken back, and the first `/calendar.ics`, with
the process's RSS; then appends to one summit while the start-up chain check runs and after it
ends (median of 10 each). It writes to DB.
"""

from __future__ import annotations

import os.path
import sys

# bench/http.py would shadow the stdlib's http: this folder goes off the import path.
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from events import Token  # noqa: E402
from web import create_app  # noqa: E402
from web.auth import token_hash  # noqa: E402
from web.live import LiveCalendar  # noqa: E402
from web.renderings import RenderingKeeper  # noqa: E402

TOKEN = "bench-start-token-0123456789"
timings: dict[str, float] = {}


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, recording the time of its first call under `name`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        timings.setdefault(name, time.perf_counter() - started)
        return result

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db")
    db = parser.parse_args().db
    LiveCalendar._from_snapshot = timed("restore the latest snapshot", LiveCalendar._from_snapshot)  # type: ignore[method-assign]
    RenderingKeeper.restore = timed("take back the kept VEVENTs", RenderingKeeper.restore)  # type: ignore[method-assign]
    started = time.perf_counter()
    app = create_app({"DB": db, "BASE_URL": "https://calendar.example.org"})
    built = time.perf_counter() - started
    state = app.extensions["diplocal"]
    summits = state.live.current().calendar.summits
    client = app.test_client()
    started = time.perf_counter()
    feed = client.get("/calendar.ics")
    first = time.perf_counter() - started
    for name, seconds in timings.items():
        print(f"{name}: {seconds:.2f} s")
    print(f"create_app: {built:.2f} s; first feed: {first:.2f} s ({len(feed.data):,} bytes)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(summits):,} summits; peak RSS so far {peak:.0f} MB")
    names = {token.name for token in state.tokens.list()}
    if "bench-start" not in names:
        state.tokens.add(Token("bench-start", token_hash(TOKEN), True, "2025-01-01T00:00:00Z"))
    summit_id = next(iter(summits))
    for when in ("while the chain is checked", "after the check"):
        if when == "after the check":
            state.chain.wait()
        took = []
        for n in range(10):
            body = {"type": "DetailsAmended", "data": {"title": f"Retitled {when} {n}"}}
            started = time.perf_counter()
            answer = client.post(
                f"/api/summits/{summit_id}/events",
                json=body,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            took.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.data
        print(f"append {when}: median {statistics.median(took) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
