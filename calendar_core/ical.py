"""iCalendar output: the subscription feed and single-event files, from cached byte chunks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pycountry
from icalendar import Calendar, Event, vDDDTypes, vDuration, vText
from icalendar.caselessdict import canonsort_keys
from icalendar.parser.string import _foldline

from calendar_core.summit import Attendee, Status, Summit
from calendar_core.vtimezone import vtimezone_bytes
from events.record import parse_stamp
from events.schedule import AllDay, Timed, resolve
from events.schema import KINDS

__all__ = [
    "DEFAULT_LENGTH",
    "DEFAULT_PRODID",
    "Chunk",
    "Coverage",
    "FeedOptions",
    "FeedRenderer",
    "end_not_announced",
    "fold",
    "render_vevent",
]

DEFAULT_PRODID = "-//diplocal//Diplomatic Calendar//EN"
REFRESH = timedelta(hours=6)
_END = b"END:VCALENDAR\r\n"
_STATUS = {
    Status.TENTATIVE: "TENTATIVE",
    Status.CONFIRMED: "CONFIRMED",
    Status.COMPLETED: "CONFIRMED",
    Status.POSTPONED: "CANCELLED",
    Status.CANCELLED: "CANCELLED",
}
_PREFIX = {Status.POSTPONED: "Postponed: ", Status.CANCELLED: "Cancelled: "}

# How long a timed summit whose end was not announced is shown, by kind (docs/feeds.md).
# Clients read a VEVENT without DTEND as anything from 0 minutes to 24 hours, so the feed
# always writes one: start + this length, and DESCRIPTION says the end was not announced.
DEFAULT_LENGTH: Mapping[str, timedelta] = MappingProxyType(
    {
        "bilateral_summit": timedelta(hours=2),
        "multilateral_summit": timedelta(hours=3),
        "state_visit": timedelta(hours=3),
        "official_visit": timedelta(hours=2),
        "working_visit": timedelta(hours=2),
        "sideline_meeting": timedelta(hours=1),
        "other": timedelta(hours=1),
    }
)
assert set(DEFAULT_LENGTH) == set(KINDS), "every kind needs a default length"


@dataclass(frozen=True)
class FeedOptions:
    """What every feed of one deployment shares: its name, UID domain and public base URL."""

    name: str
    uid_domain: str
    base_url: str
    prodid: str = DEFAULT_PRODID
    description: str = "Summits, state visits and official visits, with their sources"


@dataclass(frozen=True)
class Chunk:
    """One summit's rendered VEVENT and what the feed needs to know about it."""

    body: bytes
    zone: str | None  # the TZID it references, if any
    first_year: int
    last_year: int


@dataclass(frozen=True)
class Coverage:
    """What a feed's VTIMEZONEs cover: the zones its VEVENTs name, and the years (whole
    decades, with a year's margin) they span."""

    zones: tuple[str, ...]  # sorted
    years: tuple[int, int]

    @classmethod
    def of(cls, chunks: Iterable[Chunk]) -> Coverage:
        """The coverage these chunks need."""
        chunks = list(chunks)
        zones = {chunk.zone for chunk in chunks if chunk.zone is not None}
        first = min((chunk.first_year for chunk in chunks), default=0)
        last = max((chunk.last_year for chunk in chunks), default=0)
        return cls.spanning(zones, first, last)

    @classmethod
    def spanning(cls, zones: Iterable[str], first_year: int, last_year: int) -> Coverage:
        """The coverage of these zones over these years, widened to whole decades: the same
        zone gets the same block in most feeds, which matters to clients that keep the first
        VTIMEZONE they saw for a TZID."""
        years = ((first_year - 1) // 10 * 10, (last_year + 1) // 10 * 10 + 9)
        return cls(tuple(sorted(zones)), years)


@lru_cache(maxsize=512)
def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def _utc(stamp: str) -> datetime:
    return parse_stamp(stamp).replace(microsecond=0)


def _location(summit: Summit) -> str:
    place = summit.location
    parts = [place.venue, place.city, _country_name(place.country)]
    return ", ".join(part for part in parts if part)


def _participant(p: Attendee) -> str:
    extra = [x for x in (p.role, p.organization) if x]
    if p.country:
        extra.append(_country_name(p.country))
    return f"{p.name} ({', '.join(extra)})" if extra else p.name


def end_not_announced(kind: str) -> str:
    """What a summit without an announced end says about the end it is shown with."""
    hours, rest = divmod(int(DEFAULT_LENGTH[kind].total_seconds()) // 60, 60)
    length = f"{hours} hour{'s' if hours != 1 else ''}" if hours else ""
    if rest:
        length = f"{length} {rest} minutes".strip()
    return f"End not announced; shown as {length}"


def _said_elsewhere(text: str, summit: Summit) -> bool:
    """Whether `text` (maybe cut short with "…") is the summit's outcome or description."""
    cut = text[:-1] if text.endswith("…") else ""
    for full in (summit.outcome, summit.description):
        flat = " ".join((full or "").split())
        if flat and (flat == text or (cut and flat.startswith(cut))):
            return True
    return False


def _change_text(summit: Summit) -> str:
    """The latest change's summary, without a tail that the outcome or description repeats.

    "Held: Held at the residence…" becomes "Held" when the outcome follows in full.
    """
    text = summit.last_change.summary
    head, colon, tail = text.partition(": ")
    return head if colon and _said_elsewhere(tail, summit) else text


def _description(summit: Summit, *, end_assumed: bool) -> str:
    """Status, participants, the latest change and where it was reported; each said once."""
    status = summit.status.value + (" (disputed)" if summit.disputed else "")
    lines = [f"Status: {status}"]
    if end_assumed:
        lines.append(end_not_announced(summit.kind))
    if summit.participants:
        lines.append("Participants: " + "; ".join(_participant(p) for p in summit.participants))
    change = summit.last_change
    lines.append(f"Latest change ({change.recorded_at[:10]}): {_change_text(summit)}")
    if change.source is not None:
        publisher = f"{change.source.publisher}: " if change.source.publisher else ""
        lines.append(f"Source: {publisher}{change.source.url}")
    if summit.description:
        lines += ["", summit.description]
    if summit.outcome:
        lines += ["", f"Outcome: {summit.outcome}"]
    return "\n".join(lines)


def fold(line: str) -> str:
    """Fold one content line exactly as icalendar's to_ical does, faster for ASCII lines.

    Each physical line stays under 75 octets; a fold never separates a backslash (or RFC 6868
    caret) escape from the character after it. Non-ASCII lines go to icalendar's own folder.
    """
    if not line.isascii():
        return str(_foldline(line))
    if len(line) < 75:
        return line
    chunks, start = [], 0
    while len(line) - start >= 75:
        end = start + 74
        if line[end - 1] in "\\^":
            end -= 1
        chunks.append(line[start:end])
        start = end
    chunks.append(line[start:])
    return "\r\n ".join(chunks)


Value = str | int | date  # a datetime is a date too


def to_ical(properties: Sequence[tuple[str, Value]]) -> bytes:
    """A VEVENT's bytes as icalendar writes that component, without building one.

    Properties in icalendar's order (its canonical order, then by name), text escaped by its
    vText, times written as its vDDDTypes writes them, lines folded as its to_ical folds;
    tests/calendar_core/test_ical_lines.py builds icalendar's component itself and holds the
    two to the same bytes. One difference: a wall time in a zone that is UTC today
    (Africa/Accra) from when it was not is written at its true instant, where icalendar
    writes its digits with Z.
    """
    by_name = dict(properties)
    lines = ["BEGIN:VEVENT"]
    for name in canonsort_keys(list(by_name), Event.canonical_order):
        lines.append(fold(_content_line(name, by_name[name])))
    lines.append("END:VEVENT\r\n")
    return "\r\n".join(lines).encode("utf-8")


def _content_line(name: str, value: Value) -> str:
    if isinstance(value, datetime):
        zone = value.tzinfo
        tzid = "" if zone is UTC else _tzid_parameter(str(zone))
        if tzid:
            return f"{name}{tzid}:{value:%Y%m%dT%H%M%S}"
        return f"{name}:{value.astimezone(UTC):%Y%m%dT%H%M%S}Z"
    if isinstance(value, date):
        return f"{name};VALUE=DATE:{value:%Y%m%d}"
    if isinstance(value, int):
        return f"{name}:{value}"
    if name == "URL":  # a URI: written as it is, on one line
        if "\r" in value or "\n" in value:
            raise ValueError(f"a URI may not contain a line break: {value!r}")
        return f"{name}:{value}"
    return f"{name}:{vText(value).to_ical().decode()}"


@lru_cache(maxsize=1024)
def _tzid_parameter(zone: str) -> str:
    """What icalendar writes before a wall time in this IANA zone: ";TZID=<zone>", or "" for
    a zone it takes as UTC (the time is then written in UTC, ending in Z)."""
    probe = vDDDTypes(datetime(2000, 1, 1, tzinfo=ZoneInfo(zone)))
    tzid = probe.params.get("TZID")
    return f";TZID={tzid}" if tzid else ""


def _wall_or_utc(instant: datetime, tz: ZoneInfo) -> datetime:
    """The venue's wall time, or UTC for the second reading of a repeated hour.

    RFC 5545 reads an ambiguous local time with a TZID as its first occurrence, so the
    later one can only be written in UTC.
    """
    local = instant.astimezone(tz)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return local.astimezone(UTC)
    return local


def render_vevent(summit: Summit, options: FeedOptions) -> Chunk | None:
    """The VEVENT of one summit, or None when it has no place in a calendar."""
    found = vevent_properties(summit, options)
    if found is None:
        return None
    properties, tzid, years = found
    return Chunk(to_ical(properties), tzid, years[0], years[1])


def vevent_properties(
    summit: Summit, options: FeedOptions
) -> tuple[list[tuple[str, Value]], str | None, tuple[int, int]] | None:
    """The properties of a summit's VEVENT, the TZID they use and the years they span; None
    when it has no place in a calendar."""
    if summit.status is Status.RETRACTED:
        return None
    zone = summit.location.timezone
    when = resolve(summit.schedule, zone)
    properties: list[tuple[str, Value]] = [
        ("UID", f"{summit.summit_id}@{options.uid_domain}"),
        ("DTSTAMP", _utc(summit.updated_at)),
        ("LAST-MODIFIED", _utc(summit.updated_at)),
        ("CREATED", _utc(summit.created_at)),
        ("SEQUENCE", summit.sequence),
        ("SUMMARY", _PREFIX.get(summit.status, "") + summit.title),
    ]
    tzid: str | None = None
    end_assumed = False
    if isinstance(when, Timed):
        tz = ZoneInfo(zone)
        start = _wall_or_utc(when.start, tz)
        end_assumed = when.end is None
        # An instant is shown for its kind's default length, added in UTC (elapsed time).
        default_end = when.start.astimezone(UTC) + DEFAULT_LENGTH[summit.kind]
        ends = when.end if when.end is not None else default_end
        end = _wall_or_utc(ends, tz)
        properties += [("DTSTART", start), ("DTEND", end)]
        tzid, years = zone, (start.year, end.year)
    elif isinstance(when, AllDay):
        properties += [("DTSTART", when.first), ("DTEND", when.end_exclusive)]
        years = (when.first.year, when.end_exclusive.year)
    else:
        return None
    properties += [
        ("STATUS", _STATUS[summit.status]),
        ("TRANSP", "TRANSPARENT"),
        ("LOCATION", _location(summit)),
        ("DESCRIPTION", _description(summit, end_assumed=end_assumed)),
        ("URL", f"{options.base_url.rstrip('/')}/summits/{summit.summit_id}"),
    ]
    return properties, tzid, years


class FeedRenderer:
    """Renders feeds and single-event files; each VEVENT once per (summit id, version).

    The chunks it renders are also handed out (`fresh`) to be kept beside the log, and chunks
    kept earlier are taken back (`adopt`), so that a restarted server renders only what changed.
    """

    def __init__(self, options: FeedOptions, *, cache_size: int = 100_000) -> None:
        self.options = options
        self._events: OrderedDict[tuple[str, int], Chunk | None] = OrderedDict()
        self._cache_size = cache_size
        self._headers: dict[tuple[bool, str | None], bytes] = {}
        # summit_id -> the latest version rendered here since `fresh` was last called
        self._fresh: dict[str, tuple[Summit, Chunk]] = {}

    def _chunk(self, summit: Summit) -> Chunk | None:
        key = (summit.summit_id, summit.version)
        try:
            chunk = self._events[key]
        except KeyError:
            chunk = render_vevent(summit, self.options)
            self._cache(key, chunk)
            if chunk is not None:
                known = self._fresh.get(summit.summit_id)
                if known is None or known[0].version < summit.version:
                    self._fresh[summit.summit_id] = (summit, chunk)
        return chunk

    def _cache(self, key: tuple[str, int], chunk: Chunk | None) -> None:
        self._events[key] = chunk
        if len(self._events) > self._cache_size:
            self._events.popitem(last=False)

    def chunks(self, summits: Iterable[Summit]) -> list[Chunk | None]:
        """Each summit's VEVENT chunk, in order, rendering those not cached (None for undated
        and retracted summits, which have none)."""
        return list(map(self._chunk, summits))

    @property
    def fresh_count(self) -> int:
        """How many summits' chunks were rendered since `fresh` was last called."""
        return len(self._fresh)

    def fresh(self) -> list[tuple[Summit, Chunk]]:
        """The chunks rendered since the last call (each summit's latest), to be kept."""
        fresh, self._fresh = self._fresh, {}
        return list(fresh.values())

    def adopt(self, summit: Summit, chunk: Chunk) -> None:
        """Take a chunk rendered earlier, by this code and these options, for this summit."""
        self._cache((summit.summit_id, summit.version), chunk)

    def _header(self, *, feed: bool, last_modified: str | None) -> bytes:
        key = (feed, last_modified)
        cached = self._headers.get(key)
        if cached is not None:
            return cached
        cal = Calendar()
        cal.add("VERSION", "2.0")
        cal.add("PRODID", self.options.prodid)
        cal.add("CALSCALE", "GREGORIAN")
        if feed:
            cal.add("NAME", self.options.name)
            cal.add("X-WR-CALNAME", self.options.name)
            cal.add("X-WR-CALDESC", self.options.description)
            cal.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
            cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))
            if last_modified is not None:
                cal.add("LAST-MODIFIED", _utc(last_modified))
        body = bytes(cal.to_ical())
        assert body.endswith(_END)
        header = body[: -len(_END)]
        if len(self._headers) > 1024:
            self._headers.clear()
        self._headers[key] = header
        return header

    def _assemble(self, header: bytes, chunks: Sequence[Chunk], coverage: Coverage) -> bytes:
        parts = [header]
        parts += [vtimezone_bytes(zone, *coverage.years) for zone in coverage.zones]
        parts += [chunk.body for chunk in chunks]
        parts.append(_END)
        return b"".join(parts)

    def feed(self, summits: Sequence[Summit], *, last_modified: str | None) -> bytes:
        """The subscription feed of these summits, in the order given (undated ones left out)."""
        chunks = [chunk for chunk in self.chunks(summits) if chunk is not None]
        return self.assemble(chunks, Coverage.of(chunks), last_modified=last_modified)

    def assemble(
        self, chunks: Sequence[Chunk], coverage: Coverage, *, last_modified: str | None
    ) -> bytes:
        """The subscription feed of these chunks, in the order given, with the VTIMEZONEs
        their coverage names."""
        header = self._header(feed=True, last_modified=last_modified)
        return self._assemble(header, chunks, coverage)

    def single(self, summit: Summit) -> bytes:
        """One summit as an "add to calendar" file: no calendar name, so it opens as an event.

        An undated or retracted summit gives a calendar with no event in it.
        """
        chunks = [chunk] if (chunk := self._chunk(summit)) is not None else []
        header = self._header(feed=False, last_modified=None)
        return self._assemble(header, chunks, Coverage.of(chunks))
