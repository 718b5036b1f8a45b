"""A live feed's listing: which summits changed since a position, and listings kept in a bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factories
import pytest

from calendar_core import projection
from calendar_core.ical import FeedOptions, FeedRenderer
from calendar_core.listing import Listing, Listings
from calendar_core.projection import Calendar, build
from calendar_core.query import Query, select
from calendar_core.service import Submission, record_event
from events import FixedClock
from events.memory import MemoryEventStore

RENDERER = FeedRenderer(FeedOptions("Summits", "test.example", "https://test.example"))


def _log(summits: int) -> MemoryEventStore:
    """A memory log announcing `summits` summits, one day apart, newest first in the list."""
    store = MemoryEventStore(FixedClock(datetime(2025, 1, 1, tzinfo=UTC), tick=timedelta(hours=1)))
    for n in range(summits):
        day = datetime(2026, 1, 1) + timedelta(days=summits - n)
        start = f"{day:%Y-%m-%d}T10:00"
        _record(
            store,
            f"summit-{n}",
            "SummitAnnounced",
            factories.announce_data(schedule={"start": start}),
        )
    return store


def _record(store: MemoryEventStore, summit_id: str, event_type: str, data: dict[str, Any]) -> None:
    outcome = record_event(store, Submission(summit_id, event_type, data))
    assert outcome.refusal is None, outcome.message


def test_changed_since_names_the_summits_of_the_records_applied_after_a_position() -> None:
    store = _log(3)
    calendar = Calendar()
    calendar.apply(store.read(until=1))
    calendar.apply(store.read(after=1))
    _record(store, "summit-0", "SummitNoted", {"note": "Reported again."})
    calendar.apply(store.read(after=3))
    assert calendar.changed_since(4) == set()
    assert calendar.changed_since(3) == {"summit-0"}
    assert calendar.changed_since(1) == {"summit-0", "summit-1", "summit-2"}
    assert calendar.changed_since(0) == {"summit-0", "summit-1", "summit-2"}
    assert calendar.changed_since(5) is None  # past its position
    assert calendar.copy().changed_since(3) is None  # a copy remembers no records


def test_changed_since_forgets_what_is_older_than_its_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(projection, "RECENT", 2)
    calendar = build(_log(4).read())
    assert calendar.changed_since(2) == {"summit-2", "summit-3"}
    assert calendar.changed_since(1) is None  # record 2 is no longer remembered


def test_a_listing_that_follows_another_calendar_lists_it_whole() -> None:
    store = _log(3)
    first, second = build(store.read()), build(store.read(until=2))
    listing = Listing(Query())
    listing.follow(first, RENDERER.chunks)
    listing.follow(second, RENDERER.chunks)  # same position numbers would be no guide
    assert listing.position == 2 and len(listing) == 2
    expected = RENDERER.feed(select(second, Query()), last_modified=None)
    assert RENDERER.assemble(listing.chunks, listing.coverage(), last_modified=None) == expected


def test_listings_keep_the_most_recently_asked_within_their_bound() -> None:
    calendar = build(_log(3).read())
    listings = Listings(max_entries=4)
    for name in ("all", "again"):
        listings.get(name, Query()).follow(calendar, RENDERER.chunks)  # 3 entries each
    assert len(listings) == 2  # over the bound only once the second is filled
    kept = listings.get("again", Query())
    assert len(listings) == 1 and len(kept) == 3  # "all" dropped; "again" kept, not rebuilt
    big = Listings(max_entries=1)
    big.get("all", Query()).follow(calendar, RENDERER.chunks)
    assert len(big.get("all", Query())) == 3  # the newest stays whatever its size
