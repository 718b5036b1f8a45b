"""`diplocal replay`: the calendar as of a recorded time or a position, as JSON or iCalendar."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from calendar_core.service import Submission, record_event
from events import EventStore, FixedClock, open_store
from web.cli import main

ANNOUNCE: dict[str, Any] = {
    "title": "Korea-Japan summit",
    "kind": "bilateral_summit",
    "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
    "location": {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"},
    "schedule": {"start": "2025-08-23", "end": "2025-08-24"},
    "status": "tentative",
}


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", str(db), "replay", *args])


def record(store: EventStore, event_type: str, data: dict[str, Any]) -> None:
    """Record one event of kr-jp-2025 through the write path; it must be accepted."""
    outcome = record_event(store, Submission("kr-jp-2025", event_type, data))
    assert outcome.record is not None, outcome.message


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three events recorded at 06:00Z, 07:00Z and 08:00Z on 2025-08-13."""
    path = tmp_path / "log.sqlite3"
    clock = FixedClock(datetime(2025, 8, 13, 6, tzinfo=UTC), tick=timedelta(hours=1))
    store = open_store(str(path), clock)
    record(store, "SummitAnnounced", ANNOUNCE)
    record(store, "SummitConfirmed", {})
    record(store, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})
    store.close()
    return path


def summits(result: Result) -> tuple[int, list[dict[str, Any]]]:
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    return out["position"], out["summits"]


def test_replay_now_shows_the_whole_log(db: Path) -> None:
    position, [summit] = summits(run(db))
    assert position == 3
    assert (summit["status"], summit["start_utc"]) == ("confirmed", "2025-08-23T07:55:00Z")


def test_at_position(db: Path) -> None:
    position, [summit] = summits(run(db, "--at-position", "1"))
    assert (position, summit["status"], summit["version"]) == (1, "tentative", 1)
    assert summits(run(db, "--at-position", "0")) == (0, [])


@pytest.mark.parametrize(
    ("as_of", "position"),
    [
        ("2025-08-13T06:59:59Z", 1),
        ("2025-08-13T07:00:00Z", 2),  # inclusive
        ("2025-08-13T16:00:00+09:00", 2),  # 07:00Z written in Tokyo time
        ("2025-08-13T03:30:00-04:30", 3),  # 08:00Z
        ("2025-08-13T05:00:00Z", 0),
    ],
)
def test_as_of_any_offset(db: Path, as_of: str, position: int) -> None:
    assert summits(run(db, "--as-of", as_of))[0] == position


def test_both_options_or_a_bad_time_are_usage_errors(db: Path) -> None:
    assert run(db, "--as-of", "2025-08-13T07:00:00Z", "--at-position", "1").exit_code == 2
    assert run(db, "--as-of", "2025-08-13 07:00").exit_code == 2
    assert run(db, "--as-of", "yesterday").exit_code == 2
    assert run(db, "--at-position", "9").exit_code == 2


def test_ics_format(db: Path) -> None:
    result = run(db, "--at-position", "2", "--format", "ics")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("BEGIN:VCALENDAR")
    assert "kr-jp-2025@" in text
    assert "DTSTART;VALUE=DATE:20250823" in text


@pytest.mark.parametrize("point", [[], ["--at-position", "2"], ["--as-of", "2025-08-13T06:30:00Z"]])
def test_json_is_the_same_object_as_the_api(db: Path, point: list[str]) -> None:
    from web import create_app

    app = create_app({"DB": str(db)})
    query = {"at_position": "2"} if "--at-position" in point else {}
    if "--as-of" in point:
        query = {"as_of": point[1]}
    try:
        answer = app.test_client().get("/api/summits", query_string=query)
    finally:
        app.extensions["diplocal"].store.close()
    assert answer.status_code == 200
    assert json.loads(run(db, *point).output) == answer.get_json()
