"""A feed's listing: the VEVENT chunks of the summits a query picks, in list order, kept
current as the calendar it follows moves, so that the feed after one change costs that change
(and a join of the bytes), not a select, lookup and scan of every summit. A listing is dumped
to bytes to be kept beside the log, and a restarted worker loads it and catches it up from
the log, without a calendar, to serve its first feed."""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import TypeVar

import orjson

from calendar_core.ical import Chunk, Coverage
from calendar_core.projection import Calendar, Streams, fold
from calendar_core.query import Query
from calendar_core.summit import OrderKey, Summit, order_key
from events.record import Recorded

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
        self._versions: list[int] = []  # the summit version each chunk renders
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
            picked = [summit for summit in calendar.ordered() if self.query.matches(summit)]
            for summit, chunk in zip(picked, render(picked), strict=True):
                if chunk is not None:  # in list order: each is placed at the end
                    summit_id = summit.summit_id
                    self._insert(calendar.key_of(summit_id), summit_id, chunk, summit.version)
        else:
            self.place([calendar.summits[summit_id] for summit_id in changed], render)
        self._calendar, self.position = calendar, calendar.position

    def place(self, summits: Sequence[Summit], render: Render, position: int | None = None) -> None:
        """Place these summits again, as they are now (rendering those the query picks), and
        take `position` as the one the listing is at (a restarted worker's catch-up)."""
        for summit in summits:
            self._remove(summit.summit_id)
        picked = [summit for summit in summits if self.query.matches(summit)]
        for summit, chunk in zip(picked, render(picked), strict=True):
            if chunk is not None:
                self._insert(order_key(summit), summit.summit_id, chunk, summit.version)
        if position is not None:
            self._calendar, self.position = None, position

    def catch_up(self, records: Iterable[Recorded], streams: Streams, render: Render) -> None:
        """Catch up with the log without a calendar (a restarted worker's kept listing): each
        summit the records after this listing's position changed is folded again from its own
        stream and placed again."""
        changed: dict[str, None] = {}
        position = self.position
        for record in records:
            if record.position != position + 1:
                raise ValueError(f"log gap: record {record.position} follows {position}")
            changed[record.summit_id] = None
            position = record.position
        summits = [fold(streams(summit_id, position)) for summit_id in changed]
        self.place([summit for summit in summits if summit is not None], render, position)

    def dumper(self) -> Callable[[], bytes]:
        """What `dump` gives now, to be made later (in the background: the listing may move
        on meanwhile)."""
        entries, chunks, versions = list(self._entries), list(self._chunks), list(self._versions)
        return partial(_dump, self.position, entries, chunks, versions)

    def dump(self) -> bytes:
        """The listing as bytes to keep: a JSON line (its position and each entry's key and
        chunk but the body), then the bodies one after another."""
        return self.dumper()()

    @classmethod
    def load(cls, query: Query, kept: bytes) -> Listing:
        """The listing `dump` gave these bytes for, of this query."""
        end = kept.index(b"\n")
        head = orjson.loads(kept[:end])
        listing, at = cls(query), end + 1
        entries, chunks, versions = listing._entries, listing._chunks, listing._versions
        for start, summit_id, version, zone, first_year, last_year, size in head["entries"]:
            entries.append(((datetime.fromisoformat(start), summit_id), summit_id))
            chunks.append(Chunk(kept[at : at + size], zone, first_year, last_year))
            versions.append(version)
            at += size
        if at != len(kept) or entries != sorted(entries):
            raise ValueError("a kept listing whose bodies do not add up, or out of order")
        listing._keys = {summit_id: key for key, summit_id in entries}
        listing._zones.update(chunk.zone for chunk in chunks if chunk.zone is not None)
        listing._first_years.update(chunk.first_year for chunk in chunks)
        listing._last_years.update(chunk.last_year for chunk in chunks)
        listing.position = head["position"]
        return listing

    def versioned(self) -> Iterator[tuple[str, int, Chunk]]:
        """Each entry's summit id, the version of the summit its chunk renders, and the chunk."""
        summit_ids = (summit_id for _, summit_id in self._entries)
        return zip(summit_ids, self._versions, self._chunks, strict=True)

    def bind(self, calendar: Calendar) -> None:
        """Follow this calendar from here on, when it remembers what changed since this
        listing's position (a listing caught up from the log, and the calendar restored
        meanwhile); else the next `follow` lists it whole."""
        if calendar.changed_since(self.position) is not None:
            self._calendar = calendar

    def _clear(self) -> None:
        self._entries, self._chunks, self._versions, self._keys = [], [], [], {}
        self._zones, self._first_years, self._last_years = Counter(), Counter(), Counter()

    def _remove(self, summit_id: str) -> None:
        key = self._keys.pop(summit_id, None)
        if key is not None:
            at = bisect.bisect_left(self._entries, (key, summit_id))
            del self._entries[at], self._versions[at]
            chunk = self._chunks.pop(at)
            _count(self._zones, chunk.zone, -1)
            _count(self._first_years, chunk.first_year, -1)
            _count(self._last_years, chunk.last_year, -1)

    def _insert(self, key: OrderKey, summit_id: str, chunk: Chunk, version: int) -> None:
        entry, entries = (key, summit_id), self._entries
        at = len(entries) if not entries or entries[-1] < entry else bisect.bisect(entries, entry)
        entries.insert(at, entry)
        self._chunks.insert(at, chunk)
        self._versions.insert(at, version)
        self._keys[summit_id] = key
        _count(self._zones, chunk.zone, 1)
        _count(self._first_years, chunk.first_year, 1)
        _count(self._last_years, chunk.last_year, 1)


def _dump(
    position: int, entries: list[tuple[OrderKey, str]], chunks: list[Chunk], versions: list[int]
) -> bytes:
    index = []
    for ((start, _), summit_id), chunk, version in zip(entries, chunks, versions, strict=True):
        size = len(chunk.body)
        zone, first, last = chunk.zone, chunk.first_year, chunk.last_year
        index.append([start.isoformat(), summit_id, version, zone, first, last, size])
    head = orjson.dumps({"position": position, "entries": index})
    return b"".join([head, b"\n", *(chunk.body for chunk in chunks)])


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

    def put(self, name: Hashable, listing: Listing) -> None:
        """Keep a listing under a name (replacing the one kept there)."""
        self._kept.pop(name, None)
        self._kept[name] = listing

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
