"""Every rule of CONTRACT section 3: which event may follow which state, and the refusals' words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import pytest

from calendar_core.rules import Refused, UnknownSummit, decide
from calendar_core.schedule import ScheduleError
from calendar_core.service import handle
from calendar_core.summit import Summit, fold
from events import FixedClock, NewEvent
from events.memory import MemoryEventStore
from events.schema import validate_event

SID = "kr-jp-2025"
TOKYO = {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"}
NEW_YORK = {"city": "New York", "country": "US", "timezone": "America/New_York"}
BERLIN = {"city": "Berlin", "country": "DE", "timezone": "Europe/Berlin"}
LEE = {"name": "Lee Jae Myung", "country": "KR", "role": "President"}
ISHIBA = {"name": "Shigeru Ishiba", "country": "JP", "role": "Prime Minister"}
TRUMP = {"name": "Donald Trump", "country": "US"}


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


def store() -> MemoryEventStore:
    return MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(minutes=1)))


def record(st: MemoryEventStore, event_type: str, data: dict[str, Any] | None = None) -> None:
    handle(st, SID, NewEvent.of(event_type, data or {}))


def summit_of(st: MemoryEventStore) -> Summit:
    summit = fold(st.stream(SID))
    assert summit is not None
    return summit


# How to bring a fresh summit into each status, as a list of (type, data).
REACH: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "tentative": [],
    "confirmed": [("SummitConfirmed", {})],
    "postponed": [("SummitPostponed", {"reason": "typhoon"})],
    "cancelled": [("SummitCancelled", {})],
    "completed": [("SummitCompleted", {"outcome": "Joint statement"})],
    "retracted": [("EntryRetracted", {"reason": "never planned"})],
}

# One valid example of each event type, for a summit announced with `announced()`.
EXAMPLES: dict[str, dict[str, Any]] = {
    "SummitConfirmed": {},
    "ScheduleRefined": {"schedule": {"start": "2025-08-23T16:55"}},
    "SummitRescheduled": {"schedule": {"start": "2025-08-25"}, "reason": "typhoon"},
    "ParticipantsChanged": {"added": [TRUMP]},
    "SummitPostponed": {},
    "SummitCancelled": {},
    "SummitCompleted": {},
    "DetailsAmended": {"title": "Lee-Ishiba summit"},
    "SummitNoted": {"note": "Seoul says the date is not final."},
    "EntryRetracted": {"reason": "a misreading"},
}

ALLOWED = factories.CONTRACT_ALLOWED


def in_status(status: str) -> MemoryEventStore:
    st = store()
    record(st, "SummitAnnounced", announced())
    for event_type, data in REACH[status]:
        record(st, event_type, data)
    assert summit_of(st).status == status
    return st


@pytest.mark.parametrize("status", list(REACH))
@pytest.mark.parametrize("event_type", list(EXAMPLES))
def test_the_status_table(status: str, event_type: str) -> None:
    st = in_status(status)
    head = st.head()
    new = NewEvent.of(event_type, EXAMPLES[event_type])
    if status in ALLOWED[event_type]:
        recorded = handle(st, SID, new)
        assert recorded.version == summit_of(st).version
        assert st.head() != head
    else:
        with pytest.raises(Refused):
            handle(st, SID, new)
        assert st.head() == head


def test_an_event_for_an_unknown_summit() -> None:
    st = store()
    with pytest.raises(UnknownSummit) as caught:
        handle(st, "no-such-summit", NewEvent.of("SummitConfirmed", {}))
    assert caught.value.summit_id == "no-such-summit"
    assert "announce it first" in str(caught.value)
    assert st.head() is None


def test_a_second_announcement_is_refused() -> None:
    st = in_status("tentative")
    with pytest.raises(Refused, match=f"cannot announce {SID}: it was announced already"):
        record(st, "SummitAnnounced", announced())


def test_the_messages_say_what_is_wrong() -> None:
    st = in_status("confirmed")
    with pytest.raises(Refused) as caught:
        record(st, "SummitConfirmed")
    assert str(caught.value) == f"cannot confirm {SID}: it is already confirmed"
    st = in_status("postponed")
    with pytest.raises(Refused) as caught:
        record(st, "SummitCompleted")
    assert str(caught.value) == f"cannot complete {SID}: it is postponed; reschedule it first"


def test_nothing_follows_a_retraction() -> None:
    st = in_status("retracted")
    with pytest.raises(Refused, match="retracted: nothing can be recorded"):
        record(st, "SummitNoted", {"note": "still here?"})
    with pytest.raises(Refused):
        record(st, "SummitAnnounced", announced())


def test_refining_must_stay_inside_and_narrow() -> None:
    st = in_status("tentative")
    with pytest.raises(Refused, match="use SummitRescheduled"):
        record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-25"}})
    with pytest.raises(Refused, match="already scheduled for 2025-08-23 to 2025-08-24"):
        record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}})
    record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23"}})
    record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})
    assert summit_of(st).schedule.start == "2025-08-23T16:55"
    with pytest.raises(Refused):
        record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})


def test_a_month_is_refined_to_days_then_a_time() -> None:
    st = store()
    record(st, "SummitAnnounced", announced(schedule={"start": "2025-08"}))
    record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}})
    record(st, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})
    assert summit_of(st).version == 3


def test_announcing_a_time_in_a_dst_gap_is_refused() -> None:
    st = store()
    schedule = {"start": "2025-03-09T02:30"}
    with pytest.raises(ScheduleError, match="does not exist in America/New_York"):
        record(st, "SummitAnnounced", announced(location=NEW_YORK, schedule=schedule))
    assert st.head() is None


def test_refining_to_an_ambiguous_time_is_refused_unless_an_offset_picks_one() -> None:
    st = store()
    record(st, "SummitAnnounced", announced(location=NEW_YORK, schedule={"start": "2025-11-02"}))
    with pytest.raises(ScheduleError, match="happens twice"):
        record(st, "ScheduleRefined", {"schedule": {"start": "2025-11-02T01:30"}})
    record(st, "ScheduleRefined", {"schedule": {"start": "2025-11-02T01:30-05:00"}})


def test_a_reschedule_with_a_new_place_checks_the_time_in_the_new_zone() -> None:
    st = in_status("confirmed")
    # 02:30 on 2025-03-09 exists in Tokyo but not in New York.
    gap = {"start": "2025-03-09T02:30"}
    with pytest.raises(ScheduleError, match="America/New_York"):
        record(st, "SummitRescheduled", {"schedule": gap, "location": NEW_YORK})
    record(st, "SummitRescheduled", {"schedule": gap})  # fine in Tokyo
    with pytest.raises(ScheduleError, match="America/New_York"):
        record(st, "SummitRescheduled", {"location": NEW_YORK})  # same time, new zone
    record(st, "SummitRescheduled", {"location": BERLIN})  # 02:30 exists in Berlin that day
    assert summit_of(st).location.timezone == "Europe/Berlin"


def test_a_reschedule_into_a_zone_where_the_time_is_fine() -> None:
    st = store()
    record(
        st,
        "SummitAnnounced",
        announced(location=NEW_YORK, schedule={"start": "2025-03-08T02:30"}),
    )
    record(
        st,
        "SummitRescheduled",
        {"schedule": {"start": "2025-03-09T02:30"}, "location": TOKYO},
    )
    assert summit_of(st).schedule.start == "2025-03-09T02:30"


def test_completion_with_a_schedule_must_be_valid_in_the_zone() -> None:
    st = store()
    record(st, "SummitAnnounced", announced(location=BERLIN, schedule={"start": "2025-03"}))
    with pytest.raises(ScheduleError, match="does not exist in Europe/Berlin"):
        record(st, "SummitCompleted", {"schedule": {"start": "2025-03-30T02:30"}})
    record(st, "SummitCompleted", {"schedule": {"start": "2025-03-30T10:00"}})


def test_participants_must_be_there_to_leave_and_absent_to_join() -> None:
    st = in_status("confirmed")
    with pytest.raises(
        Refused, match="cannot withdraw Donald Trump from kr-jp-2025: not attending"
    ):
        record(st, "ParticipantsChanged", {"withdrawn": [TRUMP]})
    with pytest.raises(Refused, match="cannot add Lee Jae Myung to kr-jp-2025: already attending"):
        record(st, "ParticipantsChanged", {"added": [LEE]})
    with pytest.raises(Refused, match="already attending"):
        record(st, "ParticipantsChanged", {"added": [TRUMP, TRUMP]})
    with pytest.raises(Refused, match="cannot withdraw everyone"):
        record(st, "ParticipantsChanged", {"withdrawn": [LEE, ISHIBA]})
    # A role change is a withdrawal and an addition of the same person.
    record(
        st,
        "ParticipantsChanged",
        {"withdrawn": [ISHIBA], "added": [{**ISHIBA, "role": "Former Prime Minister"}]},
    )
    roles = {p.name: p.role for p in summit_of(st).participants}
    assert roles["Shigeru Ishiba"] == "Former Prime Minister"


def test_decide_directly_on_a_state() -> None:
    st = in_status("cancelled")
    summit = summit_of(st)
    confirm = validate_event("SummitConfirmed", {})
    with pytest.raises(Refused, match="it is cancelled"):
        decide(summit, confirm, summit_id=SID)
    decide(
        summit,
        validate_event("SummitRescheduled", {"schedule": {"start": "2025-09"}}),
        summit_id=SID,
    )
    with pytest.raises(UnknownSummit):
        decide(None, confirm, summit_id=SID)
    decide(None, validate_event("SummitAnnounced", announced()), summit_id=SID)


def test_a_reschedule_that_moves_nothing_is_refused() -> None:
    """Same time and place again would only bump SEQUENCE; the desk is told nothing moves."""
    st = in_status("confirmed")
    current = summit_of(st)
    before = st.head()
    same = current.schedule.model_dump(exclude_none=True)
    with pytest.raises(Refused, match="nothing would move"):
        record(st, "SummitRescheduled", {"schedule": same})
    place = current.location.model_dump(exclude_none=True)
    with pytest.raises(Refused, match="nothing would move"):
        record(st, "SummitRescheduled", {"location": place})
    assert st.head() == before


def test_a_reinstatement_may_keep_the_old_date() -> None:
    """Rescheduling a postponed summit to the date it had brings it back."""
    st = in_status("postponed")
    same = summit_of(st).schedule.model_dump(exclude_none=True)
    record(st, "SummitRescheduled", {"schedule": same})
    assert summit_of(st).status == "tentative"
