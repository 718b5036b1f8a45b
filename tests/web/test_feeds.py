"""The iCalendar feeds over HTTP: headers, conditional GET, HEAD, filters, as-of views, caching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from events import EventStore, parse_stamp

CALENDAR = "text/calendar; charset=utf-8"


def http_date(instant: datetime) -> str:
    return format_datetime(instant.astimezone(UTC), usegmt=True)


def last_recorded(store: EventStore) -> datetime:
    head = store.head()
    assert head is not None
    return parse_stamp(head.recorded_at)


def test_the_feed_is_text_calendar_with_validators(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR
    assert response.data.startswith(b"BEGIN:VCALENDAR")
    assert b"UID:kr-jp-2025-tokyo@cal.example.org" in response.data
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == last_recorded(store).replace(
        microsecond=0
    )
    assert "Content-Encoding" not in response.headers


def test_last_modified_follows_the_log_not_the_filtered_summits(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    seeded("fr-de-2025-paris", "SummitNoted", {"note": "agenda published"})
    response = client.get("/calendar.ics?country=KR")
    assert b"fr-de-2025-paris" not in response.data
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == last_recorded(store).replace(
        microsecond=0
    )


def test_if_none_match_gives_304(seeded: Any, client: FlaskClient) -> None:
    first = client.get("/calendar.ics")
    etag = first.headers["ETag"]
    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        again = client.get("/calendar.ics", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b""
        assert again.headers["ETag"] == etag
    assert client.get("/calendar.ics", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since(seeded: Any, client: FlaskClient, store: EventStore, clock: Any) -> None:
    last = last_recorded(store)
    current = client.get("/calendar.ics", headers={"If-Modified-Since": http_date(last)})
    assert current.status_code == 304
    later = client.get(
        "/calendar.ics", headers={"If-Modified-Since": http_date(last + timedelta(seconds=30))}
    )
    assert later.status_code == 304
    stale = client.get(
        "/calendar.ics", headers={"If-Modified-Since": http_date(last - timedelta(seconds=1))}
    )
    assert stale.status_code == 200 and stale.data.startswith(b"BEGIN:VCALENDAR")
    for bad in ("yesterday", "Thu, 99 Foo 2025 99:99:99 GMT", ""):
        response = client.get("/calendar.ics", headers={"If-Modified-Since": bad})
        assert response.status_code == 200, bad
    future = client.get(
        "/calendar.ics", headers={"If-Modified-Since": http_date(clock.now + timedelta(days=2))}
    )
    assert future.status_code == 200
    # If-None-Match wins over If-Modified-Since
    both = client.get(
        "/calendar.ics", headers={"If-None-Match": '"other"', "If-Modified-Since": http_date(last)}
    )
    assert both.status_code == 200


def test_head_has_the_headers_and_no_body(seeded: Any, client: FlaskClient) -> None:
    get = client.get("/calendar.ics")
    head = client.head("/calendar.ics")
    assert head.status_code == 200 and head.data == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length"):
        assert head.headers[name] == get.headers[name]
    assert int(head.headers["Content-Length"]) == len(get.data)


def test_no_accept_header_is_needed_and_none_is_refused(seeded: Any, client: FlaskClient) -> None:
    plain = client.get("/calendar.ics", headers={"User-Agent": "Google-Calendar-Importer"})
    other = client.get("/calendar.ics", headers={"Accept": "application/json"})
    assert plain.status_code == other.status_code == 200
    assert other.data == plain.data


def test_a_repeated_request_renders_nothing(seeded: Any, app: Flask, client: FlaskClient) -> None:
    renderer = app.extensions["diplocal"].renderer
    calls: list[int] = []
    original = renderer.assemble

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return bytes(original(*args, **kwargs))

    renderer.assemble = counting
    first = client.get("/calendar.ics?country=JP")
    second = client.get("/calendar.ics?country=JP")
    same_query = client.get("/calendar.ics?country=jp")
    assert first.data == second.data == same_query.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert len(calls) == 1
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    third = client.get("/calendar.ics?country=JP")
    assert len(calls) == 2
    assert third.headers["ETag"] != first.headers["ETag"]
    assert b"STATUS:CONFIRMED" in third.data


def test_filters_select_summits(seeded: Any, client: FlaskClient) -> None:
    korea = client.get("/calendar.ics?country=KR").data
    assert b"kr-jp-2025-tokyo@" in korea and b"fr-de-2025-paris@" not in korea
    german = client.get("/calendar.ics?country=DE").data
    assert b"fr-de-2025-paris@" in german and b"kr-jp-2025-tokyo@" not in german
    tentative = client.get("/calendar.ics?status=tentative").data
    assert b"kr-jp-2025-tokyo@" in tentative and b"fr-de-2025-paris@" not in tentative


def test_an_as_of_feed_is_the_feed_of_that_time(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    then = client.get("/calendar.ics")
    seeded("kr-jp-2025-tokyo", "SummitCancelled", {"reason": "typhoon"})
    now = client.get("/calendar.ics")
    assert now.data != then.data
    by_position = client.get("/calendar.ics?at_position=2")
    second = next(store.read(after=1, limit=1))
    by_time = client.get(f"/calendar.ics?as_of={second.recorded_at}")
    assert by_position.data == by_time.data == then.data
    assert by_position.headers["ETag"] == then.headers["ETag"]
    assert by_position.headers["Last-Modified"] == then.headers["Last-Modified"]


def test_one_summit_as_a_single_event_file(seeded: Any, client: FlaskClient) -> None:
    response = client.get("/summits/kr-jp-2025-tokyo.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR
    assert response.data.count(b"BEGIN:VEVENT") == 1
    assert b"X-WR-CALNAME" not in response.data
    etag = response.headers["ETag"]
    assert (
        client.get("/summits/kr-jp-2025-tokyo.ics", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert client.get("/summits/no-such-summit.ics").status_code == 404
    seeded("kr-jp-2025-tokyo", "EntryRetracted", {"reason": "never planned"})
    gone = client.get("/summits/kr-jp-2025-tokyo.ics")
    assert gone.status_code == 410 and gone.mimetype == "application/problem+json"


def test_an_empty_log_gives_an_empty_feed_without_last_modified(
    client: FlaskClient, clock: Any
) -> None:
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert b"BEGIN:VEVENT" not in response.data
    assert "Last-Modified" not in response.headers
    assert (
        client.get("/calendar.ics", headers={"If-Modified-Since": http_date(clock.now)}).status_code
        == 200
    )


def test_a_repeated_live_request_is_answered_before_flask_routing(
    seeded: Any, app: Flask, client: FlaskClient, clock: Any
) -> None:
    first = client.get("/calendar.ics?country=KR")
    calls: list[str] = []

    def spy(**kwargs: Any) -> Any:
        calls.append("flask")
        raise AssertionError("the Flask view should not run for a cached live feed")

    original = app.view_functions["feeds.calendar_feed"]
    app.view_functions["feeds.calendar_feed"] = spy
    again = client.get("/calendar.ics?country=KR")
    head = client.head("/calendar.ics?country=KR")
    modified = client.get(
        "/calendar.ics?country=KR", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert calls == []
    assert again.data == first.data and head.data == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length"):
        assert again.headers[name] == first.headers[name] == head.headers[name]
    assert modified.status_code == 304
    # a write moves the head: the next request goes through Flask again and sees it
    app.view_functions["feeds.calendar_feed"] = original
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    assert b"STATUS:CONFIRMED" in client.get("/calendar.ics?country=KR").data


def test_a_summit_without_a_date_has_no_single_event_file(seeded: Any, client: FlaskClient) -> None:
    """Known only to the month: 404 with a reason, and its page offers no .ics link."""
    seeded("kr-jp-2025-tokyo", "SummitRescheduled", {"schedule": {"start": "2025-09"}})
    response = client.get("/summits/kr-jp-2025-tokyo.ics")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "no date yet" in response.json["detail"]
    page = client.get("/summits/kr-jp-2025-tokyo")
    assert page.status_code == 200
    assert b"kr-jp-2025-tokyo.ics" not in page.data
    assert b"fr-de-2025-paris.ics" in client.get("/summits/fr-de-2025-paris").data
