"""A feed's listing: the VEVENT chunks of the summits a query picks, in list order, kept
current as the calendar it follows moves, so that the feed after one change costs that change
(and a join of the bytes), not a select, lookup and scan of every summit."""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from calendar_core.ical import Chunk, Coverage
from calendar_core.projection import Calendar
from calendar_core.query import Query
from calendar_core.summit import OrderKey, Summit

T = TypeVar("T", str, int)
Render = Callable[[Sequence[Summit]], list[Chunk | None]]  # as FeedRenderer.chunks


class Listing:
    """One query's chunks over one calendar, in its list order, with their coverage."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self.position = -1  # of the calendar when last followed; -1: never
        self._calendar: Calendar | None = None
        self._entries: list[tuple[OrderKey, str]] = []  # sorted, as the calendar's order
        self._chunks: list[Chunk] = []  # the chunk of each entry
        self._keys: dict[str, OrderKey] = {}  # summit_id -> its entry's key
        self._zones: Counter[str] = Counter()
        self._first_years: Counter[int] = Counter()
        self._last_years: Counter[int] = Counter()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chunks(self) -> list[Chunk]:
        """The chunks in list order (the listing's own list: do not change it)."""
        return self._chunks

    def coverage(self) -> Coverage:
        """The zones and years the chunks need VTIMEZONEs for."""
        first = min(self._first_years, default=0)
        last = max(self._last_years, default=0)
        return Coverage.spanning(self._zones, first, last)

    def follow(self, calendar: Calendar, render: Render) -> None:
        """Catch up with a calendar: place and render again only the summits that changed
        since last followed, or list them all when they are many or unknown."""
        changed = None if calendar is not self._calendar else calendar.changed_since(self.position)
        if changed is None or len(changed) > max(64, len(self._entries) // 8):
            self._clear()
            summits = list(calendar.ordered())  # each is then placed at the end
        else:
            calendar.ordered()  # settles the changed summits' keys
            for summit_id in changed:
                self._remove(summit_id)
            summits = [calendar.summits[summit_id] for summit_id in changed]
        picked = [summit for summit in summits if self.query.matches(summit)]
        for summit, chunk in zip(picked, render(picked), strict=True):
            if chunk is not None:
                self._insert(calendar.key_of(summit.summit_id), summit.summit_id, chunk)
        self._calendar, self.position = calendar, calendar.position

    def _clear(self) -> None:
        self._entries, self._chunks, self._keys = [], [], {}
        self._zones, self._first_years, self._last_years = Counter(), Counter(), Counter()

    def _remove(self, summit_id: str) -> None:
        key = self._keys.pop(summit_id, None)
        if key is not None:
            at = bisect.bisect_left(self._entries, (key, summit_id))
            del self._entries[at]
            chunk = self._chunks.pop(at)
            _count(self._zones, chunk.zone, -1)
            _count(self._first_years, chunk.first_year, -1)
            _count(self._last_years, chunk.last_year, -1)

    def _insert(self, key: OrderKey, summit_id: str, chunk: Chunk) -> None:
        entry, entries = (key, summit_id), self._entries
        at = len(entries) if not entries or entries[-1] < entry else bisect.bisect(entries, entry)
        entries.insert(at, entry)
        self._chunks.insert(at, chunk)
        self._keys[summit_id] = key
        _count(self._zones, chunk.zone, 1)
        _count(self._first_years, chunk.first_year, 1)
        _count(self._last_years, chunk.last_year, 1)


def _count(counter: Counter[T], value: T | None, step: int) -> None:
    """Count a value in or out, forgetting it at zero (so that min, max and iteration see only
    the values present)."""
    if value is not None:
        counter[value] += step
        if not counter[value]:
            del counter[value]


class Listings:
    """The listings of the feeds asked for most recently, bounded by their entries in all
    (the newest is kept whatever its size)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._kept: OrderedDict[Hashable, Listing] = OrderedDict()

    def get(self, name: Hashable, query: Query) -> Listing:
        """The listing kept under a name (a feed's base URL and query), else a new one; it is
        then the most recently used, and the oldest beyond the bound are dropped."""
        listing = self._kept.pop(name, None)
        self._kept[name] = listing = Listing(query) if listing is None else listing
        while len(self._kept) > 1 and sum(map(len, self._kept.values())) > self._max_entries:
            self._kept.popitem(last=False)
        return listing

    def __len__(self) -> int:
        return len(self._kept)
