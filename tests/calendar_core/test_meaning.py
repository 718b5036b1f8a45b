"""Every rule of CONTRACT section 3 (which event may follow which state, and the refusals'
words), and every event type of the schema having its one home in calendar_core.meaning."""

from __future__ import annotations

import re
import typing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import pytest
from factories import read_stream
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from calendar_core.meaning import (
    SUMMARY_LIMIT,
    Meaning,
    Refused,
    UnknownSummit,
    decide,
    evolve,
    label,
    meaning_of,
    one_line,
    summary,
)
from calendar_core.projection import fold
from calendar_core.service import Outcome, Refusal, Submission, record_event
from calendar_core.summit import Status, Summit, part_json
from events import FixedClock, Recorded
from events.memory import MemoryEventStore
from events.schedule import ScheduleError
from events.schema import EVENT_TYPES, MODELS, Event, validate_event

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


def new_log() -> MemoryEventStore:
    return MemoryEventStore(FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(minutes=1)))


def send(log: MemoryEventStore, event_type: str, data: dict[str, Any] | None = None) -> Outcome:
    return record_event(log, Submission(SID, event_type, data or {}))


def record(log: MemoryEventStore, event_type: str, data: dict[str, Any] | None = None) -> Recorded:
    """Record an event the rules must allow."""
    outcome = send(log, event_type, data)
    assert outcome.refusal is None, outcome.message
    assert outcome.record is not None and not outcome.replayed
    return outcome.record


def refused(
    log: MemoryEventStore,
    event_type: str,
    data: dict[str, Any] | None = None,
    kind: Refusal = Refusal.RULE,
) -> Outcome:
    """Send an event the rules must refuse with `kind`; nothing may be appended."""
    head = log.head()
    outcome = send(log, event_type, data)
    assert outcome.refusal is kind, outcome
    assert outcome.record is None and not outcome.replayed
    assert log.head() == head
    return outcome


def summit_of(log: MemoryEventStore) -> Summit:
    summit = fold(read_stream(log, SID))
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
    log = new_log()
    record(log, "SummitAnnounced", announced())
    for event_type, data in REACH[status]:
        record(log, event_type, data)
    assert summit_of(log).status == status
    return log


@pytest.mark.parametrize("status", list(REACH))
@pytest.mark.parametrize("event_type", list(EXAMPLES))
def test_the_status_table(status: str, event_type: str) -> None:
    log = in_status(status)
    if status in ALLOWED[event_type]:
        recorded = record(log, event_type, EXAMPLES[event_type])
        assert recorded.version == summit_of(log).version == len(REACH[status]) + 2
    else:
        refused(log, event_type, EXAMPLES[event_type])


def test_an_event_for_an_unknown_summit() -> None:
    log = new_log()
    outcome = record_event(log, Submission("no-such-summit", "SummitConfirmed", {}))
    assert outcome.refusal is Refusal.UNKNOWN_SUMMIT
    assert "no-such-summit" in outcome.message and "announce it first" in outcome.message
    assert log.head() is None


def test_a_second_announcement_is_refused() -> None:
    log = in_status("tentative")
    outcome = refused(log, "SummitAnnounced", announced())
    assert outcome.message.startswith(f"cannot announce {SID}: it was announced already")


def test_the_messages_say_what_is_wrong() -> None:
    log = in_status("confirmed")
    assert refused(log, "SummitConfirmed").message == (
        f"cannot confirm {SID}: it is already confirmed"
    )
    log = in_status("postponed")
    assert refused(log, "SummitCompleted").message == (
        f"cannot complete {SID}: it is postponed; reschedule it first"
    )
    assert refused(log, "SummitConfirmed").message == (
        f"cannot confirm {SID}: it is postponed; reschedule it to bring it back"
    )
    log = in_status("completed")
    assert refused(log, "SummitCompleted").message == (
        f"cannot complete {SID}: it is already recorded as held"
    )


def test_nothing_follows_a_retraction() -> None:
    log = in_status("retracted")
    outcome = refused(log, "SummitNoted", {"note": "still here?"})
    assert "retracted: nothing can be recorded" in outcome.message
    refused(log, "SummitAnnounced", announced())


def test_refining_must_stay_inside_and_narrow() -> None:
    log = in_status("tentative")
    outcome = refused(log, "ScheduleRefined", {"schedule": {"start": "2025-08-25"}})
    assert "use SummitRescheduled" in outcome.message
    outcome = refused(
        log, "ScheduleRefined", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}}
    )
    assert "already scheduled for 2025-08-23 to 2025-08-24" in outcome.message
    record(log, "ScheduleRefined", {"schedule": {"start": "2025-08-23"}})
    record(log, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})
    assert summit_of(log).schedule.start == "2025-08-23T16:55"
    refused(log, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})


def test_a_month_is_refined_to_days_then_a_time() -> None:
    log = new_log()
    record(log, "SummitAnnounced", announced(schedule={"start": "2025-08"}))
    record(log, "ScheduleRefined", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}})
    record(log, "ScheduleRefined", {"schedule": {"start": "2025-08-23T16:55"}})
    assert summit_of(log).version == 3


def schedule_error(outcome: Outcome) -> str:
    """The message of a schedule the zone cannot place: invalid data, named by its field."""
    assert outcome.refusal is Refusal.INVALID
    (field, message), *rest = outcome.errors
    assert field == "data.schedule" and not rest
    return message


def test_announcing_a_time_in_a_dst_gap_is_refused() -> None:
    log = new_log()
    schedule = {"start": "2025-03-09T02:30"}
    outcome = refused(
        log,
        "SummitAnnounced",
        announced(location=NEW_YORK, schedule=schedule),
        Refusal.INVALID,
    )
    assert "does not exist in America/New_York" in schedule_error(outcome)
    assert log.head() is None


def test_refining_to_an_ambiguous_time_is_refused_unless_an_offset_picks_one() -> None:
    log = new_log()
    record(log, "SummitAnnounced", announced(location=NEW_YORK, schedule={"start": "2025-11-02"}))
    outcome = refused(
        log, "ScheduleRefined", {"schedule": {"start": "2025-11-02T01:30"}}, Refusal.INVALID
    )
    assert "happens twice" in schedule_error(outcome)
    record(log, "ScheduleRefined", {"schedule": {"start": "2025-11-02T01:30-05:00"}})


def test_a_reschedule_with_a_new_place_checks_the_time_in_the_new_zone() -> None:
    log = in_status("confirmed")
    # 02:30 on 2025-03-09 exists in Tokyo but not in New York.
    gap = {"start": "2025-03-09T02:30"}
    outcome = refused(
        log, "SummitRescheduled", {"schedule": gap, "location": NEW_YORK}, Refusal.INVALID
    )
    assert "America/New_York" in schedule_error(outcome)
    record(log, "SummitRescheduled", {"schedule": gap})  # fine in Tokyo
    outcome = refused(log, "SummitRescheduled", {"location": NEW_YORK}, Refusal.INVALID)
    assert "America/New_York" in schedule_error(outcome)  # same time, new zone
    record(log, "SummitRescheduled", {"location": BERLIN})  # 02:30 exists in Berlin that day
    assert summit_of(log).location.timezone == "Europe/Berlin"


def test_a_reschedule_into_a_zone_where_the_time_is_fine() -> None:
    log = new_log()
    record(
        log,
        "SummitAnnounced",
        announced(location=NEW_YORK, schedule={"start": "2025-03-08T02:30"}),
    )
    record(
        log,
        "SummitRescheduled",
        {"schedule": {"start": "2025-03-09T02:30"}, "location": TOKYO},
    )
    assert summit_of(log).schedule.start == "2025-03-09T02:30"


def test_completion_with_a_schedule_must_be_valid_in_the_zone() -> None:
    log = new_log()
    record(log, "SummitAnnounced", announced(location=BERLIN, schedule={"start": "2025-03"}))
    outcome = refused(
        log, "SummitCompleted", {"schedule": {"start": "2025-03-30T02:30"}}, Refusal.INVALID
    )
    assert "does not exist in Europe/Berlin" in schedule_error(outcome)
    record(log, "SummitCompleted", {"schedule": {"start": "2025-03-30T10:00"}})


def test_participants_must_be_there_to_leave_and_absent_to_join() -> None:
    log = in_status("confirmed")
    outcome = refused(log, "ParticipantsChanged", {"withdrawn": [TRUMP]})
    assert outcome.message == "cannot withdraw Donald Trump from kr-jp-2025: not attending"
    outcome = refused(log, "ParticipantsChanged", {"added": [LEE]})
    assert outcome.message == "cannot add Lee Jae Myung to kr-jp-2025: already attending"
    outcome = refused(log, "ParticipantsChanged", {"added": [TRUMP, TRUMP]})
    assert "already attending" in outcome.message
    outcome = refused(log, "ParticipantsChanged", {"withdrawn": [LEE, ISHIBA]})
    assert "cannot withdraw everyone" in outcome.message
    # A role change is a withdrawal and an addition of the same person.
    record(
        log,
        "ParticipantsChanged",
        {"withdrawn": [ISHIBA], "added": [{**ISHIBA, "role": "Former Prime Minister"}]},
    )
    roles = {p.name: p.role for p in summit_of(log).participants}
    assert roles["Shigeru Ishiba"] == "Former Prime Minister"


def test_decide_directly_on_a_state() -> None:
    log = in_status("cancelled")
    summit = summit_of(log)
    confirm = validate_event("SummitConfirmed", {})
    with pytest.raises(Refused, match="it is cancelled"):
        decide(summit, confirm, summit_id=SID)
    decide(
        summit,
        validate_event("SummitRescheduled", {"schedule": {"start": "2025-09"}}),
        summit_id=SID,
    )
    with pytest.raises(UnknownSummit) as caught:
        decide(None, confirm, summit_id=SID)
    assert caught.value.summit_id == SID
    decide(None, validate_event("SummitAnnounced", announced()), summit_id=SID)
    gap = announced(location=NEW_YORK, schedule={"start": "2025-03-09T02:30"})
    with pytest.raises(ScheduleError, match="does not exist in America/New_York"):
        decide(None, validate_event("SummitAnnounced", gap), summit_id=SID)


def test_a_reschedule_that_moves_nothing_is_refused() -> None:
    """Same time and place again would only bump SEQUENCE; the desk is told nothing moves."""
    log = in_status("confirmed")
    current = summit_of(log)
    same = current.schedule.model_dump(exclude_none=True)
    assert "nothing would move" in refused(log, "SummitRescheduled", {"schedule": same}).message
    place = part_json(current.location, nulls=False)
    assert "nothing would move" in refused(log, "SummitRescheduled", {"location": place}).message


def test_a_reinstatement_may_keep_the_old_date() -> None:
    """Rescheduling a postponed summit to the date it had brings it back."""
    log = in_status("postponed")
    same = summit_of(log).schedule.model_dump(exclude_none=True)
    record(log, "SummitRescheduled", {"schedule": same})
    assert summit_of(log).status == "tentative"


# --- every event type of the schema has its meaning -----------------------------------------

# A valid value for each field name event types use; a required field of a new event type
# with a new name needs a line here (the test says so).
SAMPLE_FIELDS: dict[str, Any] = {
    "title": "Korea-Japan summit",
    "kind": "bilateral_summit",
    "participants": [LEE],
    "location": TOKYO,
    "schedule": {"start": "2025-08-23T16:55"},
    "status": "tentative",
    "description": "A first visit.",
    "reason": "a reason",
    "note": "a note",
    "added": [TRUMP],
    "withdrawn": [ISHIBA],
    "outcome": "Joint statement",
    "documents": ["https://www.mofa.go.jp/doc.html"],
    "venue": "Kantei",
    "disputed": True,
    "source": {"url": "https://en.yna.co.kr/view/1"},
}


def minimal_event(model: type[BaseModel]) -> Event:
    """The smallest valid event of a model: its required fields, then optional ones one by one
    until a model validator that wants "at least one of" is satisfied."""
    name = model.model_fields["type"].default
    fields = {f: spec for f, spec in model.model_fields.items() if f != "type"}
    missing = [f for f, spec in fields.items() if spec.is_required() and f not in SAMPLE_FIELDS]
    assert not missing, f"{name}: add sample values for {missing} to SAMPLE_FIELDS"
    data = {f: SAMPLE_FIELDS[f] for f, spec in fields.items() if spec.is_required()}
    optional = [f for f, spec in fields.items() if not spec.is_required() and f in SAMPLE_FIELDS]
    while True:
        try:
            return validate_event(name, data)
        except ValidationError:
            if not optional:
                raise
            field = optional.pop(0)
            data[field] = SAMPLE_FIELDS[field]


def _union_members() -> set[type]:
    union, *_ = typing.get_args(Event)  # Annotated[A | B | ..., Field(discriminator=...)]
    return set(typing.get_args(union))


def test_models_are_the_event_union() -> None:
    assert set(MODELS.values()) == _union_members()
    assert len(MODELS) == len(_union_members())
    for name, model in MODELS.items():
        assert model.model_fields["type"].default == name
    assert tuple(MODELS) == EVENT_TYPES


def _summit_for(status: Status) -> Summit:
    """A summit in a status, built by the core from a minimal announcement."""
    announce = minimal_event(MODELS["SummitAnnounced"])
    summit = evolve(None, announce, summit_id=SID, version=1, recorded_at="2025-06-01T00:00:00Z")
    return replace(summit, status=status)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_event_type_has_a_meaning_that_reads_and_applies(name: str) -> None:
    event = minimal_event(MODELS[name])
    assert event.type == name
    meaning = meaning_of(event)
    assert isinstance(meaning, Meaning)
    text = summary(event)
    assert isinstance(text, str) and text.strip()
    assert "\n" not in text and len(text) <= SUMMARY_LIMIT
    assert isinstance(label(event), str) and label(event).strip()
    stamp = "2025-06-02T00:00:00Z"
    if name == "SummitAnnounced":
        after = evolve(None, event, summit_id=SID, version=1, recorded_at=stamp)
        assert (after.summit_id, after.version, after.created_at) == (SID, 1, stamp)
    else:
        before = _summit_for(Status.TENTATIVE)
        after = evolve(before, event, summit_id=SID, version=2, recorded_at=stamp)
        assert after.version == 2 and after.summit_id == SID
        assert after.sequence >= before.sequence
    assert after.updated_at == stamp
    assert after.last_change.type == name
    assert after.last_change.summary == text


def test_each_event_type_has_its_own_meaning() -> None:
    meanings = [meaning_of(minimal_event(model)) for model in MODELS.values()]
    assert len({id(m) for m in meanings}) == len(MODELS)
    labels = [m.label for m in meanings]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"SummitAnnounced"}))
def test_each_meaning_follows_the_contract_table(name: str) -> None:
    """The statuses a type may follow, as the core states them, are CONTRACT section 3's."""
    assert name in ALLOWED, f"{name} is missing from CONTRACT section 3 (tests/factories.py)"
    follows = meaning_of(minimal_event(MODELS[name])).follows
    open_statuses = {s.value for s in Status} - {"retracted"}
    assert ({s.value for s in follows} if follows is not None else open_statuses) == ALLOWED[name]


# --- one_line ---------------------------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([" ", " ", "\n", "\t", "\r", "\u2028", "\x85", ",", ";", ":"]),
    ),
    max_size=400,
)


@given(text=TEXT, limit=st.integers(1, 250))
def test_one_line_fits_its_limit_on_one_line_and_never_cuts_a_word(text: str, limit: int) -> None:
    line = " ".join(text.split())  # the text's words, one space apart
    out = one_line(text, limit)
    assert len(out) <= limit
    assert out == " ".join(out.split())  # one line: no line breaks, tabs or runs of spaces
    if len(line) <= limit:
        assert out == line
        return
    assert out.endswith("…")
    kept = out[:-1]
    assert line.startswith(kept)
    # What was cut starts at a word boundary (after punctuation the cut dropped), so the
    # last word kept is whole, unless the first word alone is longer than the limit (then it
    # is cut, and punctuation it would end on is dropped: "00:00" in 4 is "00…").
    rest = line[len(kept) :]
    first_word = line.split(" ", 1)[0]
    if len(first_word) < limit:
        assert re.match(r"[,;:]* ", rest), (kept, rest)
    else:
        assert kept == first_word[: limit - 1].rstrip(",;: ")


def test_one_line_examples() -> None:
    assert one_line("Line one.\nLine two.") == "Line one. Line two."
    assert one_line("alpha beta gamma", 12) == "alpha beta…"
    assert one_line("alpha beta, gamma", 13) == "alpha beta…"
    assert one_line("alpha beta", 10) == "alpha beta"
    assert one_line("x" * 30, 10) == "x" * 9 + "…"
    assert len(one_line("word " * 100)) <= SUMMARY_LIMIT
