"""Folding events into summits (evolve) and the calendar projection (build, apply, as-of)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import read_stream

from calendar_core.meaning import evolve
from calendar_core.point import BeyondHead, Point, position_of
from calendar_core.projection import Calendar, apply, build, fold
from calendar_core.service import Submission, record_event
from calendar_core.summit import Status, Summit
from events import FixedClock
from events.memory import MemoryEventStore
from events.record import Recorded

SID = "kr-jp-2025"
START = datetime(2025, 6, 1, tzinfo=UTC)
TOKYO = {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"}
LEE = {"name": "Lee Jae Myung", "country": "KR"}
ISHIBA = {"name": "Shigeru Ishiba", "country": "JP"}
YONHAP = {"url": "https://en.yna.co.kr/view/1", "publisher": "Yonhap"}
KYODO = {"url": "https://english.kyodonews.net/news/2"}


def announced(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Korea-Japan summit",
        "kind": "bilateral_summit",
        "participants": [LEE, ISHIBA],
        "location": TOKYO,
        "schedule": {"start": "2025-08-23", "end": "2025-08-24"},
        "status": "tentative",
    }
    data.update(changes)
    return data


class Desk:
    """A memory store with a clock one hour per event, and a shortcut to record events."""

    def __init__(self) -> None:
        self.store = MemoryEventStore(FixedClock(START, tick=timedelta(hours=1)))

    def __call__(
        self, event_type: str, data: dict[str, Any] | None = None, sid: str = SID
    ) -> Summit:
        outcome = record_event(self.store, Submission(sid, event_type, data or {}))
        assert outcome.refusal is None, outcome.message
        summit = fold(read_stream(self.store, sid))
        assert summit is not None
        return summit


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_announce_creates_the_summit(desk: Desk) -> None:
    summit = desk("SummitAnnounced", announced(source=YONHAP, description="First visit"))
    assert summit.summit_id == SID
    assert summit.status is Status.TENTATIVE
    assert (summit.version, summit.sequence, summit.disputed) == (1, 0, False)
    assert summit.created_at == summit.updated_at == "2025-06-01T00:00:00Z"
    assert [p.name for p in summit.participants] == ["Lee Jae Myung", "Shigeru Ishiba"]
    assert summit.description == "First visit"
    assert [s.url for s in summit.sources] == [YONHAP["url"]]
    assert summit.last_change.type == "SummitAnnounced"


def test_sequence_grows_on_time_place_and_status_only(desk: Desk) -> None:
    steps: list[tuple[str, dict[str, Any], int]] = [
        ("SummitAnnounced", announced(), 0),
        ("SummitNoted", {"note": "Both offices confirm talks."}, 0),
        ("ParticipantsChanged", {"added": [{"name": "Cho Hyun", "country": "KR"}]}, 0),
        ("DetailsAmended", {"title": "Lee-Ishiba summit", "description": "Shuttle diplomacy"}, 0),
        ("SummitConfirmed", {}, 1),
        ("ScheduleRefined", {"schedule": {"start": "2025-08-23"}}, 1),
        ("DetailsAmended", {"venue": "Kantei"}, 1),
        ("DetailsAmended", {"venue": "Kantei", "title": "Same venue again"}, 0),
        ("SummitRescheduled", {"schedule": {"start": "2025-08-30"}}, 1),
        ("SummitPostponed", {}, 1),
        ("SummitRescheduled", {"schedule": {"start": "2025-09-06"}}, 1),
        ("SummitCompleted", {"outcome": "Joint press statement"}, 1),
        ("EntryRetracted", {"reason": "Entered twice by mistake"}, 1),
    ]
    sequence = 0
    for version, (event_type, data, grows) in enumerate(steps, start=1):
        summit = desk(event_type, data)
        sequence += grows
        assert (summit.version, summit.sequence) == (version, sequence), event_type
    assert summit.status is Status.RETRACTED


def test_a_reschedule_brings_back_the_status_held_before(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    desk("SummitConfirmed")
    summit = desk("SummitPostponed", {"reason": "typhoon"})
    assert (summit.status, summit.resumes_as) == (Status.POSTPONED, Status.CONFIRMED)
    summit = desk("SummitCancelled")
    assert (summit.status, summit.resumes_as) == (Status.CANCELLED, Status.CONFIRMED)
    summit = desk("SummitRescheduled", {"schedule": {"start": "2025-10"}, "reason": "new talks"})
    assert (summit.status, summit.resumes_as) == (Status.CONFIRMED, None)


def test_a_tentative_summit_comes_back_tentative(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    desk("SummitCancelled")
    summit = desk("SummitRescheduled", {"location": {**TOKYO, "city": "Osaka"}})
    assert summit.status is Status.TENTATIVE
    assert summit.location.city == "Osaka"


def test_disputed_is_set_by_a_note_and_cleared_by_a_note_or_a_status_change(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    assert desk("SummitNoted", {"note": "Tokyo denies it", "disputed": True}).disputed
    assert desk("ScheduleRefined", {"schedule": {"start": "2025-08-23"}}).disputed
    assert desk("SummitNoted", {"note": "More reports"}).disputed
    assert not desk("SummitNoted", {"note": "Settled", "disputed": False}).disputed
    assert desk("SummitNoted", {"note": "Doubt again", "disputed": True}).disputed
    assert not desk("SummitConfirmed").disputed


def test_sources_accumulate_without_repeats(desk: Desk) -> None:
    desk("SummitAnnounced", announced(source=YONHAP))
    desk("SummitNoted", {"note": "Kyodo too", "source": KYODO})
    summit = desk("SummitConfirmed", {"source": YONHAP})
    assert [s.url for s in summit.sources] == [YONHAP["url"], KYODO["url"]]
    assert summit.last_change.source is not None
    assert summit.last_change.source.url == YONHAP["url"]


def test_last_change_tells_the_change_in_one_line(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    summit = desk("SummitRescheduled", {"schedule": {"start": "2025-08-25"}, "reason": "typhoon"})
    assert summit.last_change.summary == "Rescheduled to 2025-08-25 (typhoon)"
    assert summit.last_change.type == "SummitRescheduled"
    assert summit.last_change.recorded_at == summit.updated_at == "2025-06-01T01:00:00Z"
    summit = desk("SummitNoted", {"note": "Line one.\nLine two.\n" + "x" * 400})
    assert "\n" not in summit.last_change.summary
    assert len(summit.last_change.summary) <= 200


def test_completion_may_correct_the_schedule(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    summit = desk(
        "SummitCompleted",
        {
            "outcome": "Agreed to resume shuttle visits",
            "documents": ["https://www.mofa.go.jp/doc.html"],
            "schedule": {"start": "2025-08-23T16:55", "end": "2025-08-23T18:30"},
        },
    )
    assert summit.status is Status.COMPLETED
    assert summit.schedule.start == "2025-08-23T16:55"
    assert summit.outcome == "Agreed to resume shuttle visits"
    assert summit.documents == ("https://www.mofa.go.jp/doc.html",)


def test_participants_changes_keep_order(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    trump = {"name": "Donald Trump", "country": "US"}
    summit = desk("ParticipantsChanged", {"added": [trump], "withdrawn": [ISHIBA]})
    assert [p.name for p in summit.participants] == ["Lee Jae Myung", "Donald Trump"]


def test_evolve_refuses_a_stream_that_does_not_start_with_an_announcement(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    first = read_stream(desk.store, SID)
    desk("SummitConfirmed")
    confirmed = read_stream(desk.store, SID)[1]
    with pytest.raises(ValueError, match="SummitConfirmed at version 2 before announce"):
        apply(None, confirmed)
    with pytest.raises(ValueError, match="before announce"):
        evolve(
            None,
            confirmed.event(),
            summit_id=SID,
            version=confirmed.version,
            recorded_at=confirmed.recorded_at,
        )
    assert fold([]) is None
    assert fold(first) is not None


def test_apply_is_evolve_with_the_records_place(desk: Desk) -> None:
    desk("SummitAnnounced", announced())
    summit = desk("SummitConfirmed")
    first, second = read_stream(desk.store, SID)
    before = apply(None, first)
    assert apply(before, second) == summit
    assert summit == evolve(
        before, second.event(), summit_id=SID, version=2, recorded_at=second.recorded_at
    )
    assert before.version == 1 and summit.updated_at == second.recorded_at


def test_fold_of_replayed_records_equals_the_validated_events_state(desk: Desk) -> None:
    """Replay builds nested models without re-validating; they must equal validated ones."""
    from calendar_core.summit import Place
    from events.schedule import Schedule
    from events.schema import Location

    summit = desk("SummitAnnounced", announced())
    assert summit.schedule == Schedule(start="2025-08-23", end="2025-08-24")
    assert summit.location == Place.of(Location(**TOKYO))


# --- the projection ---------------------------------------------------------------------------


def history(desk: Desk) -> list[Recorded]:
    desk("SummitAnnounced", announced())
    desk("SummitAnnounced", announced(title="G7 summit", kind="multilateral_summit"), sid="g7-2025")
    desk("SummitConfirmed")
    desk("SummitNoted", {"note": "Agenda set"}, sid="g7-2025")
    desk("EntryRetracted", {"reason": "never planned"}, sid="g7-2025")
    desk("ScheduleRefined", {"schedule": {"start": "2025-08-23"}})
    return list(desk.store.read())


def test_build_holds_every_summit_including_retracted(desk: Desk) -> None:
    records = history(desk)
    calendar = build(records)
    assert calendar.position == 6
    assert calendar.last_recorded_at == records[-1].recorded_at
    assert set(calendar.summits) == {SID, "g7-2025"}
    assert calendar.summits["g7-2025"].status is Status.RETRACTED
    assert calendar.summits[SID] == fold(read_stream(desk.store, SID))


def test_apply_takes_only_records_after_its_position(desk: Desk) -> None:
    records = history(desk)
    calendar = build(records[:3])
    assert calendar.apply(records[:3]) == set()
    assert calendar.apply(records[1:5]) == {"g7-2025"}
    assert calendar.position == 5
    assert calendar.apply(records) == {SID}
    assert calendar == build(records)


def test_apply_refuses_a_gap(desk: Desk) -> None:
    records = history(desk)
    calendar = build(records[:2])
    with pytest.raises(ValueError, match="gap"):
        calendar.apply(records[3:])
    assert calendar.position == 2


def test_copy_is_independent(desk: Desk) -> None:
    records = history(desk)
    calendar = build(records[:4])
    twin = calendar.copy()
    calendar.apply(records)
    assert twin.position == 4
    assert twin == build(records[:4])
    assert twin != calendar


def test_as_of_a_recorded_time_is_the_prefix_recorded_by_then(desk: Desk) -> None:
    records = history(desk)
    head = len(records)
    # The clock ticks one hour per event: the third event was recorded at 02:00.
    point = Point(as_of=START + timedelta(hours=2, minutes=30))
    as_of = build(desk.store.read(until=position_of(desk.store, point, head)))
    assert as_of == build(records[:3])
    assert as_of.summits[SID].status is Status.CONFIRMED
    before = Point(as_of=START - timedelta(microseconds=1))
    assert build(desk.store.read(until=position_of(desk.store, before, head))) == Calendar()
    assert build(desk.store.read(until=0)) == Calendar()
    assert position_of(desk.store, Point(at_position=4), head) == 4
    assert position_of(desk.store, Point(), head) == head
    with pytest.raises(BeyondHead):
        position_of(desk.store, Point(at_position=head + 1), head)


def test_a_point_is_a_position_or_an_aware_instant_not_both() -> None:
    assert Point().live and not Point(at_position=0).live
    with pytest.raises(ValueError, match="not both"):
        Point(at_position=1, as_of=START)
    with pytest.raises(ValueError, match="timezone-aware"):
        Point(as_of=datetime(2025, 6, 1))


def test_upcast_records_are_read_through_the_upcaster() -> None:
    """A record of an older schema_version is upgraded before folding."""
    from events.upcast import UPCASTERS

    def upgrade(data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        out["title"] = out.pop("name")
        return out

    UPCASTERS[("SummitAnnounced", 0)] = upgrade
    try:
        desk = Desk()
        desk("SummitAnnounced", announced())
        stored = read_stream(desk.store, SID)[0]
        data = dict(stored.data)
        data["name"] = data.pop("title")
        old = replace(stored, schema_version=0, data=data)
        summit = apply(None, old)
        assert summit.title == "Korea-Japan summit"
        assert summit == apply(None, stored)
    finally:
        del UPCASTERS[("SummitAnnounced", 0)]


def test_a_kept_list_order_is_taken_only_for_the_same_summits(desk: Desk) -> None:
    """settle takes the order `list_order` gave for these summits, and refuses any other."""
    desk("SummitAnnounced", announced(), sid="later-one")
    desk("SummitAnnounced", announced(schedule={"start": "2025-07-01"}), sid="earlier-one")
    calendar = build(desk.store.read())
    order = calendar.list_order()
    assert [summit_id for _, summit_id in order] == ["earlier-one", "later-one"]
    twin = build(desk.store.read())
    twin.settle(order)
    assert list(twin.ordered()) == list(calendar.ordered())
    with pytest.raises(ValueError, match="not of this calendar's summits"):
        twin.settle(order[:1])
    with pytest.raises(ValueError, match="not of this calendar's summits"):
        twin.settle([*order, order[0]])
