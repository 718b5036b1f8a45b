"""The HTML pages: listing by date in the reader's zone, filters, subscribe links, one summit."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask.testing import FlaskClient


def links(page: str) -> dict[str, str]:
    found = dict(re.findall(r'data-kind="(\w+)" href="([^"]+)"', page))
    found.update(re.findall(r'data-kind="(https)" type="text" readonly value="([^"]+)"', page))
    return {k: html.unescape(v) for k, v in found.items()}


def test_the_page_lists_summits_in_sections(seeded: Any, client: FlaskClient, helpers: Any) -> None:
    undated = helpers.announce_data(
        title="Summit in Seoul, date to come", schedule={"start": "2025-11"}
    )
    seeded("kr-us-2025-seoul", "SummitAnnounced", undated)
    past = helpers.announce_data(title="Spring summit", schedule={"start": "2025-04-02"})
    seeded("kr-cn-2025-spring", "SummitAnnounced", past)
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    upcoming = page.index('id="upcoming"')
    to_be_set = page.index('id="undated"')
    gone = page.index('id="past"')
    assert upcoming < page.index("Korea-Japan summit") < to_be_set
    assert to_be_set < page.index("date to come") < gone < page.index("Spring summit")
    assert "November 2025" in page
    # by date: the Tokyo summit (August) comes before the Paris one (September)
    assert page.index("Korea-Japan summit") < page.index("France-Germany consultations")


def test_times_are_shown_in_the_chosen_zone(seeded: Any, client: FlaskClient) -> None:
    local = client.get("/").get_data(as_text=True)
    assert "16:55" in local  # venue time in Tokyo
    utc = client.get("/?tz=UTC").get_data(as_text=True)
    assert "07:55" in utc and "16:55" not in utc
    new_york = client.get("/?tz=America/New_York").get_data(as_text=True)
    assert "03:55" in new_york
    unknown = client.get("/?tz=Mars/Olympus").get_data(as_text=True)
    assert "not a time zone" in unknown and "16:55" in unknown


def test_the_page_escapes_what_editors_wrote(
    seeded: Any, client: FlaskClient, helpers: Any
) -> None:
    data = helpers.announce_data(title="<script>alert(1)</script> summit")
    seeded("xss-2025-test", "SummitAnnounced", data)
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_filter_and_subscribe_links(seeded: Any, client: FlaskClient) -> None:
    page = client.get("/?country=FR").get_data(as_text=True)
    assert "France-Germany consultations" in page and "Korea-Japan summit" not in page
    filtered = page[page.index('id="subscribe-filtered"') : page.index('id="subscribe-all"')]
    found = links(filtered)
    assert found["https"] == "https://cal.example.org/calendar.ics?country=FR"
    assert found["webcal"] == "webcal://cal.example.org/calendar.ics?country=FR"
    google = urlsplit(found["google"])
    assert (google.netloc, google.path) == ("calendar.google.com", "/calendar/render")
    assert unquote(parse_qs(google.query)["cid"][0]) == found["webcal"]
    outlook = urlsplit(found["outlook"])
    assert (outlook.netloc, outlook.path) == ("outlook.live.com", "/calendar/0/addfromweb")
    query = parse_qs(outlook.query)
    assert query["url"] == [found["https"]] and query["name"][0]
    whole = links(page[page.index('id="subscribe-all"') :])
    assert whole["https"] == "https://cal.example.org/calendar.ics"
    assert (
        whole["google"]
        == "https://calendar.google.com/calendar/render?cid=webcal://cal.example.org/calendar.ics"
    )


def test_the_whole_feed_link_uses_the_request_host_without_a_base_url(
    store: Any, clock: Any
) -> None:
    from web import create_app

    app = create_app({"BASE_URL": None}, store=store, clock=clock)
    page = app.test_client().get("/", base_url="http://calendar.test:8000").get_data(as_text=True)
    assert links(page)["webcal"] == "webcal://calendar.test:8000/calendar.ics"


def test_a_summit_page_shows_status_and_history(seeded: Any, client: FlaskClient) -> None:
    seeded(
        "kr-jp-2025-tokyo",
        "SummitPostponed",
        {"reason": "typhoon warning", "source": {"url": "https://example.org/typhoon"}},
    )
    response = client.get("/summits/kr-jp-2025-tokyo")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="status">postponed<' in page
    assert page.index("SummitPostponed") < page.index("SummitAnnounced")  # newest first
    assert "typhoon warning" in page and 'href="https://example.org/typhoon"' in page
    assert re.search(r'<time datetime="2025-08-01T09:\d\d:00Z">', page)
    assert 'href="/summits/kr-jp-2025-tokyo.ics"' in page


def test_unknown_and_retracted_summit_pages(seeded: Any, client: FlaskClient) -> None:
    assert client.get("/summits/no-such-summit").status_code == 404
    seeded("kr-jp-2025-tokyo", "EntryRetracted", {"reason": "never planned"})
    gone = client.get("/summits/kr-jp-2025-tokyo")
    assert gone.status_code == 410
    assert "retracted" in gone.get_data(as_text=True)
    assert "Korea-Japan summit" not in client.get("/").get_data(as_text=True)


def test_favicon_and_stylesheet(client: FlaskClient) -> None:
    for path, mimetype in (("/favicon.ico", "image/svg+xml"), ("/static/style.css", "text/css")):
        with client.get(path) as response:
            assert response.status_code == 200 and response.mimetype == mimetype
            assert response.data
