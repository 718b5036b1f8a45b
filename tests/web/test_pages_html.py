"""The HTML pages: listing by date in the reader's zone, filters, subscribe links, one summit."""

from __future__ import annotations

import html
import re
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from factories import SID, announce, note
from flask.testing import FlaskClient
from icalendar import Calendar

from events import EventStore


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
    assert page.index('data-type="SummitPostponed"') < page.index('data-type="SummitAnnounced"')
    assert "typhoon warning" in page and 'href="https://example.org/typhoon"' in page
    assert re.search(r'<time datetime="2025-08-01T09:(\d\d):00Z">Fri 01 Aug 2025, 09:\1 UTC<', page)
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


def visible(page: str) -> str:
    """The text of a page as a reader sees it: no tags, no attributes."""
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def test_history_names_events_in_words_and_dates_readably(seeded: Any, client: FlaskClient) -> None:
    from events import EVENT_TYPES

    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    seeded(
        "kr-jp-2025-tokyo",
        "SummitCompleted",
        {
            "outcome": "Held at the residence.",
            "source": {"url": "https://example.org/a", "published_on": "2025-08-25"},
        },
    )
    page = client.get("/summits/kr-jp-2025-tokyo").get_data(as_text=True)
    labels = re.findall(r'<strong class="event" data-type="(\w+)">([^<]+)</strong>', page)
    assert labels == [
        ("SummitCompleted", "Held"),
        ("SummitConfirmed", "Confirmed"),
        ("SummitAnnounced", "Announced"),
    ]
    text = visible(page)
    assert not [t for t in EVENT_TYPES if t in text], "raw event type names on the page"
    assert not re.search(r"\d{4}-\d\d-\d\dT", text), "raw ISO instants on the page"
    assert '<time datetime="2025-08-25">25 Aug 2025</time>' in page
    # a label that says everything is not repeated as a summary underneath it
    timeline = page[page.index('<ol class="timeline">') :]
    confirmed = re.findall(r"<li>(.*?)</li>", timeline, re.S)[1]
    assert visible(confirmed).count("Confirmed") == 1


def test_every_event_type_has_a_label_in_words() -> None:
    """The core names each type for the page: capitalised words, never the raw class name."""
    from calendar_core.meaning import meaning_of
    from events.schema import MODELS

    for event_type, model in MODELS.items():
        label = meaning_of(model.model_construct()).label  # type: ignore[arg-type]
        assert label and label[0].isupper() and label[1:] == label[1:].lower(), event_type
        assert event_type not in label and "Summit" not in label


def test_descriptions_keep_their_line_breaks_escaped(
    post: Any, client: FlaskClient, helpers: Any
) -> None:
    description = "Day one: <b>talks</b>.\nDay two: a dinner.\n\nPress: none."
    note = "First report.\nSecond report. " + "word " * 400
    data = helpers.announce_data(description=description, note=note)
    assert post("kr-jp-2025-tokyo", "SummitAnnounced", data).status_code == 201
    page = client.get("/summits/kr-jp-2025-tokyo").get_data(as_text=True)
    escaped = html.escape(description, quote=True)
    assert f'<dd class="text">{escaped}</dd>' in page and "<b>" not in page
    assert f'<div class="note text">Note: {html.escape(note, quote=True)}</div>' in page  # whole
    with client.get("/static/style.css") as response:
        css = response.get_data(as_text=True)
    assert re.search(r"\.text \{[^}]*white-space: pre-line", css)


def tzdata(name: str) -> str:
    """A table of the tzdata package on PyPI."""
    return files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


def test_the_zone_menu_offers_canonical_zones_by_region(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    menu = page[page.index('<select name="tz"') : page.index("</select>", page.index('name="tz"'))]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', menu, re.S)
    offered = {
        value: region
        for region, options in groups
        for value in re.findall(r'<option value="([^"]+)"', options)
    }
    zones = {line.split()[1] for line in tzdata("tzdata.zi").splitlines() if line[:2] == "Z "}
    links = {line.split()[2] for line in tzdata("tzdata.zi").splitlines() if line[:2] == "L "}
    assert set(offered) <= zones and not set(offered) & links
    places = {
        line.split("\t")[2] for line in tzdata("zone1970.tab").splitlines() if line[:1] != "#"
    }
    assert set(offered) == places
    for legacy in ("US/Central", "Asia/Calcutta", "Europe/Kiev", "Europe/Amsterdam"):
        assert legacy in links and legacy not in menu
    regions = {
        region: {v.split("/")[0] for v, r in offered.items() if r == region} for region, _ in groups
    }
    assert all(len(prefixes) == 1 for prefixes in regions.values()), regions
    assert len(groups) == len(regions)  # each region once
    assert re.search(r'<option value="Europe/Kyiv" >Kyiv — Ukraine', menu)


def test_a_legacy_zone_name_shows_its_zone(seeded: Any, client: FlaskClient) -> None:
    page = client.get("/?tz=US/Central").get_data(as_text=True)
    assert "not a time zone" not in page
    assert '<option value="America/Chicago" selected>' in page
    assert "02:55" in page and "(America/Chicago)" in page  # 07:55 UTC in Chicago in August
    utc = client.get("/?tz=Etc/UTC").get_data(as_text=True)
    assert '<option value="UTC" selected>' in utc and "07:55" in utc
    bad = client.get("/?tz=Etc/GMT%2B5").get_data(as_text=True)
    assert "&#39;Etc/GMT+5&#39; is not a time zone" in bad


def test_a_timed_summit_without_an_end_says_so_as_the_feed_does(
    seeded: Any, client: FlaskClient, helpers: Any
) -> None:
    """The page names the length calendars show for a start without an end; no note once an
    end is recorded, nor for a summit of whole days."""
    from calendar_core.ical import DEFAULT_LENGTH, end_not_announced

    for kind in ("multilateral_summit", "sideline_meeting"):
        summit_id = f"{kind.replace('_', '-')}-2025"
        data = helpers.announce_data(kind=kind, schedule={"start": "2025-08-25T12:15"})
        assert seeded(summit_id, "SummitAnnounced", data).status_code == 201
        page = client.get(f"/summits/{summit_id}").get_data(as_text=True)
        said = end_not_announced(kind)
        hours = int(DEFAULT_LENGTH[kind].total_seconds() // 3600)
        assert f"shown as {hours} hour" in said
        note = re.search(r'id="end-note">([^<]*)<', page)
        assert note is not None and note.group(1).startswith(said), page
        feed = Calendar.from_ical(client.get(f"/summits/{summit_id}.ics").data)
        [event] = feed.walk("VEVENT")
        assert said in str(event["DESCRIPTION"]).splitlines()  # as the feed says it
    rescheduled = {"schedule": {"start": "2025-08-25T12:15", "end": "2025-08-25T14:00"}}
    assert seeded("sideline-meeting-2025", "SummitRescheduled", rescheduled).status_code == 201
    ended = client.get("/summits/sideline-meeting-2025").get_data(as_text=True)
    assert 'id="end-note"' not in ended and "14:00" in ended
    whole_days = client.get("/summits/fr-de-2025-paris").get_data(as_text=True)
    assert 'id="end-note"' not in whole_days and "not announced" not in whole_days


def test_a_long_history_is_paged_newest_first_each_entry_once(
    store: EventStore, client: FlaskClient
) -> None:
    """A summit with 120 events: pages of 50, newest first, each event exactly once, following
    the "older entries" link; a bad `before` is a 422 problem naming it."""
    store.append([announce().draft])
    for n in range(119):
        store.append([note(f"Report {n}").draft])
    url: str | None = f"/summits/{SID}"
    seen: list[int] = []
    pages = 0
    while url is not None:
        page = client.get(url).get_data(as_text=True)
        positions = [int(p) for p in re.findall(r"log position (\d+)\)", page)]
        assert positions == sorted(positions, reverse=True) and len(positions) <= 50
        seen += positions
        pages += 1
        older = re.search(r'<a href="([^"]+)" rel="next" id="older">', page)
        url = html.unescape(older.group(1)) if older else None
    assert pages == 3 and seen == list(range(120, 0, -1))
    assert "newest entries" in client.get(f"/summits/{SID}?before=50").get_data(as_text=True)
    short = client.get(f"/summits/{SID}?limit=5").get_data(as_text=True)
    assert re.findall(r"log position (\d+)\)", short) == ["120", "119", "118", "117", "116"]
    bad = client.get(f"/summits/{SID}?before=soon")
    assert bad.status_code == 422 and "before" in bad.get_json()["detail"]
