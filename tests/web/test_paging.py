"""Paging: `/api/summits` by summit_id cursor and a summit's history by log position cover
every item exactly once, in the order of the whole answer, whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from events import FixedClock
from events.sqlite import SQLiteEventStore
from web import create_app

Poster = Callable[..., Any]
BUSY = "kr-jp-2026-busy"
ZONES = [("JP", "Asia/Tokyo"), ("FR", "Europe/Paris"), ("US", "America/New_York")]
# Starts of every precision, several shared (so summit_id breaks ties), some coarser than a day.
STARTS = ["2026", "2026-03", "2026-03-01", "2026-03-01T09:00", "2026-03-01T09:00", "2026-03-02"]


@pytest.fixture(scope="module")
def calendar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """30 summits with starts of every precision in three zones, and one summit with 40 events
    between which the others were recorded (its history's positions are not contiguous)."""
    clock = FixedClock(datetime(2025, 8, 1, 9, 0, tzinfo=UTC), tick=timedelta(seconds=1))
    store = SQLiteEventStore(tmp_path_factory.mktemp("paging") / "log.sqlite3", clock)
    store.append([factories.announce(BUSY).draft])
    for n in range(30):
        country, zone = ZONES[n % 3]
        location = {"city": "Somewhere", "country": country, "timezone": zone}
        event = factories.announce(
            f"summit-{n:02d}", schedule={"start": STARTS[n % 6]}, location=location
        )
        store.append([event.draft])
        store.append([factories.note(f"note {n}", BUSY).draft])
    for n in range(9):
        store.append([factories.note(f"more {n}", BUSY).draft])
    yield create_app(
        {"BASE_URL": "https://cal.example.org", "UID_DOMAIN": "cal.example.org"},
        store=store,
        clock=clock,
    )
    store.close()


def summit_ids(payload: dict[str, Any]) -> list[str]:
    return [summit["summit_id"] for summit in payload["summits"]]


def walk_summits(client: FlaskClient, limit: int, query: str = "") -> list[list[str]]:
    """Every page of the list, following next_after."""
    pages, after = [], None
    while True:
        cursor = "" if after is None else f"&after={after}"
        page = client.get(f"/api/summits?limit={limit}{cursor}{query}").get_json()
        assert page["limit"] == limit and page["after"] == after
        pages.append(summit_ids(page))
        after = page["next_after"]
        if after is None:
            return pages
        assert after == pages[-1][-1]


@settings(max_examples=40, deadline=None)
@given(limit=st.integers(1, 35), query=st.sampled_from(["", "&country=FR", "&status=tentative"]))
def test_summit_pages_cover_the_list_once_in_order(calendar: Flask, limit: int, query: str) -> None:
    client = calendar.test_client()
    whole = summit_ids(client.get(f"/api/summits?{query.lstrip('&')}").get_json())
    pages = walk_summits(client, limit, query)
    assert [summit_id for page in pages for summit_id in page] == whole
    assert all(0 < len(page) <= limit for page in pages) or whole == []
    assert len(pages) == max(1, -(-len(whole) // limit))


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(1, 45))
def test_history_pages_cover_every_entry_once(calendar: Flask, limit: int) -> None:
    client = calendar.test_client()
    url = f"/api/summits/{BUSY}/history"
    whole = client.get(url).get_json()["events"]
    assert len(whole) == 40
    seen, after = [], 0
    while True:
        page = client.get(f"{url}?after={after}&limit={limit}").get_json()
        assert 0 < len(page["events"]) <= limit
        seen.extend(page["events"])
        if page["next_after"] is None:
            break
        assert page["next_after"] == page["events"][-1]["position"]
        after = page["next_after"]
    assert seen == whole
    assert [event["version"] for event in seen] == list(range(1, 41))


def test_the_whole_list_is_unchanged_without_paging(calendar: Flask) -> None:
    payload = calendar.test_client().get("/api/summits").get_json()
    assert set(payload) == {"position", "summits"}
    assert len(payload["summits"]) == 31


def test_after_without_limit_gives_the_rest(calendar: Flask) -> None:
    client = calendar.test_client()
    whole = summit_ids(client.get("/api/summits").get_json())
    rest = client.get(f"/api/summits?after={whole[9]}").get_json()
    assert summit_ids(rest) == whole[10:]
    assert rest["limit"] is None and rest["next_after"] is None


def test_a_page_at_a_position_is_the_calendar_then(calendar: Flask) -> None:
    client = calendar.test_client()
    page = client.get("/api/summits?at_position=3&limit=1").get_json()
    assert page["position"] == 3
    assert summit_ids(page) == [BUSY] and page["next_after"] == BUSY  # 2025 before 2026
    rest = client.get(f"/api/summits?at_position=3&limit=1&after={BUSY}").get_json()
    assert summit_ids(rest) == ["summit-00"] and rest["next_after"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("limit=-3", "limit"),
        ("after=no-such-summit", "after"),
        ("after=&limit=2", "after"),
    ],
)
def test_bad_paging_parameters_are_refused_by_name(calendar: Flask, query: str, field: str) -> None:
    response = calendar.test_client().get(f"/api/summits?{query}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in response.get_json()["errors"]] == [field]


def test_limit_is_capped(calendar: Flask) -> None:
    page = calendar.test_client().get("/api/summits?limit=5000").get_json()
    assert page["limit"] == 1000 and page["next_after"] is None


def test_the_cursor_may_leave_the_list_between_pages(seeded: Poster, client: FlaskClient) -> None:
    """A summit retracted after it ended a page still marks where the next page starts."""
    berlin = factories.announce_data(
        schedule={"start": "2025-10-01"},
        location={"city": "Berlin", "country": "DE", "timezone": "Europe/Berlin"},
    )
    assert seeded("de-pl-2025-berlin", "SummitAnnounced", berlin).status_code == 201
    first = client.get("/api/summits?limit=2").get_json()
    assert summit_ids(first) == ["kr-jp-2025-tokyo", "fr-de-2025-paris"]
    retracted = seeded("fr-de-2025-paris", "EntryRetracted", {"reason": "never planned"})
    assert retracted.status_code == 201
    rest = client.get(f"/api/summits?limit=2&after={first['next_after']}").get_json()
    assert summit_ids(rest) == ["de-pl-2025-berlin"]
    assert rest["next_after"] is None
