"""Real subscribers against a running server: vdirsyncer syncs the feed, khal lists it.

vdirsyncer 0.21's "http" storage takes the first `UID:` line of each item as its id, so a
calendar-level UID once collapsed the whole feed into one item (issue 11). It also replaces
each event's UID with a hash of the event's content, so the synced items are matched to
summits here by their `URL:` line (the summit's page, `.../summits/<id>`). khal then reads
the synced folder in two time zones.

Both tools come pinned from tests/interop/subscribers.txt, installed by `make test` into
tests/interop/.subscribers-venv (apart from the project's .venv); a missing one fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from calendar_core.ical import DEFAULT_LENGTH

pytestmark = pytest.mark.slow

VENV = Path(__file__).resolve().parents[1] / "interop" / ".subscribers-venv"
VERSIONS = {"vdirsyncer": "0.21.0", "khal": "0.14.1"}
# Where the khal listings are read: neither is the zone of any summit below, and their
# offsets differ by a half hour from whole-hour zones.
VIEWER_ZONES = ("Asia/Kolkata", "America/Los_Angeles")
_TIMEOUT = 120
# The feed's calendar properties (RFC 7986 and the X-WR- ones): vdirsyncer copies them into
# every item it writes, so both tools below read them all (a calendar-level UID broke it).
CALENDAR_PROPERTIES = {
    "NAME",
    "X-WR-CALNAME",
    "REFRESH-INTERVAL",
    "X-PUBLISHED-TTL",
    "LAST-MODIFIED",
}


def _tool(name: str) -> str:
    """The path of a pinned subscriber tool; fails (never skips) when it is missing."""
    path = VENV / "bin" / name
    assert path.exists(), f"{name} is missing: `make test` installs it into {VENV}"
    out = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, check=True, timeout=_TIMEOUT
    )
    assert VERSIONS[name] in out.stdout, out.stdout
    return str(path)


def _run(args: list[str], home: Path) -> str:
    """Run a tool with a private HOME/XDG dirs and no stdin; fail with what it printed."""
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=_TIMEOUT,
    )
    assert out.returncode == 0, f"{args[0]} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


# --- the server and its API -------------------------------------------------------------


@dataclass
class Server:
    """A running `diplocal serve` and a write token for its API."""

    url: str
    token: str

    def post(self, summit_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Append one event through the HTTP API; it must be recorded (201)."""
        body = json.dumps({"type": event_type, "data": data}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/summits/{summit_id}/events",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    def dated(self) -> dict[str, dict[str, Any]]:
        """The live summits that have a date (so belong in the feed), by summit id."""
        with urllib.request.urlopen(f"{self.url}/api/summits", timeout=10) as response:
            listed = json.load(response)["summits"]
        return {s["summit_id"]: s for s in listed if not s["date_to_be_set"]}


@pytest.fixture
def server(tmp_path: Path, helpers: Any) -> Iterator[Server]:
    """`diplocal serve` on a free port over a fresh SQLite file, with a token from the CLI."""
    db = str(tmp_path / "subscribers.sqlite3")
    diplocal = str(Path(sys.executable).parent / "diplocal")
    made = subprocess.run(
        [diplocal, "token", "add", "desk"],
        env=helpers.server_env(db),
        capture_output=True,
        text=True,
        check=True,
        timeout=_TIMEOUT,
    )
    token = made.stdout.strip().splitlines()[-1]
    with helpers.running(lambda port: [diplocal, "serve", "--port", str(port)], db) as running:
        yield Server(running.url, token)


def _place(city: str, country: str, zone: str) -> dict[str, str]:
    return {"city": city, "country": country, "timezone": zone}


def _announce(helpers: Any, title: str, kind: str, place: dict[str, str], **schedule: str) -> Any:
    return helpers.announce_data(
        title=title, kind=kind, location=place, schedule=schedule, status="confirmed"
    )


def _first_summits(server: Server, helpers: Any) -> None:
    """Timed with an end, timed without one (an instant), all day, and month only."""
    tokyo = helpers.announce_data()  # Asia/Tokyo, 16:55-18:30, tentative
    server.post("kr-jp-2025-08-tokyo", "SummitAnnounced", tokyo)
    washington = _announce(
        helpers,
        "Lee Jae Myung - Donald Trump summit",
        "bilateral_summit",
        _place("Washington", "US", "America/New_York"),
        start="2025-08-25T12:15",
    )
    server.post("kr-us-2025-08-washington", "SummitAnnounced", washington)
    server.post("fr-de-2025-paris", "SummitAnnounced", dict(helpers.PARIS))
    berlin = _announce(
        helpers,
        "Germany-Korea consultations",
        "official_visit",
        _place("Berlin", "DE", "Europe/Berlin"),
        start="2025-10-26T10:00",  # the day clocks go back, after the change
        end="2025-10-26T12:00",
    )
    server.post("de-kr-2025-10-berlin", "SummitAnnounced", berlin)
    later = _announce(
        helpers,
        "Korea-China summit",
        "bilateral_summit",
        _place("Beijing", "CN", "Asia/Shanghai"),
        start="2025-12",
    )
    server.post("kr-cn-2025-12", "SummitAnnounced", later)


def _changes(server: Server, helpers: Any) -> None:
    """A reschedule, a cancellation and a new summit (an instant, in London)."""
    new_time = {"start": "2025-08-24T10:00", "end": "2025-08-24T11:30"}
    server.post(
        "kr-jp-2025-08-tokyo", "SummitRescheduled", {"schedule": new_time, "reason": "typhoon"}
    )
    server.post("de-kr-2025-10-berlin", "SummitCancelled", {"reason": "Called off"})
    london = _announce(
        helpers,
        "Lee Jae Myung - Keir Starmer meeting",
        "sideline_meeting",
        _place("London", "GB", "Europe/London"),
        start="2025-11-03T09:30",
    )
    server.post("kr-gb-2025-11-london", "SummitAnnounced", london)


def _summit_id(url: str) -> str:
    """The summit id at the end of an event's URL (its page, `<base>/summits/<id>`)."""
    base, marker, summit_id = url.rpartition("/summits/")
    assert marker and base.startswith("http"), url
    return summit_id


# --- what a summit should look like in any calendar ---------------------------------------


def _wall(text: str, zone: str) -> datetime:
    """A schedule's local minute in its venue's zone (the API's wall time, never naive)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def _bounds(summit: dict[str, Any]) -> tuple[datetime, datetime] | tuple[date, date]:
    """(start, end) a calendar must show: instants, or the first and last (inclusive) day."""
    schedule, zone = summit["schedule"], summit["location"]["timezone"]
    if summit["precision"] == "day":
        first = date.fromisoformat(schedule["start"])
        return first, date.fromisoformat(schedule.get("end") or schedule["start"])
    start = _wall(schedule["start"], zone)
    if schedule.get("end"):
        return start, _wall(schedule["end"], zone)
    return start, start.astimezone(UTC) + DEFAULT_LENGTH[summit["kind"]]


# --- vdirsyncer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One file vdirsyncer wrote: its name and the one VEVENT in it."""

    name: str
    uid: str
    summit_id: str  # from the event's URL, the summit's page
    start: datetime | date
    end: datetime | date
    status: str
    sequence: int
    summary: str
    calendar_properties: frozenset[str]


class Subscriber:
    """vdirsyncer with an http storage on the feed and a filesystem storage in a folder."""

    def __init__(self, feed_url: str, root: Path) -> None:
        self.root = root
        self.folder = root / "calendar"
        self.folder.mkdir(parents=True)
        self.config = root / "vdirsyncer.conf"
        self.config.write_text(
            f"""[general]
status_path = "{root / "status"}"

[pair diplocal]
a = "diplocal_feed"
b = "diplocal_folder"
collections = null
conflict_resolution = "a wins"

[storage diplocal_feed]
type = "http"
url = "{feed_url}"

[storage diplocal_folder]
type = "filesystem"
path = "{self.folder}"
fileext = ".ics"
"""
        )
        self.vdirsyncer = _tool("vdirsyncer")
        _run([self.vdirsyncer, "-c", str(self.config), "discover"], root)

    def sync(self) -> dict[str, Item]:
        """Sync once; every file must hold one VEVENT. Returns the items by summit id."""
        _run([self.vdirsyncer, "-c", str(self.config), "sync"], self.root)
        items = [self._read(path) for path in sorted(self.folder.glob("*.ics"))]
        by_id = {item.summit_id: item for item in items}
        assert len(by_id) == len(items), f"a summit arrived twice: {[i.summit_id for i in items]}"
        assert len({item.uid for item in items}) == len(items), "two items share a UID"
        return by_id

    @staticmethod
    def _read(path: Path) -> Item:
        calendar = Calendar.from_ical(path.read_bytes())
        events = calendar.walk("VEVENT")
        assert len(events) == 1, f"{path.name} holds {len(events)} events"
        event = events[0]
        return Item(
            name=path.name,
            uid=str(event["UID"]),
            summit_id=_summit_id(str(event["URL"])),
            start=event.decoded("DTSTART"),
            end=event.decoded("DTEND"),
            status=str(event["STATUS"]),
            sequence=int(event["SEQUENCE"]),
            summary=str(event["SUMMARY"]),
            calendar_properties=frozenset(calendar),
        )


def _check_items(items: dict[str, Item], dated: dict[str, dict[str, Any]]) -> None:
    """One item per dated summit, at its instants (or days), with its SEQUENCE and status."""
    assert set(items) == set(dated)
    for summit_id, summit in dated.items():
        item, (start, end) = items[summit_id], _bounds(summit)
        if isinstance(start, datetime):
            assert isinstance(item.start, datetime) and isinstance(item.end, datetime), summit_id
            assert item.start.tzinfo is not None and item.end.tzinfo is not None, summit_id
            assert (item.start, item.end) == (start, end), summit_id  # aware: compared as instants
        else:
            assert (item.start, item.end) == (start, end + timedelta(days=1)), summit_id
        assert item.sequence == summit["sequence"], summit_id
        off = summit["status"] in ("cancelled", "postponed")
        assert item.status == ("CANCELLED" if off else summit["status"].upper()), summit_id
        assert item.calendar_properties >= CALENDAR_PROPERTIES, summit_id
        assert "UID" not in item.calendar_properties, summit_id


# --- khal -----------------------------------------------------------------------------------


def _khal(folder: Path, zone: str, root: Path, first: date, last: date) -> dict[str, Any]:
    """`khal list` of the synced folder, in `zone`: {summit id: {start, end, status, title}}."""
    home = root / f"khal-{zone.replace('/', '-')}"
    home.mkdir()
    config = home / "khal.conf"
    config.write_text(
        f"""[calendars]
[[diplocal]]
path = {folder}
readonly = True

[locale]
local_timezone = {zone}
default_timezone = {zone}
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M

[sqlite]
path = {home / "khal.db"}
"""
    )
    span = (first.isoformat(), last.isoformat())
    fields = [
        arg for name in ("url", "start", "end", "status", "title") for arg in ("--json", name)
    ]
    out = _run(
        [_tool("khal"), "-c", str(config), "list", "--once", "--day-format", "", *fields, *span],
        home,
    )
    listed = [event for line in out.splitlines() if line.strip() for event in json.loads(line)]
    by_id = {_summit_id(event["url"]): event for event in listed}
    assert len(by_id) == len(listed), f"khal lists an event twice: {listed}"
    return by_id


def _shown(value: datetime | date, zone: str) -> str:
    """How khal's config above prints a start or end in `zone`."""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# --- the test ---------------------------------------------------------------------------


def test_vdirsyncer_and_khal_follow_the_feed(server: Server, tmp_path: Path, helpers: Any) -> None:
    _first_summits(server, helpers)
    dated = server.dated()
    assert len(dated) == 4, "the month-only summit has no place in a calendar"
    subscriber = Subscriber(f"{server.url}/calendar.ics", tmp_path / "vdirsyncer")

    first = subscriber.sync()
    assert len(first) == len(dated), "every VEVENT is an item of its own"
    _check_items(first, dated)
    instant = first["kr-us-2025-08-washington"]
    assert instant.end - instant.start == DEFAULT_LENGTH["bilateral_summit"]

    _changes(server, helpers)
    after = server.dated()
    again = subscriber.sync()
    assert len(again) == len(after) == len(dated) + 1
    _check_items(again, after)
    tokyo = "kr-jp-2025-08-tokyo"
    assert again[tokyo].start != first[tokyo].start, "the reschedule reached the subscriber"
    berlin = again["de-kr-2025-10-berlin"]
    assert berlin.status == "CANCELLED" and berlin.summary.startswith("Cancelled: ")
    assert "kr-gb-2025-11-london" in again
    for unchanged in ("fr-de-2025-paris", instant.summit_id):
        assert again[unchanged].name == first[unchanged].name, f"{unchanged} was rewritten"

    bounds = {summit_id: _bounds(summit) for summit_id, summit in after.items()}
    days = [b.date() if isinstance(b, datetime) else b for pair in bounds.values() for b in pair]
    span = (min(days) - timedelta(days=2), max(days) + timedelta(days=2))
    for zone in VIEWER_ZONES:
        listed = _khal(subscriber.folder, zone, tmp_path, *span)
        assert set(listed) == set(after), zone
        for summit_id, (start, end) in bounds.items():
            shown, where = listed[summit_id], (zone, summit_id)
            assert (shown["start"], shown["end"]) == (_shown(start, zone), _shown(end, zone)), where
            assert shown["status"].strip() == again[summit_id].status, where
            assert shown["title"] == again[summit_id].summary, where
