"""Feed links without DIPLOCAL_BASE_URL: each request's scheme and host, cached per host
(Flask's cache and the WSGI fast path), with a bounded number of hosts; a proxy's
X-Forwarded-* only when DIPLOCAL_PROXY_FIX says so."""

from __future__ import annotations

import re
import sys
import urllib.request
from typing import Any

import pytest
from flask import Flask

from events import EventStore, FixedClock
from web import create_app

LINK = re.compile(rb"^URL:(.+)/summits/[^/\r\n]+\r$", re.M)


def links(body: bytes) -> set[bytes]:
    """The bases of the summit links in a feed (unfolded lines are short enough here)."""
    return set(LINK.findall(body))


@pytest.fixture
def hosted(store: EventStore, clock: FixedClock, seeded: Any) -> Flask:
    """An app without a public URL over the seeded store (two summits)."""
    return create_app({"BASE_URL": None}, store=store, clock=clock)


def test_feed_links_use_the_request_host_and_scheme(hosted: Flask) -> None:
    client = hosted.test_client()
    one = client.get("/calendar.ics", base_url="http://a.test:8000")
    two = client.get("/calendar.ics", base_url="https://b.test")
    assert links(one.data) == {b"http://a.test:8000"}
    assert links(two.data) == {b"https://b.test"}
    assert one.headers["ETag"] != two.headers["ETag"]
    again = client.get("/calendar.ics", base_url="http://a.test:8000")
    assert again.data == one.data and again.headers["ETag"] == one.headers["ETag"]
    upper = client.get("/calendar.ics", base_url="http://A.TEST:8000")
    assert upper.data == one.data, "host names are case-insensitive"
    single = client.get("/summits/kr-jp-2025-tokyo.ics", base_url="https://b.test")
    assert links(single.data) == {b"https://b.test"}
    single_a = client.get("/summits/kr-jp-2025-tokyo.ics", base_url="http://a.test:8000")
    assert links(single_a.data) == {b"http://a.test:8000"}


def test_the_fast_path_answers_each_host_with_its_own_feed(hosted: Flask) -> None:
    client = hosted.test_client()
    first = client.get("/calendar.ics?country=KR", base_url="http://a.test")
    calls: list[str] = []
    original = hosted.view_functions["feeds.calendar_feed"]

    def spy(**kwargs: Any) -> Any:
        calls.append("flask")
        return original(**kwargs)

    hosted.view_functions["feeds.calendar_feed"] = spy
    cached = client.get("/calendar.ics?country=KR", base_url="http://a.test")
    assert calls == [] and cached.data == first.data, "a repeat from the same host: fast path"
    other = client.get("/calendar.ics?country=KR", base_url="http://b.test")
    assert calls == ["flask"], "another host is not answered with the first host's bytes"
    assert links(other.data) == {b"http://b.test"}
    client.get("/calendar.ics?country=KR", base_url="http://b.test")
    assert calls == ["flask"], "and is cached in turn"


def test_the_hosts_kept_are_bounded(store: EventStore, clock: FixedClock, seeded: Any) -> None:
    app = create_app({"BASE_URL": None, "FEED_HOSTS": 3}, store=store, clock=clock)
    client = app.test_client()
    renderers = app.extensions["diplocal"].renderers
    for number in range(12):
        body = client.get("/calendar.ics", base_url=f"http://h{number}.test").data
        assert links(body) == {f"http://h{number}.test".encode()}
        assert len(renderers) <= 3
    assert links(client.get("/calendar.ics", base_url="http://h0.test").data) == {b"http://h0.test"}


def test_a_public_url_gives_every_host_the_same_links(
    store: EventStore, clock: FixedClock, seeded: Any
) -> None:
    app = create_app({"BASE_URL": "https://cal.example.org/"}, store=store, clock=clock)
    client = app.test_client()
    one = client.get("/calendar.ics", base_url="http://a.test").data
    two = client.get("/calendar.ics", base_url="http://b.test:9000").data
    assert one == two and links(one) == {b"https://cal.example.org"}
    assert len(app.extensions["diplocal"].renderers) == 1, "one renderer, whatever the host"


def test_a_host_header_that_is_no_host_is_refused(hosted: Flask) -> None:
    response = hosted.test_client().get("/calendar.ics", headers={"Host": "a b<script>"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert len(hosted.extensions["diplocal"].renderers) == 0


def test_trusted_hosts_refuse_other_hosts(
    store: EventStore, clock: FixedClock, seeded: Any
) -> None:
    app = create_app(
        {"BASE_URL": None, "TRUSTED_HOSTS": ("cal.example.org",)}, store=store, clock=clock
    )
    client = app.test_client()
    assert client.get("/calendar.ics", base_url="http://evil.test").status_code == 400
    assert client.get("/", base_url="http://evil.test").status_code == 400
    good = client.get("/calendar.ics", base_url="https://cal.example.org")
    assert good.status_code == 200 and links(good.data) == {b"https://cal.example.org"}


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}


def test_forwarded_headers_count_only_behind_proxy_fix(
    store: EventStore, clock: FixedClock, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = create_app({"BASE_URL": None}, store=store, clock=clock).test_client()
    ignored = plain.get("/calendar.ics", base_url="http://10.0.0.5:8000", headers=FORWARDED)
    assert links(ignored.data) == {b"http://10.0.0.5:8000"}
    monkeypatch.setenv("DIPLOCAL_PROXY_FIX", "1")
    proxied = create_app({"BASE_URL": None}, store=store, clock=clock).test_client()
    for _ in range(2):  # through Flask, then through the fast path
        honoured = proxied.get("/calendar.ics", base_url="http://10.0.0.5:8000", headers=FORWARDED)
        assert links(honoured.data) == {b"https://public.example"}
    page = proxied.get("/", base_url="http://10.0.0.5:8000", headers=FORWARDED)
    assert b"webcal://public.example/calendar.ics" in page.data
    monkeypatch.setenv("DIPLOCAL_PROXY_FIX", "yes")
    with pytest.raises(ValueError, match="DIPLOCAL_PROXY_FIX"):
        create_app({"BASE_URL": None}, store=store, clock=clock)


@pytest.mark.slow
def test_gunicorn_without_a_base_url_links_to_the_host_asked(
    tmp_path: Any, helpers: Any, store: EventStore, seeded: Any
) -> None:
    """`gunicorn 'web:create_app()'` with no DIPLOCAL_BASE_URL: no 127.0.0.1 in a feed
    fetched by its public name."""
    db = str(tmp_path / "web.sqlite3")  # the seeded store's file
    store.close()

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                "web:create_app()"]  # fmt: skip

    with helpers.running(command, db) as server:
        port = server.url.rsplit(":", 1)[1]
        for _ in range(3):  # both workers, Flask's path and the fast path
            asked = urllib.request.Request(
                server.url + "/calendar.ics", headers={"Host": f"calendar.example.org:{port}"}
            )
            with urllib.request.urlopen(asked, timeout=10) as response:
                body = response.read()
            assert links(body) == {f"http://calendar.example.org:{port}".encode()}
            assert b"127.0.0.1" not in body
