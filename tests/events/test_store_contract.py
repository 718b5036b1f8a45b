"""The EventStore contract: every adapter (the `store` fixture's params) must pass all of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import announce, confirm, note

from events import (
    Claimed,
    ConcurrencyError,
    EventIdReused,
    EventStore,
    FixedClock,
    LogError,
    NewEvent,
    format_stamp,
    parse_stamp,
)
from events.record import Entry


def _fill(store: EventStore) -> None:
    """Three summits, interleaved: a(1) b(1) a(2) c(1) b(2) a(3)."""
    store.append("summit-a", [announce()])
    store.append("summit-b", [announce(title="B")])
    store.append("summit-a", [confirm()])
    store.append("summit-c", [announce(title="C")])
    store.append("summit-b", [note()])
    store.append("summit-a", [note("third")])


def _positions(store: EventStore) -> list[int]:
    return [r.position for r in store.iter_log()]


def test_positions_run_from_one_without_gaps_and_versions_count_per_summit(
    store: EventStore,
) -> None:
    """Positions are 1..N over the whole log; versions are 1..n within each summit."""
    _fill(store)
    log = list(store.iter_log())
    assert [r.position for r in log] == [1, 2, 3, 4, 5, 6]
    assert [(r.summit_id, r.version) for r in log] == [
        ("summit-a", 1),
        ("summit-b", 1),
        ("summit-a", 2),
        ("summit-c", 1),
        ("summit-b", 2),
        ("summit-a", 3),
    ]
    assert [r.version for r in store.stream("summit-a")] == [1, 2, 3]
    assert [r.position for r in store.stream("summit-a", until_position=3)] == [1, 3]
    assert store.stream("nobody-here") == []


def test_a_batch_gets_consecutive_versions_and_links(store: EventStore) -> None:
    """Several events in one append are chained in order."""
    records = store.append("summit-a", [announce(), confirm(), note()])
    assert [r.version for r in records] == [1, 2, 3]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert store.verify().ok


def test_stale_expected_version_is_refused_and_nothing_is_written(store: EventStore) -> None:
    """A writer that expected another version gets ConcurrencyError and the log stays as it was."""
    store.append("summit-a", [announce()], expected_version=0)
    store.append("summit-a", [confirm()], expected_version=1)
    head = store.head()
    with pytest.raises(ConcurrencyError) as caught:
        store.append("summit-a", [note()], expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert store.head() == head
    with pytest.raises(ConcurrencyError):
        store.append("summit-new", [announce()], expected_version=3)
    assert store.head() == head


def test_a_resent_event_id_returns_the_stored_record_and_appends_nothing(
    store: EventStore,
) -> None:
    """Idempotence: the same event sent twice is stored once, even with a now-stale version."""
    event = announce(event_id="11111111-1111-4111-8111-111111111111")
    first = store.append("summit-a", [event], expected_version=0)
    store.append("summit-a", [confirm()])
    again = store.append("summit-a", [event], expected_version=0)
    assert again == first
    assert _positions(store) == [1, 2]
    assert store.by_event_id(event.event_id) == first[0]


def test_an_event_id_reused_with_other_content_is_refused(store: EventStore) -> None:
    """The same event_id carrying something else is EventIdReused, nothing written."""
    store.append("summit-a", [announce(event_id="e-1")])
    head = store.head()
    with pytest.raises(EventIdReused):
        store.append("summit-a", [note(event_id="e-1")])
    with pytest.raises(EventIdReused):
        store.append("summit-b", [announce(event_id="e-1")])
    assert store.head() == head


def test_a_stream_starts_with_its_one_announcement(store: EventStore) -> None:
    """The first event of a summit must be SummitAnnounced, and there is only one."""
    with pytest.raises(LogError, match="first event must be SummitAnnounced"):
        store.append("summit-a", [note()])
    store.append("summit-a", [announce()])
    with pytest.raises(LogError, match="already announced"):
        store.append("summit-a", [announce()])
    with pytest.raises(LogError, match="already announced"):
        store.append("summit-b", [announce(), announce()])
    assert _positions(store) == [1]


def test_recorded_at_never_goes_backwards_even_if_the_clock_does(
    store: EventStore, clock: FixedClock
) -> None:
    """A clock set back in time does not make the log's recorded_at decrease."""
    first = store.append("summit-a", [announce()])[0]
    clock.set(first.recorded_instant - timedelta(hours=5))
    second = store.append("summit-a", [confirm()])[0]
    assert second.recorded_at == first.recorded_at
    clock.set(first.recorded_instant + timedelta(seconds=30, microseconds=5))
    third = store.append("summit-a", [note()])[0]
    assert third.recorded_instant == first.recorded_instant + timedelta(seconds=30, microseconds=5)
    assert store.verify().ok


def test_read_returns_pages_after_a_position(store: EventStore) -> None:
    """read(after, limit) pages through the log in order."""
    _fill(store)
    assert [r.position for r in store.read(0, 4)] == [1, 2, 3, 4]
    assert [r.position for r in store.read(4, 4)] == [5, 6]
    assert store.read(6, 4) == []
    assert [r.position for r in store.read(2, 1)] == [3]


def test_iter_log_stops_at_a_position_or_a_recorded_time(
    store: EventStore, clock: FixedClock
) -> None:
    """until_position and until_recorded_at are inclusive; after skips the start."""
    _fill(store)
    assert _positions(store) == [1, 2, 3, 4, 5, 6]
    assert [r.position for r in store.iter_log(until_position=4)] == [1, 2, 3, 4]
    assert [r.position for r in store.iter_log(after=2, until_position=4)] == [3, 4]
    assert [r.position for r in store.iter_log(after=6)] == []
    third = store.at(3)
    assert third is not None
    at_third = third.recorded_instant
    assert [r.position for r in store.iter_log(until_recorded_at=at_third)] == [1, 2, 3]
    just_before = at_third - timedelta(microseconds=1)
    assert [r.position for r in store.iter_log(until_recorded_at=just_before)] == [1, 2]
    first = store.at(1)
    assert first is not None
    assert list(store.iter_log(until_recorded_at=first.recorded_instant - timedelta(days=1))) == []


@pytest.mark.parametrize(("after", "until"), [(0, None), (2, None), (0, 4), (1, 5), (6, None)])
def test_entries_are_the_records_fields_a_projection_reads(
    store: EventStore, after: int, until: int | None
) -> None:
    """iter_entries gives, for the same bounds, each record's place, type and decoded data."""
    _fill(store)
    records = list(store.iter_log(after=after, until_position=until))
    entries = list(store.iter_entries(after=after, until_position=until))
    assert [entry._asdict() for entry in entries] == [
        {name: getattr(record, name) for name in Entry._fields} for record in records
    ]
    third = store.at(3)
    assert third is not None
    cut = third.recorded_instant
    assert [e.position for e in store.iter_entries(until_recorded_at=cut)] == [1, 2, 3]


def test_iter_log_compares_times_not_text(store: EventStore, clock: FixedClock) -> None:
    """A stamp with a fraction and one without are ordered by instant, not by their text."""
    store.append("summit-a", [announce()])  # ...:00Z
    clock.set(parse_stamp("2025-06-01T00:00:05.500000Z"))
    store.append("summit-a", [confirm()])
    clock.set(parse_stamp("2025-06-01T00:00:06Z"))
    store.append("summit-a", [note()])
    cut = parse_stamp("2025-06-01T00:00:05Z")
    assert [r.position for r in store.iter_log(until_recorded_at=cut)] == [1]
    cut = parse_stamp("2025-06-01T00:00:05.600000Z")
    assert [r.position for r in store.iter_log(until_recorded_at=cut)] == [1, 2]


def test_head_at_and_by_event_id(store: EventStore) -> None:
    """The lookups agree with the log."""
    assert store.head() is None
    assert store.at(1) is None
    _fill(store)
    last = list(store.iter_log())[-1]
    head = store.head()
    assert head is not None
    assert (head.position, head.hash, head.recorded_at) == (6, last.hash, last.recorded_at)
    assert store.at(6) == last
    assert store.at(7) is None
    assert store.by_event_id(last.event_id) == last
    assert store.by_event_id("no-such-event") is None
    assert last.event.type == "SummitNoted"


def test_import_appends_everything_and_counts(store: EventStore) -> None:
    """import_events takes many summits in one go and reports how many it added."""
    items = [("summit-a", announce()), ("summit-b", announce()), ("summit-a", confirm())]
    assert store.import_events(iter(items)) == 3
    assert [(r.summit_id, r.version) for r in store.iter_log()] == [
        ("summit-a", 1),
        ("summit-b", 1),
        ("summit-a", 2),
    ]
    assert store.verify().ok


def test_import_skips_events_already_in_the_log(store: EventStore) -> None:
    """Lines whose event_id is in the log with the same content are skipped, not refused."""
    known = announce(event_id="known-1")
    store.append("summit-a", [known])
    added = store.import_events([("summit-a", known), ("summit-a", confirm())])
    assert added == 1
    assert _positions(store) == [1, 2]
    with pytest.raises(EventIdReused):
        store.import_events([("summit-a", note(event_id="known-1"))])
    assert _positions(store) == [1, 2]


def test_import_is_all_or_nothing(store: EventStore) -> None:
    """One bad item anywhere and nothing of the import is in the log."""
    store.append("summit-a", [announce()])
    head = store.head()
    bad = [("summit-b", announce()), ("summit-b", confirm()), ("summit-a", announce())]
    with pytest.raises(LogError, match="already announced"):
        store.import_events(iter(bad))
    assert store.head() == head
    assert store.stream("summit-b") == []


def test_import_rolls_back_when_its_input_fails(store: EventStore) -> None:
    """An exception raised by the input iterator itself also leaves the log untouched."""

    def items() -> Iterator[tuple[str, NewEvent]]:
        yield "summit-a", announce()
        yield "summit-a", confirm()
        raise RuntimeError("the input broke")

    with pytest.raises(RuntimeError, match="the input broke"):
        store.import_events(items())
    assert store.head() is None
    store.append("summit-a", [announce()])
    assert _positions(store) == [1]


def test_import_keeps_a_given_recorded_at_within_bounds(
    store: EventStore, clock: FixedClock
) -> None:
    """An imported recorded_at is kept; one in the future or before the head is refused."""
    clock.advance(timedelta(days=10))
    given = "2025-06-02T12:00:00.250000Z"
    store.import_events([("summit-a", announce(recorded_at=given))])
    stored = store.at(1)
    assert stored is not None and stored.recorded_at == given
    with pytest.raises(LogError, match="before the log's last event"):
        store.import_events([("summit-a", note(recorded_at="2025-06-02T11:59:59Z"))])
    future = format_stamp(clock.now + timedelta(days=1))
    with pytest.raises(LogError, match="in the future"):
        store.import_events([("summit-a", note(recorded_at=future))])
    assert _positions(store) == [1]


def test_claimed_position_version_and_hashes_are_checked(store: EventStore) -> None:
    """What an imported line claims about its place must match what the log gives it."""
    store.append("summit-a", [announce()])
    head = store.head()
    assert head is not None
    for claim in (
        Claimed(position=5),
        Claimed(version=3),
        Claimed(prev_hash="f" * 64),
        Claimed(hash="0" * 64),
    ):
        event = NewEvent.of("SummitConfirmed", {}, claimed=claim)
        with pytest.raises(LogError, match="does not match the log"):
            store.import_events([("summit-a", event)])
    assert store.head() == head
    fine = NewEvent.of(
        "SummitConfirmed", {}, claimed=Claimed(position=2, version=2, prev_hash=head.hash)
    )
    assert store.import_events([("summit-a", fine)]) == 1


def test_verify_accepts_an_intact_log(store: EventStore) -> None:
    """verify walks the chain; an empty log is intact with no head."""
    empty = store.verify()
    assert (empty.ok, empty.checked, empty.head) == (True, 0, None)
    _fill(store)
    report = store.verify()
    assert (report.ok, report.checked, report.head) == (True, 6, store.head())
    assert report.fields()["head"] == {"position": 6, "hash": store.head().hash}  # type: ignore[union-attr]


def test_records_read_back_equal_records_appended(store: EventStore) -> None:
    """What append returns is what reads return, with non-ASCII text intact."""
    written = store.append("summit-a", [announce(title="서울 정상회담 \u2013 Séoul")])
    written += store.append("summit-a", [note("Ça a été reporté")])
    assert list(store.iter_log()) == written
    assert store.read() == written
    assert written[0].event.title == "서울 정상회담 \u2013 Séoul"  # type: ignore[union-attr]
    assert all(r.computed_hash() == r.hash for r in written)


def test_tokens_are_found_by_hash(store: EventStore) -> None:
    """add_token/find_token keep name and rights; a hash is stored once."""
    store.add_token("desk", "a" * 64)
    store.add_token("reader", "b" * 64, can_write=False)
    assert store.find_token("a" * 64) == ("desk", True)
    assert store.find_token("b" * 64) == ("reader", False)
    assert store.find_token("c" * 64) is None
    with pytest.raises(LogError):
        store.add_token("again", "a" * 64)


def test_reads_during_an_import_see_its_earlier_items(store: EventStore) -> None:
    """A check wrapping the import's input reads the import's own earlier events back."""
    seen: list[tuple[int, int, bool]] = []

    def checked(items: list[tuple[str, NewEvent]]) -> Iterator[tuple[str, NewEvent]]:
        for summit_id, new in items:
            head = store.head()
            seen.append(
                (
                    0 if head is None else head.position,
                    len(store.stream(summit_id)),
                    store.by_event_id(new.event_id) is not None,
                )
            )
            yield summit_id, new

    again = announce(event_id="first-one")
    items = [("summit-a", again), ("summit-a", confirm()), ("summit-a", again)]
    assert store.import_events(checked(items)) == 2
    assert seen == [(0, 0, False), (1, 1, False), (2, 2, True)]
    assert _positions(store) == [1, 2]
