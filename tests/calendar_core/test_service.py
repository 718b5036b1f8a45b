"""service.record_event (the one write path: idempotent, version-checked, rule-checked) and
ImportCheck (imports checked line by line with state of their own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from factories import read_stream

from calendar_core.projection import fold
from calendar_core.service import ImportCheck, Outcome, Refusal, Submission, record_event
from events import Draft, EventStore, ImportRejected, NewEvent, Recorded

SID = "kr-jp-2025"
ANNOUNCE: dict[str, Any] = {
    "title": "Korea-Japan summit",
    "kind": "bilateral_summit",
    "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
    "location": {"country": "JP", "timezone": "Asia/Tokyo"},
    "schedule": {"start": "2025-08"},
    "status": "tentative",
}


def sent(event_type: str, data: dict[str, Any] | None = None, **extra: Any) -> Submission:
    return Submission(extra.pop("summit_id", SID), event_type, data or {}, **extra)


def announce(**extra: Any) -> Submission:
    return sent("SummitAnnounced", ANNOUNCE, **extra)


def recorded(outcome: Outcome) -> Recorded:
    assert outcome.refusal is None, outcome.message
    assert outcome.record is not None and not outcome.replayed
    return outcome.record


def test_record_event_appends_what_the_rules_allow(store: EventStore) -> None:
    first = recorded(record_event(store, announce(recorded_by="desk")))
    second = recorded(record_event(store, sent("SummitConfirmed")))
    assert (first.position, first.version, second.position, second.version) == (1, 1, 2, 2)
    assert first.recorded_by == "desk" and second.recorded_by is None
    assert first.data == ANNOUNCE
    summit = fold(read_stream(store, SID))
    assert summit is not None and summit.status == "confirmed"


def test_a_resent_event_returns_the_first_record_and_appends_nothing(store: EventStore) -> None:
    record_event(store, announce())
    confirm = sent("SummitConfirmed", event_id="c0ffee00-0000-4000-8000-000000000001")
    first = recorded(record_event(store, confirm))
    head = store.head()
    # Sent again: the rules would now refuse a second confirmation, but it is the same event.
    again = record_event(store, confirm)
    assert (again.record, again.replayed, again.refusal) == (first, True, None)
    assert store.head() == head
    # And with a stale expected version too: idempotency is checked before the version.
    stale = record_event(store, confirm, expected_version=0)
    assert (stale.record, stale.replayed) == (first, True)
    assert store.head() == head


def test_a_reused_event_id_with_other_content_is_refused(store: EventStore) -> None:
    record_event(store, announce(event_id="c0ffee00-0000-4000-8000-000000000002"))
    other = sent("SummitConfirmed", event_id="c0ffee00-0000-4000-8000-000000000002")
    outcome = record_event(store, other)
    assert outcome.refusal is Refusal.EVENT_ID_REUSED and outcome.record is None
    assert "c0ffee00-0000-4000-8000-000000000002" in outcome.message
    assert "position 1" in outcome.message
    head = store.head()
    assert head is not None and head.position == 1


def test_expected_version_must_match_before_any_rule(store: EventStore) -> None:
    record_event(store, announce())
    record_event(store, sent("SummitConfirmed"))
    # A second confirm would be refused by the rules; the stale version answers first.
    outcome = record_event(store, sent("SummitConfirmed"), expected_version=1)
    assert (outcome.refusal, outcome.version) == (Refusal.STALE, 2)
    assert outcome.message == f"{SID} is at version 2, not 1"
    noted = recorded(record_event(store, sent("SummitNoted", {"note": "ok"}), expected_version=2))
    assert noted.version == 3


@pytest.mark.parametrize(
    ("expected", "must_exist"), [(3, False), (0, False), (None, True), (1, True)]
)
def test_expecting_a_summit_that_does_not_exist_is_stale(
    store: EventStore, expected: int | None, must_exist: bool
) -> None:
    """If-Match (a version or `*`) on a summit that does not exist matches nothing."""
    outcome = record_event(store, announce(), expected_version=expected, must_exist=must_exist)
    assert (outcome.refusal, outcome.version) == (Refusal.STALE, 0)
    assert outcome.message == f"{SID} does not exist yet"
    assert store.head() is None
    assert recorded(record_event(store, announce())).version == 1
    # Once it exists, `must_exist` is met.
    confirmed = record_event(store, sent("SummitConfirmed"), must_exist=True)
    assert recorded(confirmed).version == 2


class Interloper:
    """A log whose first read of a summit's stream lets another writer append meanwhile."""

    def __init__(self, log: EventStore, draft: Draft) -> None:
        self.log, self.draft, self.reads = log, draft, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.log, name)

    def read(self, **kwargs: Any) -> Iterator[Recorded]:
        records = list(self.log.read(**kwargs))
        self.reads += 1
        if self.reads == 1:
            self.log.append([self.draft])
        return iter(records)


def racing(log: EventStore, draft: Draft) -> EventStore:
    """The log as a writer sees it who loses a race to `draft`."""
    return cast(EventStore, Interloper(log, draft))


def test_a_writer_between_read_and_append_makes_an_expected_version_stale(
    store: EventStore,
) -> None:
    record_event(store, announce())
    cancel = NewEvent.of(SID, "SummitCancelled", {}).draft
    outcome = record_event(racing(store, cancel), sent("SummitConfirmed"), expected_version=1)
    assert (outcome.refusal, outcome.version) == (Refusal.STALE, 2)
    summit = fold(read_stream(store, SID))
    assert summit is not None and (summit.status, summit.version) == ("cancelled", 2)


def test_without_an_expected_version_a_lost_race_is_decided_again(store: EventStore) -> None:
    record_event(store, announce())
    # Another writer cancels between our read and our append: the confirmation is decided
    # again on the newer state, and refused by the rules (not appended over the cancellation).
    cancel = NewEvent.of(SID, "SummitCancelled", {}).draft
    outcome = record_event(racing(store, cancel), sent("SummitConfirmed"))
    assert outcome.refusal is Refusal.RULE
    assert (
        outcome.message == f"cannot confirm {SID}: it is cancelled; reschedule it to bring it back"
    )
    # A note, in the same race, is simply appended after the other writer's event.
    other = NewEvent.of(SID, "SummitNoted", {"note": "first"}).draft
    note = recorded(record_event(racing(store, other), sent("SummitNoted", {"note": "b"})))
    assert (note.position, note.version) == (4, 4)


def test_a_resend_racing_its_first_send_gets_the_first_record(store: EventStore) -> None:
    """The first send lands between the resend's lookup and its append: replayed, not 409."""
    record_event(store, announce())
    event_id = "c0ffee00-0000-4000-8000-00000000000a"
    first_send = NewEvent.of(SID, "SummitNoted", {"note": "x"}, event_id=event_id).draft
    outcome = record_event(
        racing(store, first_send),
        sent("SummitNoted", {"note": "x"}, event_id=event_id),
    )
    assert outcome.replayed and outcome.refusal is None
    assert outcome.record == store.find(event_id)
    assert store.head().position == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("submission", "refusal"),
    [
        (sent("SummitConfirmed", summit_id="someone-else"), Refusal.UNKNOWN_SUMMIT),
        (announce(), Refusal.RULE),
        (sent("SummitNoted", {"note": "x", "extra": 1}), Refusal.INVALID),
        (sent("SummitNoted", {"note": "bell \x07"}), Refusal.INVALID),
        (announce(summit_id="new-summit\n"), Refusal.INVALID),
        (announce(summit_id="Bad Id"), Refusal.INVALID),
        (
            sent("SummitCompleted", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}}),
            None,
        ),
    ],
)
def test_refusals_append_nothing(
    store: EventStore, submission: Submission, refusal: Refusal | None
) -> None:
    record_event(store, announce())
    head = store.head()
    outcome = record_event(store, submission)
    assert outcome.refusal is refusal, outcome.message
    if refusal is None:
        assert store.head() != head
    else:
        assert outcome.record is None and outcome.message
        assert store.head() == head


def test_an_invalid_submission_names_its_fields(store: EventStore) -> None:
    outcome = record_event(store, announce(summit_id="a\n"))
    assert outcome.errors == (("summit_id", "must match ^[a-z0-9][a-z0-9-]{2,79}$"),)
    record_event(store, announce())
    outcome = record_event(store, sent("SummitNoted", {"note": "", "disputed": "yes"}))
    fields = [field for field, _ in outcome.errors]
    assert fields == ["data.note", "data.disputed"]
    assert outcome.message.startswith("data.note: ")


# --- imports ----------------------------------------------------------------------------------


def line(event_type: str, data: dict[str, Any], summit_id: str = SID, **extra: Any) -> NewEvent:
    return NewEvent.of(summit_id, event_type, data, **extra)


def run_import(store: EventStore, *items: NewEvent) -> int:
    check = ImportCheck(store)
    numbered = list(enumerate(items, start=1))
    return store.import_events(check.drafts(numbered), expected_head=check.head)


def test_import_check_follows_the_state_line_by_line(store: EventStore) -> None:
    added = run_import(
        store,
        line("SummitAnnounced", ANNOUNCE),
        line("SummitAnnounced", {**ANNOUNCE, "title": "G7"}, "g7-2025"),
        line("SummitConfirmed", {}),
        line("ScheduleRefined", {"schedule": {"start": "2025-08-23"}}),
    )
    assert added == 4
    with pytest.raises(ImportRejected) as caught:
        run_import(store, line("SummitNoted", {"note": "a"}), line("SummitConfirmed", {}))
    assert caught.value.line == 2
    assert "cannot confirm kr-jp-2025: it is already confirmed" in str(caught.value)
    assert store.head().position == 4  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lines", "bad_line", "words"),
    [
        ([(SID, "SummitConfirmed", {})], 1, "announce it first"),
        (
            [(SID, "SummitAnnounced", ANNOUNCE), (SID, "SummitAnnounced", ANNOUNCE)],
            2,
            "announced already",
        ),
        (
            [
                (
                    SID,
                    "SummitAnnounced",
                    {**ANNOUNCE, "location": {"country": "US", "timezone": "America/New_York"}},
                ),
                (SID, "ScheduleRefined", {"schedule": {"start": "2025-08-10T10:00"}}),
                (SID, "SummitRescheduled", {"schedule": {"start": "2026-03-08T02:30"}}),
            ],
            3,
            "does not exist in America/New_York",
        ),
        (
            [
                (SID, "SummitAnnounced", ANNOUNCE),
                (SID, "EntryRetracted", {"reason": "x"}),
                (SID, "SummitNoted", {"note": "y"}),
            ],
            3,
            "retracted",
        ),
    ],
)
def test_import_check_names_the_line(
    store: EventStore, lines: list[tuple[str, str, dict[str, Any]]], bad_line: int, words: str
) -> None:
    with pytest.raises(ImportRejected) as caught:
        run_import(store, *(line(t, d, sid) for sid, t, d in lines))
    assert caught.value.line == bad_line
    assert words in caught.value.message
    assert store.head() is None


def test_import_check_skips_events_already_in_the_log(store: EventStore) -> None:
    confirm_id = "c0ffee00-0000-4000-8000-000000000003"
    record_event(store, announce())
    record_event(store, sent("SummitConfirmed", event_id=confirm_id))
    # Re-importing the confirmation (already in the log) is not a second confirmation.
    check = ImportCheck(store)
    items = [
        (1, line("SummitConfirmed", {}, event_id=confirm_id)),
        (2, line("SummitNoted", {"note": "later"})),
    ]
    assert store.import_events(check.drafts(items), expected_head=check.head) == 1
    assert check.skipped == 1
    assert store.head().position == 3  # type: ignore[union-attr]


def test_an_import_id_in_the_log_with_other_content_is_refused(store: EventStore) -> None:
    confirm_id = "c0ffee00-0000-4000-8000-000000000004"
    record_event(store, announce())
    record_event(store, sent("SummitConfirmed", event_id=confirm_id))
    head = store.head()
    with pytest.raises(ImportRejected) as caught:
        run_import(store, line("SummitNoted", {"note": "other"}, event_id=confirm_id))
    assert caught.value.line == 1 and "already used by another event" in caught.value.message
    assert store.head() == head


def test_an_import_onto_a_log_that_moved_is_refused(store: EventStore) -> None:
    """The check read the log at its head; a write before the import's transaction stops it."""
    from events import ConcurrencyError

    record_event(store, announce())
    check = ImportCheck(store)
    drafts = list(check.drafts([(1, line("SummitConfirmed", {}))]))
    record_event(store, sent("SummitCancelled"))
    head = store.head()
    with pytest.raises(ConcurrencyError):
        store.import_events(drafts, expected_head=check.head)
    assert store.head() == head
