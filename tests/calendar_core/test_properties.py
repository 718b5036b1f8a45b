"""Properties over random histories: valid commands are accepted, refusals change nothing,
SEQUENCE never goes down, every way of building the calendar agrees (rewinding the live one
included), the feed parses, and the projection holds plain values that a snapshot restores
as they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import icalendar
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from calendar_core.ical import FeedOptions, FeedRenderer
from calendar_core.listing import Listing
from calendar_core.point import Point, position_of
from calendar_core.projection import Calendar, build
from calendar_core.query import Query, select
from calendar_core.service import Refusal, Submission, record_event
from calendar_core.snapshot import restore, take
from calendar_core.summit import Attendee, Citation, Part, Place, Summit, order_key, part_json
from events import FixedClock, Recorded
from events.memory import MemoryEventStore
from events.schedule import Schedule
from events.schema import Location, Participant, Source

SUMMIT_IDS = ("alpha-summit", "beta-summit", "gamma-summit")
PLACES: list[dict[str, str]] = [
    {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"},
    {"city": "Washington", "country": "US", "timezone": "America/New_York"},
    {"city": "Berlin", "country": "DE", "timezone": "Europe/Berlin", "venue": "Kanzleramt"},
    {"city": "Lord Howe Island", "country": "AU", "timezone": "Australia/Lord_Howe"},
]
PEOPLE: list[dict[str, str]] = [
    {"name": "Lee Jae Myung", "country": "KR"},
    {"name": "Shigeru Ishiba", "country": "JP"},
    {"name": "Donald Trump", "country": "US"},
    {"name": "Friedrich Merz", "country": "DE"},
    {"name": "Antonio Costa", "organization": "European Council"},
]
ALLOWED = factories.CONTRACT_ALLOWED
# Feeds whose listings follow the live calendar: all, one country, one status.
LISTED = (Query(), Query(countries=frozenset({"JP"})), Query(statuses=frozenset({"tentative"})))
# What an odd command may be refused as: never a stale version or a reused id (none is sent).
ODD_REFUSALS = {Refusal.UNKNOWN_SUMMIT, Refusal.INVALID, Refusal.RULE}
# Data that is well-formed but often breaks a rule (gaps, overlaps, unknown people...).
ODD_DATA: dict[str, list[dict[str, Any]]] = {
    "SummitAnnounced": [
        {
            "title": "Odd",
            "kind": "other",
            "participants": [PEOPLE[0]],
            "location": PLACES[1],
            "schedule": {"start": "2025-03-09T02:30"},  # a New York DST gap
            "status": "confirmed",
        }
    ],
    "SummitConfirmed": [{}],
    "ScheduleRefined": [{"schedule": {"start": "2026-01-05"}}, {"schedule": {"start": "2025"}}],
    "SummitRescheduled": [
        {"schedule": {"start": "2025-11-02T01:30"}, "location": PLACES[1]},  # ambiguous
        {"schedule": {"start": "2025-10-05T02:15"}, "location": PLACES[3]},  # Lord Howe gap
    ],
    "ParticipantsChanged": [{"withdrawn": [PEOPLE[4]]}, {"added": [PEOPLE[0]]}],
    "SummitPostponed": [{}],
    "SummitCancelled": [{}],
    "SummitCompleted": [{"schedule": {"start": "2025-03-30T02:30"}}],
    "DetailsAmended": [{"title": "Renamed"}],
    "SummitNoted": [{"note": "odd", "disputed": True}],
    "EntryRetracted": [{"reason": "odd"}],
}


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return (following - timedelta(days=1)).day


@st.composite
def refinement(draw: st.DrawFn, schedule: dict[str, str]) -> dict[str, str] | None:
    """A schedule narrower or finer than `schedule` and inside it, built by hand (no code under
    test); None when a minute instant cannot be refined further. Clock times avoid 00:00-03:59,
    where DST changes happen in these zones."""
    start, end = schedule["start"], schedule.get("end")
    if len(start) == 4:
        return {"start": f"{start}-{draw(st.integers(1, 12)):02d}"}
    if len(start) == 7:
        year, month = int(start[:4]), int(start[5:])
        day = draw(st.integers(1, _days_in(year, month) - 1))
        days = {"start": f"{start}-{day:02d}"}
        if draw(st.booleans()):
            days["end"] = f"{start}-{day + 1:02d}"
        return days
    if len(start) == 10:
        if end is not None:
            return {"start": start}
        hour = draw(st.integers(4, 21))
        timed = {"start": f"{start}T{hour:02d}:{draw(st.sampled_from([0, 15, 55])):02d}"}
        if draw(st.booleans()):
            timed["end"] = f"{start}T{hour + 2:02d}:00"
        return timed
    return {"start": start} if end is not None else None


@st.composite
def fresh_schedule(draw: st.DrawFn) -> dict[str, str]:
    """Any schedule valid in every zone of PLACES (no clock time between 00:00 and 03:59)."""
    year = draw(st.integers(2025, 2027))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 27))
    form = draw(st.sampled_from(["year", "month", "day", "days", "minute", "minutes"]))
    if form == "year":
        return {"start": f"{year}"}
    if form == "month":
        return {"start": f"{year}-{month:02d}"}
    date = f"{year}-{month:02d}-{day:02d}"
    if form == "day":
        return {"start": date}
    if form == "days":
        return {"start": date, "end": f"{year}-{month:02d}-{day + 1:02d}"}
    hour = draw(st.integers(4, 21))
    timed = {"start": f"{date}T{hour:02d}:30"}
    if form == "minutes":
        timed["end"] = f"{date}T{hour + 1:02d}:45"
    return timed


@st.composite
def valid_command(
    draw: st.DrawFn, summits: dict[str, Summit]
) -> tuple[str, str, dict[str, Any]] | None:
    """One command the rules must accept, given the current summits (None: all retracted)."""
    open_ids = [
        sid for sid in SUMMIT_IDS if sid not in summits or summits[sid].status != "retracted"
    ]
    if not open_ids:
        return None
    sid = draw(st.sampled_from(open_ids))
    summit = summits.get(sid)
    if summit is None:
        return (
            sid,
            "SummitAnnounced",
            {
                "title": f"Summit {sid}",
                "kind": draw(st.sampled_from(["bilateral_summit", "state_visit", "other"])),
                "participants": draw(
                    st.lists(
                        st.sampled_from(PEOPLE),
                        min_size=1,
                        max_size=3,
                        unique_by=lambda p: p["name"],
                    )
                ),
                "location": draw(st.sampled_from(PLACES)),
                "schedule": draw(fresh_schedule()),
                "status": draw(st.sampled_from(["tentative", "confirmed"])),
            },
        )
    schedule = summit.schedule.model_dump(exclude_none=True)
    refined = draw(refinement(schedule))
    choices = [t for t, allowed in ALLOWED.items() if summit.status in allowed]
    if refined is None:
        choices = [c for c in choices if c != "ScheduleRefined"]
    if draw(st.integers(0, 9)) > 0:  # keep retractions rare so histories grow
        choices = [c for c in choices if c != "EntryRetracted"] or choices
    event_type = draw(st.sampled_from(choices))
    data: dict[str, Any] = {}
    if event_type == "ScheduleRefined":
        data["schedule"] = refined
    elif event_type == "SummitRescheduled":
        which = draw(st.sampled_from(["schedule", "location", "both"]))
        if which in ("schedule", "both"):
            data["schedule"] = draw(fresh_schedule())
        if which in ("location", "both"):
            data["location"] = draw(st.sampled_from(PLACES))
        if "schedule" not in data and summit.schedule.start.endswith(("T02:30", "T01:30")):
            data["schedule"] = draw(fresh_schedule())
        place = part_json(summit.location, nulls=False)
        still = data.get("schedule", schedule) == schedule and data.get("location", place) == place
        if still and summit.status in ("tentative", "confirmed"):  # an active summit must move
            data["schedule"] = draw(fresh_schedule().filter(lambda s: s != schedule))
    elif event_type == "ParticipantsChanged":
        present = {p.name for p in summit.participants}
        absent = [p for p in PEOPLE if p["name"] not in present]
        if absent and (len(present) == 1 or draw(st.booleans())):
            data["added"] = [draw(st.sampled_from(absent))]
        else:
            gone = draw(st.sampled_from(sorted(present)))
            data["withdrawn"] = [next(p for p in PEOPLE if p["name"] == gone)]
    elif event_type == "SummitCompleted" and draw(st.booleans()):
        data["outcome"] = "Joint statement"
        if refined is not None and draw(st.booleans()):
            data["schedule"] = refined
    elif event_type == "DetailsAmended":
        data = draw(st.sampled_from([{"title": "Renamed"}, {"venue": "Palace"}, {"venue": "Hall"}]))
    elif event_type == "SummitNoted":
        data = {"note": "A report.", "disputed": draw(st.sampled_from([True, False, None]))}
        data = {k: v for k, v in data.items() if v is not None}
    elif event_type == "EntryRetracted":
        data = {"reason": "Not a real summit."}
    elif event_type in ("SummitPostponed", "SummitCancelled") and draw(st.booleans()):
        data = {"reason": "Weather."}
    if draw(st.booleans()):
        data["source"] = {"url": f"https://news.example.org/{draw(st.integers(0, 3))}"}
    return sid, event_type, data


@st.composite
def any_command(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """A well-formed command the rules may well refuse."""
    event_type = draw(st.sampled_from(sorted(ODD_DATA)))
    sid = draw(st.sampled_from([*SUMMIT_IDS, "never-announced"]))
    return sid, event_type, draw(st.sampled_from(ODD_DATA[event_type]))


@dataclass
class Run:
    """A store driven by commands, with an incrementally applied calendar alongside."""

    store: MemoryEventStore = field(
        default_factory=lambda: MemoryEventStore(
            FixedClock(datetime(2025, 1, 1, tzinfo=UTC), tick=timedelta(seconds=7))
        )
    )
    live: Calendar = field(default_factory=Calendar)
    snapshots: list[Calendar] = field(default_factory=lambda: [Calendar()])
    refused: int = 0

    def stream(self, summit_id: str, until: int) -> Iterator[Recorded]:
        return self.store.read(summit_id=summit_id, until=until)

    def catch_up(self) -> None:
        self.live.apply(self.store.read(after=self.live.position))
        while len(self.snapshots) <= self.live.position:
            self.snapshots.append(self.live.copy())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_histories(data: st.DataObject) -> None:
    run = Run()
    renderer = FeedRenderer(FeedOptions("Summits", "test.example", "https://test.example"))
    listings = [Listing(query) for query in LISTED]
    for listing in listings:
        listing.follow(run.live, renderer.chunks)  # the empty calendar, at position 0
    steps = data.draw(st.integers(1, 30), label="steps")
    for _ in range(steps):
        previous = dict(run.live.summits)
        kept = [Listing.load(listing.query, listing.dump()) for listing in listings]
        if data.draw(st.integers(0, 3), label="odd?") == 0:
            sid, event_type, payload = data.draw(any_command(), label="odd command")
            head = run.store.head()
            outcome = record_event(run.store, Submission(sid, event_type, payload))
            if outcome.refusal is not None:
                assert outcome.refusal in ODD_REFUSALS, outcome
                assert outcome.record is None
                run.refused += 1
                assert run.store.head() == head  # a refusal appends nothing
        else:
            command = data.draw(valid_command(run.live.summits), label="command")
            if command is None:
                break
            sid, event_type, payload = command
            outcome = record_event(run.store, Submission(sid, event_type, payload))
            assert outcome.refusal is None, outcome.message  # must not be refused
            event(event_type)
        run.catch_up()
        for listing, restarted in zip(listings, kept, strict=True):
            listing.follow(run.live, renderer.chunks)  # change by change, as a live feed's
            restarted.catch_up(
                run.store.read(after=restarted.position), run.stream, renderer.chunks
            )
            full = renderer.feed(select(run.live, listing.query), last_modified=None)
            for caught_up in (listing, restarted):  # as a restarted worker's kept listing
                coverage = caught_up.coverage()
                assert renderer.assemble(caught_up.chunks, coverage, last_modified=None) == full
                for summit_id, version, _ in caught_up.versioned():
                    assert run.live.summits[summit_id].version == version
        for sid, before in previous.items():
            after = run.live.summits[sid]
            assert after.sequence >= before.sequence  # SEQUENCE never goes down
            assert after.version >= before.version

    records = list(run.store.read())
    head = len(records)
    assert build(records) == run.live  # incremental apply == build from scratch

    def streams(summit_id: str, until: int) -> Iterator[Recorded]:
        return run.store.read(summit_id=summit_id, until=until)

    for n, snapshot in enumerate(run.snapshots):
        assert build(records[:n]) == snapshot
        assert build(run.store.read(until=n)) == snapshot
        rewound = run.live.rewound(n, records[n - 1].recorded_at if n else None, streams)
        assert rewound == snapshot  # the live calendar rewound, folding only what moved since
        assert list(rewound.ordered()) == sorted(snapshot.summits.values(), key=order_key)
        if n:
            point = Point(as_of=records[n - 1].instant)
            assert build(run.store.read(until=position_of(run.store, point, head))) == snapshot
    cuts = sorted(data.draw(st.lists(st.integers(0, len(records)), max_size=4), label="cuts"))
    chunked = Calendar()
    for cut in [*cuts, len(records)]:
        chunked.apply(records[: cut + 1])  # overlapping chunks: old records are skipped
    assert chunked == run.live
    for calendar in (run.live, chunked, *run.snapshots):  # kept in order as summits changed
        assert list(calendar.ordered()) == sorted(calendar.summits.values(), key=order_key)
    _feed_parses(run.live)


FEED_STATUS = {
    "tentative": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "postponed": "CANCELLED",
    "cancelled": "CANCELLED",
}


def _feed_parses(calendar: Calendar) -> None:
    """The feed parses: one VEVENT per dated summit, with its status and SEQUENCE."""
    summits = select(calendar, Query())
    renderer = FeedRenderer(FeedOptions("Summits", "test.example", "https://test.example"))
    parsed = icalendar.Calendar.from_ical(
        renderer.feed(summits, last_modified=calendar.last_recorded_at)
    )
    events = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    dated = [s for s in summits if s.schedule.precision in ("day", "minute")]
    assert set(events) == {f"{s.summit_id}@test.example" for s in dated}
    for summit in dated:
        vevent = events[f"{summit.summit_id}@test.example"]
        assert int(vevent["SEQUENCE"]) == summit.sequence
        assert str(vevent["STATUS"]) == FEED_STATUS[summit.status]


MODEL_OF: dict[type[Part], type[BaseModel]] = {
    Place: Location,
    Attendee: Participant,
    Citation: Source,
}


def _values(value: object) -> Iterator[object]:
    """A value and everything inside it: the fields of dataclasses, the items of tuples."""
    yield value
    if is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            yield from _values(getattr(value, item.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _values(item)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_projection_holds_plain_values_that_a_snapshot_restores(data: st.DataObject) -> None:
    """No pydantic model but the Schedule in a summit; its parts dump as their models did;
    take then restore gives an equal calendar at every position of a random history."""
    run = Run()
    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        command = data.draw(valid_command(run.live.summits), label="command")
        if command is None:
            break
        outcome = record_event(run.store, Submission(*command))
        assert outcome.refusal is None, outcome.message
        run.catch_up()
    key, head = b"k" * 32, "0" * 64
    restored = [restore(take(c, head, key, "v"), key, "v", head) for c in run.snapshots]
    assert restored == run.snapshots
    assert [list(c.ordered()) for c in restored] == [list(c.ordered()) for c in run.snapshots]
    parts = 0
    for calendar in (run.live, build(run.store.read()), restored[-1]):
        for value in _values(tuple(calendar.summits.values())):
            assert not isinstance(value, BaseModel) or isinstance(value, Schedule), value
            model = MODEL_OF.get(type(value))
            if model is not None:
                parts += 1
                assert isinstance(value, Place | Attendee | Citation)
                same = model.model_validate(part_json(value))
                assert json.dumps(part_json(value)) == json.dumps(same.model_dump())
                plain = json.dumps(part_json(value, nulls=False))
                assert plain == json.dumps(same.model_dump(exclude_none=True))
    assert parts >= 2 * len(run.live.summits)  # a place and a participant each, at least


def test_the_parts_have_their_models_fields_in_order_with_the_same_defaults() -> None:
    """Templates, the feed and the API read a part as they read its model."""
    for part, model in MODEL_OF.items():
        names = [item.name for item in fields(part)]
        assert names == list(model.model_fields), part
        for item in fields(part):
            spec = model.model_fields[item.name]
            assert item.default == spec.get_default() or spec.is_required(), item.name
            assert spec.is_required() == (item.default is item.default_factory), item.name
