"""Filters, ordering and the API's JSON form of summits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendar_core.projection import Calendar, build
from calendar_core.query import STATUSES, Query, calendar_json, select, summit_json
from calendar_core.service import Submission, record_event
from events import FixedClock
from events.memory import MemoryEventStore
from events.schema import KINDS, SummitAnnounced, SummitRescheduled

TOKYO = {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"}
BERLIN = {"city": "Berlin", "country": "DE", "timezone": "Europe/Berlin"}
WASHINGTON = {"city": "Washington", "country": "US", "timezone": "America/New_York"}
KR = {"name": "Lee Jae Myung", "country": "KR"}
JP = {"name": "Shigeru Ishiba", "country": "JP"}
US = {"name": "Donald Trump", "country": "US"}
EU = {"name": "Ursula von der Leyen", "organization": "European Union"}


def announced(title: str, location: dict[str, str], start: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": title,
        "kind": "bilateral_summit",
        "participants": [KR],
        "location": location,
        "schedule": {"start": start},
        "status": "tentative",
    }
    data.update(extra)
    return data


def record(store: MemoryEventStore, sid: str, event_type: str, data: dict[str, Any]) -> None:
    outcome = record_event(store, Submission(sid, event_type, data))
    assert outcome.refusal is None, outcome.message


def calendar() -> Calendar:
    store = MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(hours=1)))
    summits = {
        # Same local date: 10:00 in Tokyo is 01:00Z, 09:00 in Berlin is 07:00Z.
        "berlin-talks": announced(
            "Berlin talks", BERLIN, "2025-08-23T09:00", participants=[KR, EU]
        ),
        "tokyo-summit": announced("Tokyo summit", TOKYO, "2025-08-23T10:00", participants=[KR, JP]),
        "washington-visit": announced(
            "Washington visit", WASHINGTON, "2025-08-25", kind="official_visit", participants=[KR]
        ),
        "g7-2026": announced("G7 2026", BERLIN, "2026", kind="multilateral_summit"),
        "a-mistake": announced("Wrong entry", TOKYO, "2025-08-01"),
    }
    for sid, data in summits.items():
        record(store, sid, "SummitAnnounced", data)
    record(store, "tokyo-summit", "SummitConfirmed", {})
    record(store, "a-mistake", "EntryRetracted", {"reason": "no such meeting"})
    return build(store.read())


def ids(query: Query) -> list[str]:
    return [s.summit_id for s in select(calendar(), query)]


def test_everything_but_retracted_by_real_start_time() -> None:
    assert ids(Query()) == ["tokyo-summit", "berlin-talks", "washington-visit", "g7-2026"]


def test_ties_are_broken_by_summit_id() -> None:
    store = MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC)))
    for sid in ("zz-summit", "aa-summit", "mm-summit"):
        record(store, sid, "SummitAnnounced", announced(sid, TOKYO, "2025-09-01"))
    assert [s.summit_id for s in select(build(store.read()), Query())] == [
        "aa-summit",
        "mm-summit",
        "zz-summit",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (Query(countries=frozenset({"JP"})), ["tokyo-summit"]),  # host and participant
        (Query(countries=frozenset({"DE"})), ["berlin-talks", "g7-2026"]),  # host only
        (Query(countries=frozenset({"US"})), ["washington-visit"]),
        (Query(countries=frozenset({"JP", "US"})), ["tokyo-summit", "washington-visit"]),
        (
            Query(kinds=frozenset({"official_visit", "multilateral_summit"})),
            ["washington-visit", "g7-2026"],
        ),
        (Query(statuses=frozenset({"confirmed"})), ["tokyo-summit"]),
        (Query(statuses=frozenset({"retracted"})), []),
        (
            Query(countries=frozenset({"KR"}), statuses=frozenset({"tentative"})),
            ["berlin-talks", "washington-visit", "g7-2026"],
        ),
    ],
)
def test_filters(query: Query, expected: list[str]) -> None:
    assert ids(query) == expected


def test_parse_reads_lists_and_commas() -> None:
    query = Query.parse({"country": ["kr", "JP,us"], "kind": ["state_visit"], "status": []})
    assert query == Query(frozenset({"KR", "JP", "US"}), frozenset({"state_visit"}), frozenset())
    assert Query.parse({}) == Query()
    assert Query.parse({"kind": "state_visit,other"}).kinds == {"state_visit", "other"}


def test_parse_reads_every_value_of_a_multidict() -> None:
    from werkzeug.datastructures import MultiDict

    query = Query.parse(MultiDict([("country", "KR"), ("country", "JP")]))
    assert query.countries == {"KR", "JP"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"country": ["XX"]}, "country"),
        ({"country": ["Korea"]}, "country"),
        ({"kind": ["summit"]}, "kind"),
        ({"status": ["retracted"]}, "status"),
        ({"status": ["open"]}, "status"),
    ],
)
def test_parse_names_the_bad_parameter(params: dict[str, list[str]], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}: "):
        Query.parse(params)


def test_summit_json_has_the_contract_fields() -> None:
    summits = calendar().summits
    tokyo = summit_json(summits["tokyo-summit"])
    assert tokyo["summit_id"] == "tokyo-summit"
    assert (tokyo["status"], tokyo["disputed"], tokyo["version"], tokyo["sequence"]) == (
        "confirmed",
        False,
        2,
        1,
    )
    assert tokyo["schedule"] == {"start": "2025-08-23T10:00"}
    assert tokyo["start_utc"] == "2025-08-23T01:00:00Z"  # 10:00 at +09:00
    assert tokyo["end_utc"] is None
    assert tokyo["location"] == TOKYO
    assert tokyo["participants"] == [KR, JP]
    assert tokyo["created_at"] == "2025-06-01T01:00:00Z"
    assert tokyo["updated_at"] == "2025-06-01T05:00:00Z"
    assert tokyo["precision"] == "minute" and tokyo["date_to_be_set"] is False
    assert tokyo["last_change"]["type"] == "SummitConfirmed"
    day = summit_json(summits["washington-visit"])
    assert (day["start_utc"], day["end_utc"], day["date_to_be_set"]) == (None, None, False)
    undated = summit_json(summits["g7-2026"])
    assert (undated["precision"], undated["date_to_be_set"]) == ("year", True)


def test_summit_json_gives_the_parts_as_their_events_dumped_them() -> None:
    """The summit keeps plain values, yet the API says its place, participants and sources
    exactly as the validated events' `model_dump(exclude_none=True)` did: keys, order, nulls."""
    store = MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC)))
    reuters = {"url": "https://example.org/a", "publisher": "Reuters", "published_on": "2025-06-01"}
    bare = {"url": "https://example.org/b"}
    minister = {"role": "Minister", "name": "Cho Hyun", "country": "KR"}  # keys out of order
    place = {"timezone": "Europe/Berlin", "venue": "Kanzleramt", "country": "DE", "city": None}
    data = announced("Talks", TOKYO, "2025-08-23", participants=[EU, minister], source=reuters)
    record(store, "berlin-talks", "SummitAnnounced", data)
    moved = {"location": place, "reason": "venue", "source": bare}
    record(store, "berlin-talks", "SummitRescheduled", moved)
    events = [r.event() for r in store.read()]
    announce, reschedule = events
    assert isinstance(announce, SummitAnnounced) and isinstance(reschedule, SummitRescheduled)
    assert announce.source is not None and reschedule.location is not None
    assert reschedule.source is not None
    out = summit_json(build(store.read()).summits["berlin-talks"])
    expected = {
        "location": reschedule.location.model_dump(exclude_none=True),
        "participants": [p.model_dump(exclude_none=True) for p in announce.participants],
        "sources": [s.model_dump(exclude_none=True) for s in (announce.source, reschedule.source)],
        "last_change.source": reschedule.source.model_dump(exclude_none=True),
    }
    got = {name: out[name] for name in ("location", "participants", "sources")}
    got["last_change.source"] = out["last_change"]["source"]
    assert json.dumps(got) == json.dumps(expected)  # the same keys in the same order
    assert out["location"] == {"country": "DE", "venue": "Kanzleramt", "timezone": "Europe/Berlin"}


def test_end_utc_of_a_range() -> None:
    store = MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC)))
    data = announced("Talks", WASHINGTON, "2025-11-02T00:30")
    data["schedule"] = {"start": "2025-11-02T00:30", "end": "2025-11-02T01:30-05:00"}
    record(store, "dc-talks", "SummitAnnounced", data)
    out = summit_json(build(store.read()).summits["dc-talks"])
    # 00:30 EDT (-04:00) is 04:30Z; the second 01:30, at -05:00, is 06:30Z.
    assert (out["start_utc"], out["end_utc"]) == ("2025-11-02T04:30:00Z", "2025-11-02T06:30:00Z")
    assert out["schedule"] == data["schedule"]


def test_calendar_json_is_position_and_selected_summits() -> None:
    cal = calendar()
    out = calendar_json(cal, Query(countries=frozenset({"JP"})))
    assert out["position"] == cal.position == 7
    assert [s["summit_id"] for s in out["summits"]] == ["tokyo-summit"]
    assert calendar_json(Calendar(), Query()) == {"position": 0, "summits": []}


@given(
    countries=st.lists(st.sampled_from(["KR", "JP", "US", "DE", "FR"]), max_size=4),
    kinds=st.lists(st.sampled_from(KINDS), max_size=3),
    statuses=st.lists(st.sampled_from(STATUSES), max_size=3),
)
def test_a_query_knows_its_canonical_key_and_url_form(
    countries: list[str], kinds: list[str], statuses: list[str]
) -> None:
    from werkzeug.datastructures import MultiDict

    query = Query(frozenset(countries), frozenset(kinds), frozenset(statuses))
    # Written in any order, with repeats, commas and lower case: the same key and URL form.
    written = Query.parse(
        {
            "country": [",".join(c.lower() for c in reversed(countries))],
            "kind": kinds + kinds,
            "status": list(reversed(statuses)),
        }
    )
    assert written == query and written.key() == query.key() and written.params() == query.params()
    params = query.params()
    assert Query.parse(MultiDict(params)) == query
    names = [name for name, _ in params]
    assert names == sorted(names, key=["country", "kind", "status"].index)
    for name in set(names):
        values = [value for key, value in params if key == name]
        assert values == sorted(set(values))
    hash(query.key())
