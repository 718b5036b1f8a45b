"""Properties of the one write path, `record_event`, on a memory and a SQLite log.

A test-side model of CONTRACT section 3 (the status table from tests/factories.py, the
statuses a reschedule brings back) predicts every outcome: recorded, replayed for a resent
event_id, or the kind of refusal, checked in the order the service documents. Whatever the
outcome, the log holds exactly the records the model says, and nothing else.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import factories
import pytest
from factories import read_stream
from hypothesis import HealthCheck, event, find, given, settings
from hypothesis import strategies as st

from calendar_core.projection import fold
from calendar_core.service import Outcome, Refusal, Submission, record_event
from events import EVENT_TYPES, EventStore, FixedClock, Recorded
from events.memory import MemoryEventStore
from events.sqlite import SQLiteEventStore

SUMMITS = ("alpha-summit", "beta-summit", "gamma-summit")
BAD_IDS = ("Bad Id", "new-summit\n")
ALLOWED = factories.CONTRACT_ALLOWED
ACTIVE, OFF = {"tentative", "confirmed"}, {"postponed", "cancelled"}
TOKYO = {"city": "Tokyo", "country": "JP", "timezone": "Asia/Tokyo"}  # no DST: no schedule error


@contextmanager
def memory_log() -> Iterator[EventStore]:
    yield MemoryEventStore(FixedClock(datetime(2025, 1, 1, tzinfo=UTC), tick=timedelta(seconds=1)))


@contextmanager
def sqlite_log() -> Iterator[EventStore]:
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(datetime(2025, 1, 1, tzinfo=UTC), tick=timedelta(seconds=1))
        log = SQLiteEventStore(Path(folder) / "log.sqlite3", clock)
        try:
            yield log
        finally:
            log.close()


LOGS: dict[str, Callable[[], Any]] = {"memory": memory_log, "sqlite": sqlite_log}


@dataclass
class Stream:
    """What the model knows of one summit."""

    status: str
    schedule: str
    version: int = 1
    resumes_as: str | None = None


@dataclass
class Model:
    """The log as the contract says it must be after the outcomes so far."""

    streams: dict[str, Stream] = field(default_factory=dict)
    first: dict[str, tuple[Submission, Recorded]] = field(default_factory=dict)  # by event_id
    count: int = 0
    serial: int = 0  # for names and dates never used before

    def fresh(self) -> int:
        self.serial += 1
        return self.serial


def refinement(schedule: str) -> str | None:
    """A schedule inside `schedule` and finer (None for a minute: nothing finer)."""
    if len(schedule) == 7:
        return f"{schedule}-15"
    if len(schedule) == 10:
        return f"{schedule}T12:00"
    return None


def valid_data(draw: st.DrawFn, model: Model, event_type: str, stream: Stream | None) -> Any:
    """Data of this type that only the summit's status (and the type's window) may refuse."""
    serial = model.fresh()
    if event_type == "SummitAnnounced":
        return {
            "title": f"Summit {serial}",
            "kind": "other",
            "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
            "location": TOKYO,
            "schedule": {"start": f"2030-{draw(st.integers(1, 12)):02d}"},
            "status": draw(st.sampled_from(sorted(ACTIVE))),
        }
    if event_type == "ScheduleRefined":
        finer = None if stream is None else refinement(stream.schedule)
        return {"schedule": {"start": finer or "2099-01-01"}}
    if event_type == "SummitRescheduled":  # a month never used: it always moves
        return {"schedule": {"start": f"{2031 + serial // 12}-{serial % 12 + 1:02d}"}}
    if event_type == "ParticipantsChanged":
        return {"added": [{"name": f"Delegate {serial}", "country": "KR"}]}
    return {
        "SummitConfirmed": {},
        "SummitPostponed": {},
        "SummitCancelled": {"reason": "weather"},
        "SummitCompleted": draw(st.sampled_from([{}, {"outcome": "Joint statement"}])),
        "DetailsAmended": {"title": f"Renamed {serial}"},
        "SummitNoted": {"note": f"Report {serial}", "disputed": True},
        "EntryRetracted": {"reason": "never planned"},
    }[event_type]


@st.composite
def submissions(draw: st.DrawFn, model: Model) -> tuple[Submission, int | None]:
    """A submission and the version it expects (None: any)."""
    sent_with_ids = [sent for sent, _ in model.first.values() if sent.event_id is not None]
    if sent_with_ids and draw(st.integers(0, 4)) == 0:  # a resend of an accepted one
        return draw(st.sampled_from(sent_with_ids)), draw(st.sampled_from([None, 0, 1, 99]))
    summit_id = draw(st.sampled_from(SUMMITS + BAD_IDS if draw(st.booleans()) else SUMMITS))
    unknown = summit_id not in model.streams
    if unknown and draw(st.integers(0, 3)) > 0:  # most sends to a new summit announce it
        event_type = "SummitAnnounced"
    else:
        event_type = draw(st.sampled_from(EVENT_TYPES))
    data = dict(valid_data(draw, model, event_type, model.streams.get(summit_id)))
    if draw(st.integers(0, 7)) == 0:
        data["unknown_field"] = 1  # invalid data
    event_id = draw(st.sampled_from([None, f"evt-{model.fresh()}"]))
    if model.first and draw(st.integers(0, 7)) == 0:  # an id the log holds, other content
        event_id = draw(st.sampled_from(list(model.first)))
    version = model.streams[summit_id].version if summit_id in model.streams else 0
    expected = None
    if draw(st.integers(0, 3)) == 0:  # If-Match: right, ahead or behind
        expected = draw(st.sampled_from([version, version + 1, max(version - 1, 1)]))
    recorded_by = draw(st.sampled_from([None, "desk"]))
    return Submission(summit_id, event_type, data, event_id, recorded_by), expected


def predict(
    model: Model, sent: Submission, expected: int | None, must_exist: bool
) -> Refusal | str:
    """The outcome the contract gives: "recorded", "replayed" or a refusal's kind."""
    if sent.event_id in model.first:
        first, _ = model.first[sent.event_id]
        same = (first.summit_id, first.type, dict(first.data)) == (
            sent.summit_id,
            sent.type,
            dict(sent.data),
        )
        return "replayed" if same else Refusal.EVENT_ID_REUSED
    stream = model.streams.get(sent.summit_id)
    version = 0 if stream is None else stream.version
    if stream is None and sent.type != "SummitAnnounced":
        return Refusal.UNKNOWN_SUMMIT
    if stream is None and (expected is not None or must_exist):
        return Refusal.STALE  # no version of it exists to match (If-Match on a new summit)
    if expected is not None and expected != version:
        return Refusal.STALE
    if stream is None and sent.summit_id in BAD_IDS:
        return Refusal.INVALID
    if "unknown_field" in sent.data:
        return Refusal.INVALID
    if stream is None:
        return "recorded"
    if sent.type == "SummitAnnounced" or stream.status == "retracted":
        return Refusal.RULE
    if stream.status not in ALLOWED[sent.type]:
        return Refusal.RULE
    if sent.type == "ScheduleRefined" and refinement(stream.schedule) is None:
        return Refusal.RULE
    return "recorded"


LEADS_TO = {
    "SummitConfirmed": "confirmed",
    "SummitPostponed": "postponed",
    "SummitCancelled": "cancelled",
    "SummitCompleted": "completed",
    "EntryRetracted": "retracted",
}


def follow(model: Model, sent: Submission, record: Recorded) -> None:
    """The model after an accepted submission."""
    model.count += 1
    model.first[record.event_id] = (sent, record)
    data = sent.data
    if sent.type == "SummitAnnounced":
        model.streams[sent.summit_id] = Stream(data["status"], data["schedule"]["start"])
        return
    stream = model.streams[sent.summit_id]
    stream.version += 1
    if "schedule" in data and sent.type in ("ScheduleRefined", "SummitRescheduled"):
        stream.schedule = data["schedule"]["start"]
    status = LEADS_TO.get(sent.type)
    if sent.type == "SummitRescheduled" and stream.status in OFF:
        status = stream.resumes_as or "tentative"  # back to the status held before
    if status is not None and status != stream.status:
        if status in OFF:
            stream.resumes_as = stream.resumes_as if stream.status in OFF else stream.status
        else:
            stream.resumes_as = None
        stream.status = status


def check(
    log: EventStore,
    model: Model,
    sent: Submission,
    expected: int | None,
    must_exist: bool = False,
) -> Outcome:
    """Send one submission and hold its outcome and the log to the model."""
    wanted = predict(model, sent, expected, must_exist)
    version = model.streams[sent.summit_id].version if sent.summit_id in model.streams else 0
    outcome = record_event(log, sent, expected_version=expected, must_exist=must_exist)
    said = f"{sent} expecting {expected} ({must_exist=}): wanted {wanted}, got {outcome}"
    if wanted == "recorded":
        assert outcome.refusal is None and not outcome.replayed, said
        record = outcome.record
        assert record is not None
        assert (record.position, record.version) == (model.count + 1, version + 1)
        assert (record.summit_id, record.type, record.data) == (
            sent.summit_id,
            sent.type,
            dict(sent.data),
        )
        assert record.recorded_by == sent.recorded_by
        assert sent.event_id is None or record.event_id == sent.event_id
        follow(model, sent, record)
    elif wanted == "replayed":
        assert outcome.replayed and outcome.refusal is None, said
        assert sent.event_id is not None and outcome.record == model.first[sent.event_id][1]
    else:
        assert outcome.refusal is wanted, said
        assert outcome.record is None and not outcome.replayed and outcome.message
        if wanted is Refusal.STALE:
            assert outcome.version == version
        if wanted is Refusal.INVALID:
            assert outcome.errors
    # The log holds what the model says: one more record for "recorded", none otherwise.
    head = log.head()
    assert (0 if head is None else head.position) == model.count
    return outcome


@pytest.mark.parametrize("kind", sorted(LOGS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_outcome_is_the_contracts_and_only_a_record_appends(
    kind: str, data: st.DataObject
) -> None:
    model = Model()
    with LOGS[kind]() as log:
        for _ in range(data.draw(st.integers(1, 30), label="steps")):
            sent, expected = data.draw(submissions(model), label="submission")
            must_exist = data.draw(st.integers(0, 9), label="must exist?") == 0
            outcome = check(log, model, sent, expected, must_exist)
            event(str(outcome.refusal or ("replayed" if outcome.replayed else "recorded")))
        records = list(log.read())
        assert len(records) == model.count
        assert log.verify().ok
        for summit_id, stream in model.streams.items():
            summit = fold(read_stream(log, summit_id))
            assert summit is not None
            assert (summit.status, summit.version) == (stream.status, stream.version)


@pytest.mark.parametrize("kind", sorted(LOGS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_resend_is_replayed_however_often_and_appends_nothing(
    kind: str, data: st.DataObject
) -> None:
    model = Model()
    with LOGS[kind]() as log:
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            sent, expected = data.draw(submissions(model), label="submission")
            outcome = check(log, model, sent, expected)
            if outcome.record is None or sent.event_id is None:
                continue
            first = outcome.record
            for again in data.draw(st.lists(st.sampled_from([None, 0, 1, 7]), max_size=3)):
                head = log.head()
                replay = record_event(log, sent, expected_version=again)
                assert (replay.record, replay.replayed, replay.refusal) == (first, True, None)
                assert log.head() == head


def simplest(strategy: st.SearchStrategy[Any]) -> Any:
    """The simplest value of a strategy (a draw outside @given)."""
    return find(strategy, lambda _: True)


@pytest.mark.parametrize("kind", sorted(LOGS))
@pytest.mark.parametrize("status", ["tentative", "confirmed", "postponed", "cancelled"])
@pytest.mark.parametrize("event_type", sorted(ALLOWED))
def test_the_status_table_on_each_log(kind: str, status: str, event_type: str) -> None:
    """Every cell of CONTRACT section 3's table, through the write path of each log."""
    reach = {
        "tentative": [],
        "confirmed": ["SummitConfirmed"],
        "postponed": ["SummitPostponed"],
        "cancelled": ["SummitConfirmed", "SummitCancelled"],
    }[status]
    model = Model()
    with LOGS[kind]() as log:
        announce = Submission(
            SUMMITS[0],
            "SummitAnnounced",
            {**valid_data(simplest, model, "SummitAnnounced", None), "status": "tentative"},
        )
        check(log, model, announce, None)
        for step in reach:
            check(log, model, Submission(SUMMITS[0], step, {}), None)
        stream = model.streams[SUMMITS[0]]
        data = valid_data(simplest, model, event_type, stream)
        outcome = check(log, model, Submission(SUMMITS[0], event_type, data), None)
        assert (outcome.refusal is None) == (status in ALLOWED[event_type])
