"""Server-rendered HTML: the calendar page with subscribe links, and one page per summit."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pycountry
from flask import Blueprint, Response, render_template, request, send_from_directory, url_for

from calendar_core.ical import end_not_announced
from calendar_core.meaning import label, summary
from calendar_core.query import Query, select
from calendar_core.summit import Status, Summit
from events import Recorded
from events.schedule import AllDay, ScheduleError, Timed, Undated, resolve
from web.context import state
from web.feeds import UNDATED
from web.params import page_limit, parse_query, whole_number

bp = Blueprint("pages", __name__)

MONTHS = "January February March April May June July August September October November December"
DASH = " \u2013 "  # an en dash between the ends of a range


TZDATA = files("tzdata").joinpath("zoneinfo")  # the IANA tables shipped with PyPI's tzdata
REGIONS = {
    "America": "Americas",
    "Atlantic": "Atlantic Ocean",
    "Indian": "Indian Ocean",
    "Pacific": "Pacific Ocean",
}


@dataclass(frozen=True)
class ZoneChoice:
    """One entry of the time zone menu: the IANA name and the places it covers."""

    name: str
    label: str


@cache
def zone_groups() -> tuple[tuple[str, tuple[ZoneChoice, ...]], ...]:
    """Canonical zones of places (zone1970.tab: no legacy links), grouped by region."""
    groups: dict[str, list[ZoneChoice]] = {}
    for line in TZDATA.joinpath("zone1970.tab").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        codes, _, name, *comment = line.split("\t")
        region, place = name.split("/", 1)
        label = place.replace("_", " ").replace("/", " / ") + " \u2014 "
        label += ", ".join(country_name(code) for code in codes.split(","))
        label += f": {comment[0]}" if comment else ""
        groups.setdefault(REGIONS.get(region, region), []).append(ZoneChoice(name, label))
    return tuple(
        (region, tuple(sorted(choices, key=lambda c: c.label)))
        for region, choices in sorted(groups.items())
    )


@cache
def zone_choices() -> frozenset[str]:
    """The names the time zone menu offers."""
    return frozenset(c.name for _, choices in zone_groups() for c in choices)


@cache
def zone_links() -> dict[str, str]:
    """Legacy and merged zone names (tzdata's links, such as US/Central) to their zone."""
    text = TZDATA.joinpath("tzdata.zi").read_text(encoding="utf-8")
    return {
        fields[2]: fields[1]
        for fields in (line.split() for line in text.splitlines())
        if fields[:1] == ["L"]
    }


def chosen_zone(name: str) -> str | None:
    """The menu's zone for a requested name ("UTC", a zone, or a link to one), else None."""
    name = zone_links().get(name, name)
    if name in ("UTC", "Etc/UTC"):
        return "UTC"
    return name if name in zone_choices() else None


def country_name(code: str) -> str:
    """A country's common name for an alpha-2 code."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


@dataclass(frozen=True)
class Row:
    """A summit as a line of the page: when (in the reader's zone) and what."""

    summit: Summit
    sort_key: str
    when: str
    zone_note: str
    upcoming: bool
    dated: bool
    end_note: str | None = None  # a timed summit without an end: the length calendars show


def _undated_text(schedule_start: str, schedule_end: str | None) -> str:
    def one(value: str) -> str:
        if len(value) == 7:
            return f"{MONTHS.split()[int(value[5:7]) - 1]} {value[:4]}"
        return value

    text = one(schedule_start)
    return text if schedule_end in (None, schedule_start) else f"{text}{DASH}{one(schedule_end)}"


def row(summit: Summit, zone: str | None, now: datetime) -> Row:
    """Place a summit on the page: its local or chosen-zone time, and upcoming or past."""
    venue_zone = summit.location.timezone
    shown_zone = zoneinfo.ZoneInfo(zone or venue_zone)
    try:
        when = resolve(summit.schedule, venue_zone)
    except ScheduleError:
        when = Undated("unknown")
    finished = summit.status is Status.COMPLETED
    if isinstance(when, Timed):
        start = when.start.astimezone(shown_zone)
        text = start.strftime("%a %d %b %Y, %H:%M")
        if when.end is not None:
            end = when.end.astimezone(shown_zone)
            same_day = end.date() == start.date()
            text += DASH + end.strftime("%H:%M" if same_day else "%a %d %b %Y, %H:%M")
        past = (when.end or when.start) < now
        utc_key = when.start.astimezone(UTC).isoformat()
        note = None if when.end is not None else end_not_announced(summit.kind) + " in calendars"
        return Row(summit, utc_key, text, str(shown_zone), not (past or finished), True, note)
    if isinstance(when, AllDay):
        last = date.fromordinal(when.end_exclusive.toordinal() - 1)
        text = when.first.strftime("%a %d %b %Y")
        if last != when.first:
            text += DASH + last.strftime("%a %d %b %Y")
        today = now.astimezone(zoneinfo.ZoneInfo(venue_zone)).date()
        past = when.end_exclusive <= today
        return Row(
            summit,
            when.first.isoformat(),
            text,
            "all day, local dates",
            not (past or finished),
            True,
        )
    text = _undated_text(summit.schedule.start, summit.schedule.end)
    return Row(summit, summit.schedule.start, text, "date to be set", not finished, False)


def feed_urls(base: str, query: Query, name: str) -> dict[str, str]:
    """Subscribe links for a feed: https, webcal, Google Calendar and Outlook.com."""
    params = [("country", c) for c in sorted(query.countries)]
    params += [("kind", k) for k in sorted(query.kinds)]
    params += [("status", s) for s in sorted(query.statuses)]
    path = "/calendar.ics" + ("?" + urlencode(params) if params else "")
    https = base.rstrip("/") + path
    parts = urlsplit(https)
    webcal = "webcal://" + parts.netloc + path
    google = "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=":/?=")
    outlook = (
        "https://outlook.live.com/calendar/0/addfromweb?url="
        + quote(https, safe="")
        + "&name="
        + quote(name, safe="")
    )
    return {"https": https, "webcal": webcal, "google": google, "outlook": outlook}


def _base_url() -> str:
    configured = state().settings.get("BASE_URL")
    return str(configured) if configured else request.host_url


def _countries(summits: list[Summit]) -> list[tuple[str, str]]:
    codes = {s.location.country for s in summits}
    codes |= {p.country for s in summits for p in s.participants if p.country}
    return sorted(((c, country_name(c)) for c in codes), key=lambda pair: pair[1])


@bp.get("/")
def index() -> str:
    """Upcoming summits by date, those with no date yet, and past ones; subscribe links."""
    st = state()
    query = parse_query(request.args)
    asked = request.args.get("tz", "").strip() or None
    zone = None if asked is None else chosen_zone(asked)
    zone_error = None
    if asked is not None and zone is None:
        zone_error = f"{asked!r} is not a time zone this server knows; showing local times"
    now = st.clock()
    with st.live.lock:
        view = st.live.current()
        every = select(view.calendar, Query(frozenset(), frozenset(), frozenset()))
        chosen = select(view.calendar, query)
    rows = sorted(
        (row(s, zone, now) for s in chosen), key=lambda r: (r.sort_key, r.summit.summit_id)
    )
    name = st.settings["FEED_NAME"]
    filtered = bool(query.countries or query.kinds or query.statuses)
    label = ", ".join(country_name(c) for c in sorted(query.countries)) or "filtered"
    return render_template(
        "index.html",
        upcoming=[r for r in rows if r.dated and r.upcoming],
        undated=[r for r in rows if not r.dated and r.upcoming],
        past=[r for r in reversed(rows) if not r.upcoming],
        countries=_countries(every),
        selected=set(query.countries),
        zones=zone_groups(),
        zone=zone,
        zone_error=zone_error,
        whole=feed_urls(_base_url(), Query(frozenset(), frozenset(), frozenset()), name),
        filtered=feed_urls(_base_url(), query, f"{name} ({label})") if filtered else None,
        filter_label=label,
        position=view.position,
        country_name=country_name,
    )


def _utc_text(instant: str) -> str:
    """A recorded_at instant as a reader writes it: "Mon 25 Aug 2025, 00:30 UTC"."""
    return datetime.fromisoformat(instant).astimezone(UTC).strftime("%a %d %b %Y, %H:%M UTC")


def _day_text(day: str) -> str:
    """An ISO day as a reader writes it: "25 Aug 2025"."""
    return date.fromisoformat(day).strftime("%d %b %Y")


def timeline(records: list[Recorded]) -> list[dict[str, Any]]:
    """History entries, in the order given, each event told by the domain's own summary (a
    note in full)."""
    entries: list[dict[str, Any]] = []
    for record in records:
        event = record.event()
        note = record.data.get("note")
        source = record.data.get("source")
        published = source.get("published_on") if source else None
        entries.append(
            {
                "recorded_at": record.recorded_at,
                "recorded_text": _utc_text(record.recorded_at),
                "type": record.type,
                "label": label(event),
                "summary": note if record.type == "SummitNoted" else summary(event),
                "note": None if record.type == "SummitNoted" else note,
                "source": source,
                "published_text": _day_text(published) if published else None,
                "version": record.version,
                "position": record.position,
            }
        )
    return entries


HISTORY_PAGE = 50


@bp.get("/summits/<summit_id>")
def summit_page(summit_id: str) -> Response | tuple[str, int]:
    """One summit: status, when and where, and its history as a timeline, newest first, a
    page at a time (`before`: a log position, as the "older entries" link gives it)."""
    st = state()
    before = request.args.get("before")
    until = None if before is None else whole_number(before, "before", 1) - 1
    limit = page_limit(request.args, int(st.settings["EVENTS_PAGE_LIMIT"]), HISTORY_PAGE)
    with st.live.lock:
        summit = st.live.current().calendar.summits.get(summit_id)
    if summit is None:
        return render_template("missing.html", summit_id=summit_id), 404
    read = st.store.read(summit_id=summit_id, until=until, limit=limit + 1, newest_first=True)
    records = list(read)
    retracted = summit.status is Status.RETRACTED
    shown = None if retracted else row(summit, None, st.clock())
    utc = None if retracted else row(summit, "UTC", st.clock())
    history = timeline(records[:limit])
    older = None
    if len(records) > limit:
        older = url_for(
            "pages.summit_page", summit_id=summit_id, before=records[limit - 1].position
        )
    page = render_template(
        "summit.html",
        summit=summit,
        retracted=retracted,
        shown=shown,
        utc=utc,
        history=history,
        older=older,
        newest=None if before is None else url_for("pages.summit_page", summit_id=summit_id),
        country_name=country_name,
        ics_url=None
        if summit.schedule.precision in UNDATED
        else url_for("feeds.summit_file", summit_id=summit_id),
    )
    return page, 410 if retracted else 200


@bp.app_context_processor
def _chain_state() -> dict[str, Any]:
    """Every page says so when the log's hash chain is broken."""
    st = state()
    return {"chain": st.chain.report(st.store)}


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon (so browsers do not log a 404)."""
    return send_from_directory(bp.root_path + "/static", "favicon.svg", mimetype="image/svg+xml")
