"""The feed read by parsers nobody on this team wrote: ical.js, vobject and libical.

Each must report, for every VEVENT, the UTC instants (or all-day dates), STATUS and
SEQUENCE that our own schedule resolution (`utc_bounds`) gives. ical.js and libical see
only the feed's VTIMEZONEs (ical.js has no tz data; libical is pointed at the feed's
components), so these tests check our VTIMEZONE rules, not a tz database of theirs.
A missing node, ical.js module or libical fails the tests: `make test` installs them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import vobject
from interop.feedcases import (
    HERE,
    TRICKY_TITLE,
    expected,
    generated_summits,
    interop_summits,
    render,
)

SYSTEM_PYTHON = "/usr/bin/python3"
CASES = {"cases": interop_summits, "generated": lambda: generated_summits(500)}


@pytest.fixture(scope="module", params=sorted(CASES))
def feed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(path of the rendered feed, what every reader must report)."""
    summits = CASES[request.param]()
    path = tmp_path_factory.mktemp("feed") / f"{request.param}.ics"
    path.write_bytes(render(summits))
    return path, expected(summits), request.param


def _strip(events: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {uid: {k: v for k, v in e.items() if k != "summary"} for uid, e in events.items()}


def _check(report: dict[str, Any], want: dict[str, dict[str, Any]], name: str) -> None:
    got = report["events"]
    assert _strip(got) == want
    if name == "cases":
        assert "Asia/Tokyo" in report["zones"] and "Australia/Lord_Howe" in report["zones"]
        assert got["tokyo-2025@diplocal.example"]["summary"] == TRICKY_TITLE
        assert got["state-visit-aug@diplocal.example"]["start"] == "2025-08-23"
        assert got["state-visit-aug@diplocal.example"]["end"] == "2025-08-25"


def test_expected_values_are_not_trivial() -> None:
    """Guard: the cases really span DST changes (offsets differ within a zone)."""
    want = expected(interop_summits())
    assert want["ny-before-fallback@diplocal.example"]["start"] == "2025-10-31T14:00:00Z"
    assert want["ny-after-fallback@diplocal.example"]["start"] == "2025-11-03T15:00:00Z"
    assert want["mexico-2022-dst@diplocal.example"]["start"] == "2022-04-10T15:00:00Z"
    assert want["mexico-2025-summer@diplocal.example"]["start"] == "2025-06-01T16:00:00Z"
    assert want["fiji-dst-2020@diplocal.example"]["start"] == "2020-01-10T21:00:00Z"
    assert want["fiji-std-2020@diplocal.example"]["start"] == "2020-01-11T22:00:00Z"
    assert "month-only@diplocal.example" not in want and "retracted@diplocal.example" not in want


def test_icaljs_reads_the_same_instants(feed: Any) -> None:
    """ical.js 2.2.1 under node, with the feed's VTIMEZONEs registered."""
    path, want, name = feed
    node = shutil.which("node")
    assert node is not None, "node is not installed (make test installs it)"
    module = HERE / "node_modules" / "ical.js" / "package.json"
    assert module.exists(), "ical.js is not installed: run `npm ci` in tests/interop"
    assert json.loads(module.read_text())["version"] == "2.2.1"
    out = subprocess.run(
        [node, str(HERE / "icaljs_dump.mjs"), str(path)],
        capture_output=True,
        check=True,
        timeout=60,
        cwd=HERE,
    )
    _check(json.loads(out.stdout), want, name)


def test_libical_reads_the_same_instants(feed: Any) -> None:
    """libical 3 through GObject introspection, run by the system python."""
    path, want, name = feed
    assert Path(SYSTEM_PYTHON).exists()
    out = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "libical_dump.py"), str(path)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr.decode()
    _check(json.loads(out.stdout), want, name)


def _vobject_value(value: datetime | date) -> str:
    if isinstance(value, datetime):
        assert value.tzinfo is not None, "floating time"
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def test_vobject_validates_and_reads_the_same_instants(feed: Any) -> None:
    """vobject 0.9.9 with validate=True, using the feed's own VTIMEZONEs."""
    path, want, name = feed
    # vobject keeps the first VTIMEZONE it ever saw per TZID, process-wide: forget earlier
    # feeds so that this one is read with its own VTIMEZONEs.
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [key for key in registry if key != "UTC"]:
        del registry[tzid]
    cal = vobject.readOne(path.read_text("utf-8"), validate=True)
    events: dict[str, dict[str, Any]] = {}
    for vevent in cal.vevent_list:
        events[vevent.uid.value] = {
            "start": _vobject_value(vevent.dtstart.value),
            "end": _vobject_value(vevent.dtend.value) if hasattr(vevent, "dtend") else None,
            "status": vevent.status.value,
            "sequence": int(vevent.sequence.value),
            "summary": vevent.summary.value,
        }
    zones = [vtz.tzid.value for vtz in getattr(cal, "vtimezone_list", [])]
    _check({"zones": zones, "events": events}, want, name)
