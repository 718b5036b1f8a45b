"""Cache-Control on every response: live views revalidated, fixed ones immutable, no errors kept."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from events import EventStore, format_stamp, parse_stamp
from web.caching import FIXED, LIVE, LIVE_FEED, NO_STORE

DIPLOCAL = str(Path(sys.executable).with_name("diplocal"))


def policy(client: FlaskClient, url: str, **kwargs: Any) -> tuple[int, str | None]:
    """Status and Cache-Control of a GET."""
    response = client.get(url, **kwargs)
    return response.status_code, response.headers.get("Cache-Control")


def recorded(store: EventStore, position: int) -> str:
    """recorded_at of a position."""
    record = next(store.read(after=position - 1, limit=1), None)
    assert record is not None
    return record.recorded_at


def between(store: EventStore, position: int) -> str:
    """An instant after `position` was recorded and before the next one (or now)."""
    return format_stamp(parse_stamp(recorded(store, position)) + timedelta(seconds=1))


def test_the_policies_are_the_documented_ones() -> None:
    assert LIVE_FEED == "public, max-age=60, must-revalidate"
    assert LIVE == "no-cache"
    assert FIXED == "public, max-age=31536000, immutable"
    assert NO_STORE == "no-store"


def test_a_live_feed_is_revalidated_on_every_path(
    seeded: Any, app: Flask, client: FlaskClient
) -> None:
    first = client.get("/calendar.ics?country=KR")
    assert first.headers["Cache-Control"] == LIVE_FEED
    flask_304 = client.get(
        "/calendar.ics?kind=official_visit", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert flask_304.headers["Cache-Control"] == LIVE_FEED

    def refuse(**kwargs: Any) -> Any:
        raise AssertionError("answered by the WSGI fast path, not by Flask")

    original = app.view_functions["feeds.calendar_feed"]
    app.view_functions["feeds.calendar_feed"] = refuse
    try:
        again = client.get("/calendar.ics?country=KR")
        head = client.head("/calendar.ics?country=KR")
        not_modified = client.get(
            "/calendar.ics?country=KR", headers={"If-None-Match": first.headers["ETag"]}
        )
    finally:
        app.view_functions["feeds.calendar_feed"] = original
    assert again.headers["Cache-Control"] == LIVE_FEED
    assert head.headers["Cache-Control"] == LIVE_FEED
    assert not_modified.status_code == 304
    assert not_modified.headers["Cache-Control"] == LIVE_FEED
    assert not_modified.headers["ETag"] == first.headers["ETag"]


def test_a_single_event_file_is_a_live_feed(seeded: Any, client: FlaskClient) -> None:
    first = client.get("/summits/fr-de-2025-paris.ics")
    assert (first.status_code, first.headers["Cache-Control"]) == (200, LIVE_FEED)
    etag = first.headers["ETag"]
    assert policy(client, "/summits/fr-de-2025-paris.ics", headers={"If-None-Match": etag}) == (
        304,
        LIVE_FEED,
    )


@pytest.mark.parametrize("path", ["/calendar.ics", "/api/summits", "/api/summits/kr-jp-2025-tokyo"])
def test_an_at_position_view_is_immutable_and_never_changes(
    path: str, seeded: Any, client: FlaskClient
) -> None:
    for position in (1, 2):  # 2 is the head: events 1..2 are still fixed forever
        response = client.get(f"{path}?at_position={position}")
        assert (response.status_code, response.headers["Cache-Control"]) == (200, FIXED)
    before = client.get(f"{path}?at_position=1")
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    seeded("kr-jp-2025-tokyo", "SummitNoted", {"note": "later news"})
    after = client.get(f"{path}?at_position=1")
    assert after.data == before.data, "what an immutable response promised still holds"
    assert after.headers["Cache-Control"] == FIXED
    assert policy(client, path)[1] == (LIVE_FEED if path.endswith(".ics") else LIVE)


def test_an_at_position_304_is_immutable_too(seeded: Any, client: FlaskClient) -> None:
    first = client.get("/calendar.ics?at_position=1")
    again = client.get(
        "/calendar.ics?at_position=1", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert (again.status_code, again.headers["Cache-Control"]) == (304, FIXED)


@pytest.mark.parametrize("fixed_first", [True, False])
def test_live_and_at_position_feeds_at_the_same_position_keep_their_own_policy(
    fixed_first: bool, seeded: Any, client: FlaskClient
) -> None:
    """Both views of the head share one rendered response; each request gets its own policy."""
    order = ["/calendar.ics?at_position=2", "/calendar.ics"]
    for url in order if fixed_first else order[::-1]:
        assert policy(client, url)[1] == (FIXED if "at_position" in url else LIVE_FEED)
    for _ in range(2):  # the live one again, now from the fast path
        assert policy(client, "/calendar.ics")[1] == LIVE_FEED
        assert policy(client, "/calendar.ics?at_position=2")[1] == FIXED


@pytest.mark.parametrize("path", ["/calendar.ics", "/api/summits"])
def test_an_as_of_view_is_fixed_once_the_log_has_passed_it(
    path: str, seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    live = LIVE_FEED if path.endswith(".ics") else LIVE
    passed = between(store, 1)  # position 2 was recorded after it
    assert policy(client, f"{path}?as_of={passed}") == (200, FIXED)
    assert policy(client, f"{path}?as_of=2099-01-01T00:00:00Z") == (200, live)

    pending = between(store, 2)  # after the head: an import may still add a record before it
    assert policy(client, f"{path}?as_of={pending}") == (200, live)
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    assert parse_stamp(recorded(store, 3)) > parse_stamp(pending)
    assert policy(client, f"{path}?as_of={pending}") == (200, FIXED)


def test_an_as_of_exactly_at_the_head_stays_live(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    """A record may still be stamped at the head's instant, so the view is not final yet."""
    at_head = recorded(store, 2)
    assert policy(client, f"/api/summits?as_of={at_head}") == (200, LIVE)


def test_as_of_on_an_empty_log_is_live(client: FlaskClient) -> None:
    assert policy(client, "/calendar.ics?as_of=2000-01-01T00:00:00Z") == (200, LIVE_FEED)


@pytest.mark.parametrize(
    "path",
    [
        "/api/summits",
        "/api/summits/kr-jp-2025-tokyo",
        "/api/summits/kr-jp-2025-tokyo/history",
        "/api/events",
        "/api/events?after=1&limit=1",
        "/api/audit/verify",
        "/api/openapi.json",
        "/healthz",
        "/",
        "/?at_position=1",  # the page shows the live calendar whatever it is given
        "/summits/kr-jp-2025-tokyo",
    ],
)
def test_live_reads_and_pages_are_revalidated(path: str, seeded: Any, client: FlaskClient) -> None:
    assert policy(client, path) == (200, LIVE)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/summits/no-such-summit", 404),
        ("/api/summits/no-such-summit?at_position=1", 404),
        ("/calendar.ics?at_position=99", 422),
        ("/calendar.ics?as_of=yesterday", 422),
        ("/api/summits?as_of=2025-01-01T00:00:00Z&at_position=1", 422),
        ("/calendar.ics?country=XX", 422),
        ("/summits/no-such-summit.ics", 404),
        ("/no/such/page", 404),
    ],
)
def test_errors_are_not_stored(path: str, status: int, seeded: Any, client: FlaskClient) -> None:
    assert policy(client, path) == (status, NO_STORE)


def test_a_retracted_summit_is_gone_and_not_stored(seeded: Any, client: FlaskClient) -> None:
    seeded("fr-de-2025-paris", "EntryRetracted", {"reason": "never planned"})
    assert policy(client, "/api/summits/fr-de-2025-paris") == (410, NO_STORE)
    assert policy(client, "/api/summits/fr-de-2025-paris?at_position=2") == (200, FIXED)


def test_writes_are_not_stored(seeded: Any, helpers: Any) -> None:
    accepted = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    assert (accepted.status_code, accepted.headers["Cache-Control"]) == (201, NO_STORE)
    refused = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, token=None)
    assert (refused.status_code, refused.headers["Cache-Control"]) == (401, NO_STORE)
    conflict = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    assert (conflict.status_code, conflict.headers["Cache-Control"]) == (409, NO_STORE)


def test_every_route_says_how_to_cache_it(seeded: Any, app: Flask, client: FlaskClient) -> None:
    samples = {"summit_id": "kr-jp-2025-tokyo", "filename": "style.css"}
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = rule.build({k: v for k, v in samples.items() if k in rule.arguments})[1]
        with client.get(url) as response:  # closes a static file's stream
            assert response.headers.get("Cache-Control"), f"{url} ({response.status_code})"
        seen += 1
    assert seen >= 10


@pytest.mark.slow
def test_a_served_feed_carries_its_policy(tmp_path: Path, helpers: Any) -> None:
    """Through granian's workers, the fast path included (repeated and conditional requests)."""
    db = str(tmp_path / "served.sqlite3")
    with helpers.running(lambda port: [DIPLOCAL, "serve", "--demo", "--port", str(port)], db) as on:
        answers = []
        for url in [
            "/calendar.ics",
            "/calendar.ics",
            "/calendar.ics?at_position=3",
            "/api/summits",
        ]:
            with urllib.request.urlopen(on.url + url, timeout=10) as response:
                answers.append((response.headers["Cache-Control"], response.headers["ETag"]))
        request = urllib.request.Request(
            on.url + "/calendar.ics", headers={"If-None-Match": answers[0][1]}
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("expected a 304")
        except urllib.error.HTTPError as not_modified:
            assert not_modified.code == 304
            assert not_modified.headers["Cache-Control"] == LIVE_FEED
    assert [policy for policy, _ in answers] == [LIVE_FEED, LIVE_FEED, FIXED, LIVE]
