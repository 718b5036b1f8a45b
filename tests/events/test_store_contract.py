"""The EventStore contract: every adapter (the `store` fixture's params) must pass all of it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import announce, confirm, note, read_stream

from events import (
    Claimed,
    ConcurrencyError,
    Draft,
    EventIdTaken,
    EventStore,
    FixedClock,
    LogError,
    Token,
    TokenError,
    format_stamp,
    sql,
    tokens_of,
)


def _fill(store: EventStore) -> None:
    """Three summits, interleaved: a(1) b(1) a(2) c(1) b(2) a(3)."""
    store.append([announce("summit-a").draft])
    store.append([announce("summit-b", title="B").draft])
    store.append([confirm("summit-a").draft])
    store.append([announce("summit-c", title="C").draft])
    store.append([note(summit_id="summit-b").draft])
    store.append([note("third", "summit-a").draft])


def _positions(store: EventStore, **bounds: int | str | bool | None) -> list[int]:
    return [r.position for r in store.read(**bounds)]  # type: ignore[arg-type]


def test_positions_run_from_one_without_gaps_and_versions_count_per_summit(
    store: EventStore,
) -> None:
    """Positions are 1..N over the whole log; versions are 1..n within each summit."""
    _fill(store)
    log = list(store.read())
    assert [r.position for r in log] == [1, 2, 3, 4, 5, 6]
    assert [(r.summit_id, r.version) for r in log] == [
        ("summit-a", 1),
        ("summit-b", 1),
        ("summit-a", 2),
        ("summit-c", 1),
        ("summit-b", 2),
        ("summit-a", 3),
    ]
    assert [r.version for r in read_stream(store, "summit-a")] == [1, 2, 3]
    assert [r.position for r in read_stream(store, "summit-a", until=3)] == [1, 3]
    assert read_stream(store, "nobody-here") == []


def test_a_batch_gets_consecutive_versions_and_links(store: EventStore) -> None:
    """Several events in one append are chained in order."""
    sid = "summit-a"
    records = store.append([announce(sid).draft, confirm(sid).draft, note(summit_id=sid).draft])
    assert [r.version for r in records] == [1, 2, 3]
    assert [r.position for r in records] == [1, 2, 3]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert records[0].prev_hash == "0" * 64
    assert store.verify().ok


def test_an_empty_append_writes_nothing_and_one_append_is_one_summit(store: EventStore) -> None:
    """append([]) is a no-op; drafts of two summits in one append are refused whole."""
    assert store.append([]) == []
    with pytest.raises(ValueError, match="one summit"):
        store.append([announce("summit-a").draft, announce("summit-b").draft])
    assert store.head() is None


def test_stale_expected_version_is_refused_and_nothing_is_written(store: EventStore) -> None:
    """A writer that expected another version gets ConcurrencyError and the log stays as it was."""
    store.append([announce("summit-a").draft], expected_version=0)
    store.append([confirm("summit-a").draft], expected_version=1)
    head = store.head()
    with pytest.raises(ConcurrencyError) as caught:
        store.append([note(summit_id="summit-a").draft], expected_version=1)
    assert (caught.value.what, caught.value.expected, caught.value.actual) == ("summit-a", 1, 2)
    assert store.head() == head
    with pytest.raises(ConcurrencyError) as caught:
        store.append([announce("summit-new").draft], expected_version=3)
    assert (caught.value.expected, caught.value.actual) == (3, 0)
    assert store.head() == head


def test_a_resent_event_id_is_taken_even_with_the_same_content(store: EventStore) -> None:
    """The store does not replay: an event_id it holds is EventIdTaken whatever it carries, and
    that is reported before a stale expected_version (the service then compares contents)."""
    event = announce("summit-a", event_id="11111111-1111-4111-8111-111111111111")
    first = store.append([event.draft], expected_version=0)
    store.append([confirm("summit-a").draft])
    with pytest.raises(EventIdTaken) as caught:
        store.append([event.draft], expected_version=0)
    assert caught.value.event_id == event.draft.event_id
    with pytest.raises(EventIdTaken):
        store.append([event.draft])
    assert _positions(store) == [1, 2]
    assert store.find(event.draft.event_id) == first[0]


def test_an_event_id_reused_with_other_content_is_taken(store: EventStore) -> None:
    """The same event_id carrying something else, or for another summit, writes nothing."""
    store.append([announce("summit-a", event_id="e-1").draft])
    head = store.head()
    with pytest.raises(EventIdTaken):
        store.append([note(summit_id="summit-a", event_id="e-1").draft])
    with pytest.raises(EventIdTaken):
        store.append([announce("summit-b", event_id="e-1").draft])
    with pytest.raises(EventIdTaken):  # later in a batch: the whole batch is refused
        store.append([note(summit_id="summit-a").draft, confirm("summit-a", event_id="e-1").draft])
    assert store.head() == head


def test_one_event_id_twice_in_a_batch_is_refused(store: EventStore) -> None:
    """Two drafts of one append sharing an event_id: nothing is written (an id is one record)."""
    sid = "summit-a"
    with pytest.raises(LogError):
        store.append(
            [announce(sid, event_id="twice").draft, note(summit_id=sid, event_id="twice").draft]
        )
    assert store.head() is None
    assert store.find("twice") is None


def test_a_stream_starts_with_its_one_announcement(store: EventStore) -> None:
    """The first event of a summit must be SummitAnnounced, and there is only one."""
    with pytest.raises(LogError, match="announce it first"):
        store.append([note(summit_id="summit-a").draft])
    store.append([announce("summit-a").draft])
    with pytest.raises(LogError, match="already announced"):
        store.append([announce("summit-a").draft])
    with pytest.raises(LogError, match="already announced"):
        store.append([announce("summit-b").draft, announce("summit-b").draft])
    assert _positions(store) == [1]
    assert read_stream(store, "summit-b") == []


def test_recorded_at_never_goes_backwards_even_if_the_clock_does(
    store: EventStore, clock: FixedClock
) -> None:
    """A clock set back in time does not make the log's recorded_at decrease."""
    first = store.append([announce("summit-a").draft])[0]
    clock.set(first.instant - timedelta(hours=5))
    second = store.append([confirm("summit-a").draft])[0]
    assert second.recorded_at == first.recorded_at
    clock.set(first.instant + timedelta(seconds=30, microseconds=5))
    third = store.append([note(summit_id="summit-a").draft])[0]
    assert third.instant == first.instant + timedelta(seconds=30, microseconds=5)
    assert third.recorded_at.endswith(".000005Z")
    assert store.verify().ok


def test_every_record_of_one_append_has_the_same_recorded_at(
    store: EventStore, clock: FixedClock
) -> None:
    """One append reads the clock once: its records share one stamp (the clock ticks per read)."""
    sid = "summit-a"
    records = store.append([announce(sid).draft, confirm(sid).draft, note(summit_id=sid).draft])
    assert len({r.recorded_at for r in records}) == 1


def test_read_pages_after_a_position(store: EventStore) -> None:
    """read(after, limit) pages through the log in order; until is inclusive."""
    _fill(store)
    assert _positions(store, after=0, limit=4) == [1, 2, 3, 4]
    assert _positions(store, after=4, limit=4) == [5, 6]
    assert _positions(store, after=6, limit=4) == []
    assert _positions(store, after=2, limit=1) == [3]
    assert _positions(store, limit=0) == []
    assert _positions(store, after=-5) == [1, 2, 3, 4, 5, 6]
    assert _positions(store, until=4) == [1, 2, 3, 4]
    assert _positions(store, after=2, until=4) == [3, 4]
    assert _positions(store, until=0) == []
    assert _positions(store, until=99) == [1, 2, 3, 4, 5, 6]


def test_read_of_one_summit_honours_after_until_and_limit(store: EventStore) -> None:
    """summit_id narrows the read; the bounds are still log positions, the limit counts its own."""
    _fill(store)
    assert _positions(store, summit_id="summit-a") == [1, 3, 6]
    assert _positions(store, summit_id="summit-a", after=1) == [3, 6]
    assert _positions(store, summit_id="summit-a", until=5) == [1, 3]
    assert _positions(store, summit_id="summit-a", limit=2) == [1, 3]
    assert _positions(store, summit_id="summit-b", after=2, limit=5) == [5]
    assert _positions(store, summit_id="summit-z") == []


def test_read_newest_first_is_the_same_records_in_reverse(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """newest_first gives exactly what the same read gives, last first (paging in pages of
    two rows, so that every page boundary is crossed)."""
    monkeypatch.setattr(sql, "BATCH", 2)
    _fill(store)
    assert _positions(store, newest_first=True, limit=4) == [6, 5, 4, 3]
    assert _positions(store, summit_id="summit-a", newest_first=True, limit=2) == [6, 3]
    for summit_id in (None, "summit-a", "summit-b"):
        for after, until in itertools.product(range(-1, 7), (None, *range(7))):
            bounds = {"summit_id": summit_id, "after": after, "until": until}
            forward = _positions(store, **bounds)
            assert _positions(store, **bounds, newest_first=True) == forward[::-1]
            for limit in range(4):
                backward = _positions(store, **bounds, newest_first=True, limit=limit)
                assert backward == forward[::-1][:limit]


def test_head_and_find(store: EventStore) -> None:
    """The lookups agree with the log."""
    assert store.head() is None
    assert store.find("no-such-event") is None
    _fill(store)
    last = list(store.read())[-1]
    head = store.head()
    assert head is not None
    assert (head.position, head.hash, head.recorded_at) == (6, last.hash, last.recorded_at)
    assert store.find(last.event_id) == last
    assert store.find("no-such-event") is None
    assert last.event().type == "SummitNoted"


def test_import_appends_everything_and_counts(store: EventStore) -> None:
    """import_events takes many summits in one go and reports how many it added."""
    drafts = [announce("summit-a").draft, announce("summit-b").draft, confirm("summit-a").draft]
    assert store.import_events(iter(drafts), expected_head=0) == 3
    assert [(r.summit_id, r.version) for r in store.read()] == [
        ("summit-a", 1),
        ("summit-b", 1),
        ("summit-a", 2),
    ]
    assert [r.event_id for r in store.read()] == [d.event_id for d in drafts]
    assert store.import_events([], expected_head=3) == 0
    assert store.import_events([note(summit_id="summit-b").draft], expected_head=3) == 1
    assert [r.version for r in read_stream(store, "summit-b")] == [1, 2]
    assert store.verify().ok


def test_import_onto_a_moved_head_is_refused(store: EventStore) -> None:
    """An import checked against one head is refused once another writer moved it."""
    store.append([announce("summit-a").draft])
    head = store.head()
    for expected in (0, 2):
        with pytest.raises(ConcurrencyError) as caught:
            store.import_events([confirm("summit-a").draft], expected_head=expected)
        assert (caught.value.expected, caught.value.actual) == (expected, 1)
    assert store.head() == head


def test_import_of_a_known_event_id_is_refused_whole(store: EventStore) -> None:
    """The store does not skip known ids (the import's checks do): it refuses the import."""
    known = announce("summit-a", event_id="known-1")
    store.append([known.draft])
    head = store.head()
    with pytest.raises(LogError):
        store.import_events([confirm("summit-a").draft, known.draft], expected_head=1)
    with pytest.raises(LogError):  # the same id twice within the import
        store.import_events(
            [
                note(summit_id="summit-a", event_id="n").draft,
                note("x", "summit-a", event_id="n").draft,
            ],
            expected_head=1,
        )
    assert store.head() == head


def test_import_is_all_or_nothing(store: EventStore) -> None:
    """One bad item anywhere and nothing of the import is in the log."""
    store.append([announce("summit-a").draft])
    head = store.head()
    bad = [announce("summit-b").draft, confirm("summit-b").draft, announce("summit-a").draft]
    with pytest.raises(LogError, match="already announced"):
        store.import_events(iter(bad), expected_head=1)
    assert store.head() == head
    assert read_stream(store, "summit-b") == []
    assert store.import_events(bad[:2], expected_head=1) == 2
    assert [r.version for r in read_stream(store, "summit-b")] == [1, 2]


def test_import_rolls_back_when_its_input_fails(store: EventStore) -> None:
    """An exception raised by the input iterator itself also leaves the log untouched."""

    def drafts() -> Iterator[Draft]:
        yield announce("summit-a").draft
        yield confirm("summit-a").draft
        raise RuntimeError("the input broke")

    with pytest.raises(RuntimeError, match="the input broke"):
        store.import_events(drafts(), expected_head=0)
    assert store.head() is None
    assert store.find(announce("summit-a").draft.event_id) is None
    store.append([announce("summit-a").draft])
    assert _positions(store) == [1]
    assert [r.version for r in read_stream(store, "summit-a")] == [1]


def test_import_keeps_a_given_recorded_at_within_bounds(
    store: EventStore, clock: FixedClock
) -> None:
    """An imported recorded_at is kept; one in the future or before the head is refused."""
    clock.advance(timedelta(days=10))
    given = "2025-06-02T12:00:00.250000Z"
    store.import_events([announce("summit-a", recorded_at=given).draft], expected_head=0)
    stored = next(store.read())
    assert stored.recorded_at == given
    early = note(summit_id="summit-a", recorded_at="2025-06-02T11:59:59Z")
    with pytest.raises(LogError, match="before the log's last event"):
        store.import_events([early.draft], expected_head=1)
    future = format_stamp(clock.now + timedelta(days=1))
    with pytest.raises(LogError, match="in the future"):
        store.import_events([note(summit_id="summit-a", recorded_at=future).draft], expected_head=1)
    assert _positions(store) == [1]
    assert store.verify().ok


def test_claimed_position_version_and_hashes_are_checked(store: EventStore) -> None:
    """What an imported line claims about its place must match what the log gives it."""
    store.append([announce("summit-a").draft])
    head = store.head()
    assert head is not None
    for claim in (
        Claimed(position=5),
        Claimed(version=3),
        Claimed(prev_hash="f" * 64),
        Claimed(hash="0" * 64),
    ):
        draft = Draft("summit-a", "SummitConfirmed", {}, claimed=claim)
        with pytest.raises(LogError, match="does not match the log"):
            store.import_events([draft], expected_head=1)
    assert store.head() == head
    fine = Draft(
        "summit-a",
        "SummitConfirmed",
        {},
        event_id="fine-1",
        claimed=Claimed(position=2, version=2, prev_hash=head.hash),
    )
    assert store.import_events([fine], expected_head=1) == 1
    record = store.find("fine-1")
    assert record is not None
    exact = Draft(
        "summit-a",
        "SummitNoted",
        {"note": "x"},
        event_id="exact-1",
        recorded_at=record.recorded_at,
        claimed=Claimed(position=3, version=3, prev_hash=record.hash),
    )
    assert store.import_events([exact], expected_head=2) == 1


def test_verify_accepts_an_intact_log(store: EventStore) -> None:
    """verify walks the chain; an empty log is intact with no head."""
    empty = store.verify()
    assert (empty.ok, empty.checked, empty.head) == (True, 0, None)
    assert empty.fields() == {"ok": True, "checked": 0, "head": None}
    _fill(store)
    report = store.verify()
    head = store.head()
    assert head is not None
    assert (report.ok, report.checked, report.head) == (True, 6, head)
    assert report.fields() == {
        "ok": True,
        "checked": 6,
        "head": {"position": 6, "hash": head.hash},
    }


def test_records_read_back_equal_records_appended(store: EventStore) -> None:
    """What append returns is what reads return, with non-ASCII text intact."""
    sid = "summit-a"
    written = store.append([announce(sid, title="서울 정상회담 \u2013 Séoul").draft])
    written += store.append(
        [note("Ça a été reporté\n\tdeux lignes 😀", sid, recorded_by="desk").draft]
    )
    assert list(store.read()) == written
    assert [store.find(r.event_id) for r in written] == written
    assert written[0].event().title == "서울 정상회담 \u2013 Séoul"  # type: ignore[union-attr]
    assert written[1].recorded_by == "desk"
    assert all(r.computed_hash() == r.hash for r in written)


def test_the_token_store_beside_the_log(store: EventStore) -> None:
    """Tokens are found by hash, listed by name, revoked at once; a name is used once."""
    tokens = tokens_of(store)
    desk = Token("desk", "a" * 64, True, "2025-06-01T00:00:00Z")
    reader = Token("reader", "b" * 64, False, "2025-06-01T00:00:01Z")
    tokens.add(reader)
    tokens.add(desk)
    assert tokens.find("a" * 64) == desk
    assert tokens.find("b" * 64) == reader
    assert tokens.find("c" * 64) is None
    assert tokens.list() == [desk, reader]
    with pytest.raises(TokenError):
        tokens.add(Token("desk", "c" * 64, True, "2025-06-01T00:00:02Z"))
    with pytest.raises((TokenError, LogError)):  # a hash is stored once
        tokens.add(Token("again", "a" * 64, False, "2025-06-01T00:00:02Z"))
    assert tokens.find("a" * 64) == desk
    assert tokens.revoke("desk") is True
    assert tokens.revoke("desk") is False
    assert tokens.find("a" * 64) is None
    assert tokens.list() == [reader]
    assert store.head() is None  # tokens are not events
