"""service.handle (idempotent, version-checked, rule-checked appends) and check_import."""

from __future__ import annotations

from typing import Any

import pytest

from calendar_core.rules import Refused, UnknownSummit
from calendar_core.service import check_import, handle
from calendar_core.summit import fold
from events import ConcurrencyError, EventIdReused, EventStore, ImportRejected, NewEvent

SID = "kr-jp-2025"
ANNOUNCE: dict[str, Any] = {
    "title": "Korea-Japan summit",
    "kind": "bilateral_summit",
    "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
    "location": {"country": "JP", "timezone": "Asia/Tokyo"},
    "schedule": {"start": "2025-08"},
    "status": "tentative",
}


def announce(**extra: Any) -> NewEvent:
    return NewEvent.of("SummitAnnounced", ANNOUNCE, **extra)


def test_handle_appends_what_the_rules_allow(store: EventStore) -> None:
    first = handle(store, SID, announce(recorded_by="desk"))
    second = handle(store, SID, NewEvent.of("SummitConfirmed", {}))
    assert (first.position, first.version, second.position, second.version) == (1, 1, 2, 2)
    assert first.recorded_by == "desk"
    summit = fold(store.stream(SID))
    assert summit is not None and summit.status == "confirmed"


def test_a_resent_event_returns_the_first_record_and_appends_nothing(store: EventStore) -> None:
    handle(store, SID, announce())
    confirm = NewEvent.of("SummitConfirmed", {}, event_id="c0ffee00-0000-4000-8000-000000000001")
    first = handle(store, SID, confirm)
    head = store.head()
    # Sent again: the rules would now refuse a second confirmation, but it is the same event.
    again = handle(store, SID, confirm)
    assert again == first
    assert store.head() == head
    # And with a stale expected version too: idempotency is checked before the version.
    assert handle(store, SID, confirm, expected_version=0) == first


def test_a_reused_event_id_with_other_content_is_refused(store: EventStore) -> None:
    handle(store, SID, announce(event_id="c0ffee00-0000-4000-8000-000000000002"))
    other = NewEvent.of("SummitConfirmed", {}, event_id="c0ffee00-0000-4000-8000-000000000002")
    with pytest.raises(EventIdReused):
        handle(store, SID, other)
    assert store.head() is not None and store.head().position == 1  # type: ignore[union-attr]


def test_expected_version_must_match_before_any_rule(store: EventStore) -> None:
    handle(store, SID, announce())
    handle(store, SID, NewEvent.of("SummitConfirmed", {}))
    with pytest.raises(ConcurrencyError) as caught:
        # A second confirm would be refused by the rules; the stale version answers first.
        handle(store, SID, NewEvent.of("SummitConfirmed", {}), expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    recorded = handle(store, SID, NewEvent.of("SummitNoted", {"note": "ok"}), expected_version=2)
    assert recorded.version == 3


def test_a_concurrent_writer_between_read_and_append_is_caught(store: EventStore) -> None:
    """handle appends at the version it read, so a write slipped in between fails loudly."""
    handle(store, SID, announce())
    real_stream = store.stream

    def stream_then_someone_writes(summit_id: str, **kwargs: Any) -> Any:
        records = real_stream(summit_id, **kwargs)
        store.append(summit_id, [NewEvent.of("SummitCancelled", {})])
        return records

    store.stream = stream_then_someone_writes  # type: ignore[method-assign]
    try:
        with pytest.raises(ConcurrencyError):
            handle(store, SID, NewEvent.of("SummitConfirmed", {}))
    finally:
        del store.stream
    summit = fold(store.stream(SID))
    assert summit is not None and summit.status == "cancelled"


@pytest.mark.parametrize(
    ("event_type", "data", "error"),
    [
        ("SummitConfirmed", {}, UnknownSummit),
        ("SummitAnnounced", ANNOUNCE, Refused),
        ("SummitCompleted", {"schedule": {"start": "2025-08-23", "end": "2025-08-24"}}, None),
    ],
)
def test_refusals_append_nothing(
    store: EventStore, event_type: str, data: dict[str, Any], error: type[Exception] | None
) -> None:
    sid = "someone-else" if error is UnknownSummit else SID
    handle(store, SID, announce())
    head = store.head()
    new = NewEvent.of(event_type, data)
    if error is None:
        handle(store, sid, new)
        assert store.head() != head
    else:
        with pytest.raises(error):
            handle(store, sid, new)
        assert store.head() == head


def numbered(*items: tuple[str, NewEvent]) -> list[tuple[int, str, NewEvent]]:
    return [(n, sid, new) for n, (sid, new) in enumerate(items, start=1)]


def test_check_import_follows_the_state_line_by_line(store: EventStore) -> None:
    lines = numbered(
        (SID, announce()),
        ("g7-2025", NewEvent.of("SummitAnnounced", {**ANNOUNCE, "title": "G7"})),
        (SID, NewEvent.of("SummitConfirmed", {})),
        (SID, NewEvent.of("ScheduleRefined", {"schedule": {"start": "2025-08-23"}})),
    )
    assert store.import_events(check_import(store, lines)) == 4
    more = numbered(
        (SID, NewEvent.of("SummitNoted", {"note": "a"})), (SID, NewEvent.of("SummitConfirmed", {}))
    )
    with pytest.raises(ImportRejected) as caught:
        store.import_events(check_import(store, more))
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
def test_check_import_names_the_line(
    store: EventStore, lines: list[tuple[str, str, dict[str, Any]]], bad_line: int, words: str
) -> None:
    items = numbered(*((sid, NewEvent.of(t, d)) for sid, t, d in lines))
    with pytest.raises(ImportRejected) as caught:
        store.import_events(check_import(store, items))
    assert caught.value.line == bad_line
    assert words in caught.value.message
    assert store.head() is None


def test_check_import_skips_events_already_in_the_log(store: EventStore) -> None:
    confirm = NewEvent.of("SummitConfirmed", {}, event_id="c0ffee00-0000-4000-8000-000000000003")
    handle(store, SID, announce())
    handle(store, SID, confirm)
    # Re-importing the confirmation (already in the log) is not a second confirmation.
    lines = numbered((SID, confirm), (SID, NewEvent.of("SummitNoted", {"note": "later"})))
    assert store.import_events(check_import(store, lines)) == 1
    assert store.head().position == 3  # type: ignore[union-attr]
