"""Any text in any text field (all planes, controls, CR/LF, iCalendar look-alikes): either a 422,
or stored and then served so that the pages, the API and three independent iCalendar readers
(ical.js, vobject, libical) still work, with one VEVENT per dated live summit."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import FixedClock, Token, open_store, tokens_of
from web import create_app
from web.auth import token_hash

INTEROP = Path(__file__).resolve().parents[1] / "interop"
TOKEN = "hostile-text-token"
LOOK_ALIKES = [
    "BEGIN:VEVENT",
    "END:VCALENDAR\r\nBEGIN:VCALENDAR",
    "UID:x@y\nSUMMARY:z",
    'DTSTART;TZID="Asia/Tokyo":20250101T000000',
    "\\n\\,\\;",
    ";,:\\",
    "\r\n ",
    "\u2028\u2029",
    "\ufeff",
    "\U0001f1f0\U0001f1f7",
    "이재명 石破 茂",
]
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=60),
    st.sampled_from(LOOK_ALIKES),
    st.lists(st.sampled_from([*LOOK_ALIKES, "a", " ", "\t", "\n"]), min_size=1).map("".join),
)
FIELDS = ("title", "description", "name", "role", "organization", "city", "venue", "publisher")


def _announcement(texts: dict[str, str], number: int) -> dict[str, Any]:
    participant = {"name": texts["name"], "country": "KR", "role": texts["role"]}
    return {
        "title": texts["title"],
        "kind": "bilateral_summit",
        "participants": [participant, {"name": "B", "organization": texts["organization"]}],
        "location": {
            "city": texts["city"],
            "venue": texts["venue"],
            "country": "JP",
            "timezone": "Asia/Tokyo",
        },
        "schedule": {"start": f"2025-08-{number + 10:02d}T10:00"},
        "status": "tentative",
        "description": texts["description"],
        "source": {"url": "https://example.org/n", "publisher": texts["publisher"]},
    }


def _icaljs(path: Path) -> int:
    node = shutil.which("node")
    assert node is not None, "node is not installed (make test installs it)"
    out = subprocess.run(
        [node, str(INTEROP / "icaljs_dump.mjs"), str(path)],
        capture_output=True,
        check=True,
        timeout=60,
        cwd=INTEROP,
    )
    return len(json.loads(out.stdout)["events"])


def _libical(path: Path) -> int:
    out = subprocess.run(
        ["/usr/bin/python3", str(INTEROP / "libical_dump.py"), str(path)],
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr.decode()
    return len(json.loads(out.stdout)["events"])


def _vobject(body: bytes) -> int:
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [key for key in registry if key != "UTC"]:
        del registry[tzid]
    calendar = vobject.readOne(body.decode("utf-8"), validate=True)
    return len(getattr(calendar, "vevent_list", []))


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.fixed_dictionaries({field: TEXT for field in FIELDS}), min_size=1, max_size=3))
def test_any_text_is_refused_or_served_to_every_reader(texts: list[dict[str, str]]) -> None:
    """Each summit is a 201 or a 422 naming a field; the feed stays readable by all three."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(datetime(2025, 8, 1, tzinfo=UTC), tick=timedelta(seconds=1))
        store = open_store(str(Path(folder) / "hostile.sqlite3"), clock)
        tokens_of(store).add(Token("desk", token_hash(TOKEN), True, "2025-08-01T00:00:00Z"))
        client = create_app({"UID_DOMAIN": "example.org"}, store=store, clock=clock).test_client()
        stored = 0
        for number, fields in enumerate(texts):
            response = client.post(
                f"/api/summits/hostile-{number}/events",
                json={"type": "SummitAnnounced", "data": _announcement(fields, number)},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert response.status_code in (201, 422), response.get_data(as_text=True)
            if response.status_code == 422:
                assert response.get_json()["errors"][0]["field"].startswith("data.")
            stored += response.status_code == 201
        for url in ("/", "/api/summits", "/summits/hostile-0"):
            assert client.get(url).status_code in (
                (200,) if url != "/summits/hostile-0" else (200, 404)
            )
        feed = client.get("/calendar.ics")
        assert feed.status_code == 200
        assert feed.data.split(b"\r\n").count(b"BEGIN:VEVENT") == stored
        path = Path(folder) / "feed.ics"
        path.write_bytes(feed.data)
        assert _icaljs(path) == stored
        assert _libical(path) == stored
        assert _vobject(feed.data) == stored
        store.close()
