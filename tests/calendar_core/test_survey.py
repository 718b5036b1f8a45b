"""An import's first pass (Survey): where each summit's lines end and which event_ids may repeat;
and ImportCheck following it, holding a summit only while it has lines to come."""

from __future__ import annotations

import random

import pytest
from factories import announce, confirm, note, read_stream

from calendar_core.projection import fold
from calendar_core.service import ImportCheck
from calendar_core.survey import MIN_BITS, Sightings, Survey
from events import EventStore, ImportRejected, NewEvent


def surveyed(events: list[NewEvent], bits: int = MIN_BITS) -> Survey:
    """The survey of these events as the lines 1, 2, ... of a file."""
    named = [(n, new.draft.summit_id, new.draft.event_id) for n, new in enumerate(events, 1)]
    return Survey.of(named, bits)


def run_import(store: EventStore, events: list[NewEvent], survey: Survey) -> ImportCheck:
    """Import the events with a check that follows the survey; the check, for its counts."""
    check = ImportCheck(store, survey)
    lines = list(enumerate(events, start=1))
    store.import_events(check.drafts(lines), expected_head=check.head)
    return check


def test_an_id_seen_again_always_hits_its_bit() -> None:
    """No repeat is ever missed: whatever else shares bits, a second sighting finds its bit set."""
    seen = Sightings(1)  # the smallest bitmap: many ids share bits
    ids = [f"id-{n}" for n in range(20_000)]
    for event_id in ids:
        seen.add(event_id)
    assert all(event_id in seen for event_id in ids)
    assert all(seen.add(event_id) for event_id in ids)
    assert "id-0" not in Sightings(1) and not Sightings(1).add("id-0")  # empty: nothing seen


def test_the_survey_names_each_summits_last_line_and_every_repeated_id() -> None:
    rng = random.Random(7)
    ids = [f"e-{n}" for n in range(5_000)]
    named: list[tuple[int, str, str | None]] = []
    for line in range(1, 20_001):
        event_id = rng.choice(ids) if line % 3 else None  # a third of lines give no event_id
        named.append((line, f"summit-{rng.randrange(300)}", event_id))
    survey = Survey.of(named, bits=1)
    last: dict[str, int] = {}
    for line, summit_id, _ in named:
        last[summit_id] = line
    assert survey.last_lines == last
    counts: dict[str, int] = {}
    for _, _, event_id in named:
        if event_id is not None:
            counts[event_id] = counts.get(event_id, 0) + 1
    assert {event_id for event_id, count in counts.items() if count > 1} <= survey.repeats
    assert survey.last_line("summit-none") == 0


def test_a_roomy_bitmap_keeps_few_ids_that_do_not_repeat() -> None:
    named = [(n, "summit-a", f"event-{n}") for n in range(1, 10_001)]
    assert len(Survey.of(named, bits=60 * 10_000).repeats) < 10_000 // 20


def interleaved(summits: int, open_at_once: int, seed: int = 3) -> list[NewEvent]:
    """Several events per summit, at most `open_at_once` summits between first and last line."""
    rng = random.Random(seed)
    events: list[NewEvent] = []
    open_now: list[tuple[str, int]] = []  # (summit_id, events left)
    made = 0
    while made < summits or open_now:
        if made < summits and len(open_now) < open_at_once:
            made += 1
            summit_id = f"summit-{made:04d}"
            events.append(announce(summit_id))
            open_now.append((summit_id, rng.randint(1, 5)))
            continue
        pick = rng.randrange(len(open_now))
        summit_id, left = open_now[pick]
        events.append(note(f"note {left}", summit_id))
        if left == 1:
            open_now.pop(pick)
        else:
            open_now[pick] = (summit_id, left - 1)
    return events


def test_the_check_holds_a_summit_only_until_its_last_line(store: EventStore) -> None:
    events = interleaved(summits=120, open_at_once=10)
    survey = surveyed(events)
    check = ImportCheck(store, survey)
    held = []
    for line, new in enumerate(events, start=1):
        assert check.check(line, new) is not None
        held.append(check.open_summits)
    assert max(held) <= 10
    assert check.open_summits == 0


def test_an_import_with_a_survey_folds_to_the_same_summits_as_one_without(
    store: EventStore,
) -> None:
    events = interleaved(summits=40, open_at_once=6)
    run_import(store, events, surveyed(events))
    assert store.head().position == len(events)  # type: ignore[union-attr]
    for summit_id in {new.draft.summit_id for new in events}:
        summit = fold(read_stream(store, summit_id))
        count = sum(new.draft.summit_id == summit_id for new in events)
        assert summit is not None and summit.version == count


def test_a_repeat_inside_the_file_is_skipped_and_counted(store: EventStore) -> None:
    """Taken once, also when the summit's last line is the repeat; the rules would refuse a
    second confirmation, so the repeat is seen before they are asked."""
    first = confirm("summit-a", event_id="confirm-a")
    events = [announce("summit-a"), note("n", "summit-a"), first, first]
    check = run_import(store, events, surveyed(events))
    assert (check.skipped, check.open_summits) == (1, 0)
    summit = fold(read_stream(store, "summit-a"))
    assert summit is not None and (summit.version, summit.status) == (3, "confirmed")


def test_a_conflicting_repeat_is_refused_with_its_line_and_nothing_appended(
    store: EventStore,
) -> None:
    events = [
        announce("summit-a"),
        note("first", "summit-a", event_id="twice"),
        announce("summit-b"),
        note("other", "summit-b", event_id="twice"),
    ]
    with pytest.raises(ImportRejected) as caught:
        run_import(store, events, surveyed(events))
    assert caught.value.line == 4
    assert "event_id twice is already used by another event" in caught.value.message
    assert store.head() is None


def test_ids_kept_as_maybe_repeats_that_do_not_repeat_change_nothing(store: EventStore) -> None:
    events = [announce("summit-a", event_id="a-1"), note("n", "summit-a", event_id="a-2")]
    first = surveyed(events)
    survey = Survey(first.last_lines, frozenset({"a-1", "a-2", "elsewhere"}), first.given)
    check = run_import(store, events, survey)
    assert check.skipped == 0 and store.head().position == 2  # type: ignore[union-attr]


def test_a_summit_met_after_its_surveyed_last_line_is_refused(store: EventStore) -> None:
    """The file changed between the two passes: refused, not checked against a dropped state."""
    surveyed_lines = [announce("summit-a"), note("n", "summit-a")]
    read_lines = [*surveyed_lines, note("added later", "summit-a")]
    with pytest.raises(ImportRejected) as caught:
        run_import(store, read_lines, surveyed(surveyed_lines))
    assert caught.value.line == 3 and "file changed" in caught.value.message
    assert store.head() is None


def test_into_a_log_with_events_the_ids_the_file_gives_are_looked_up(store: EventStore) -> None:
    """An id the file gives that the log holds: skipped with the same content, refused with
    other content; lines that give no id are never taken for logged events."""
    store.import_events([announce("summit-a").draft], expected_head=0)
    store.import_events([confirm("summit-a", event_id="logged").draft], expected_head=1)
    again = [confirm("summit-a", event_id="logged"), note("new", "summit-a")]
    check = run_import(store, again, surveyed(again))
    assert check.skipped == 1 and store.head().position == 3  # type: ignore[union-attr]
    reused = [note("new again", "summit-a"), note("other", "summit-a", event_id="logged")]
    with pytest.raises(ImportRejected) as caught:
        run_import(store, reused, surveyed(reused))
    assert caught.value.line == 2 and "already used by another event" in caught.value.message
    assert store.head().position == 3  # type: ignore[union-attr]
