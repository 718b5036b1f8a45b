"""The calendar each process keeps live, caught up from the log on each request; as-of views."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from calendar_core.point import Point, position_of
from calendar_core.projection import Calendar
from calendar_core.summit import Summit
from events import EventStore, Recorded
from web.snapshots import Keeper


@dataclass(frozen=True)
class View:
    """The calendar as the log knew it at `position` (events 1..position)."""

    calendar: Calendar
    position: int
    last_recorded_at: str | None
    live: bool = False  # the live calendar itself, at the log's head


# What one summit of a cached view is taken to cost in memory (measured: 1.5-3 KiB for the
# summits of bench/scale.py's logs; most are shared with the live calendar, but not all);
# the view cache is bounded by the sum.
SUMMIT_BYTES = 2048
SNAPSHOTS_PER_CATCH_UP = 8
# An as-of view folds again the summits that moved since its position, reading at most their
# versions' worth of records: up to this many (plus one per summit, about what restoring a
# snapshot costs), rather than restoring the nearest snapshot and folding on from it.
REWIND_RECORDS = 20_000


class LiveCalendar:
    """A projection that follows the log, reading only records after its position; as-of
    views by position, in a cache bounded in (estimated) bytes."""

    def __init__(
        self,
        store: EventStore,
        *,
        cache_bytes: int = 64 << 20,
        snapshots: Keeper | None = None,
    ) -> None:
        self.store = store
        self.lock = threading.RLock()  # held while a view of the live calendar is read
        self._snapshots = snapshots
        self._calendar: Calendar | None = None  # until the first request
        self._views: OrderedDict[int, Calendar] = OrderedDict()
        self._cache_bytes = cache_bytes
        # called once with the calendar when it is first restored and caught up (under `lock`)
        self.restored: Callable[[Calendar], None] | None = None

    def head_position(self) -> int:
        """The log's head position (one cheap query)."""
        head = self.store.head()
        return 0 if head is None else head.position

    def current(self) -> View:
        """Catch up with the log and return the live view (call with `lock` held)."""
        target = self.head_position()
        calendar = self._calendar
        starting = calendar is None
        if calendar is None:  # a starting worker folds from the latest snapshot
            calendar = self._calendar = self._from_snapshot(target)
        self._fold(calendar, target)
        if starting and self.restored is not None:
            self.restored(calendar)
        return View(calendar, calendar.position, calendar.last_recorded_at, live=True)

    def _fold(self, calendar: Calendar, target: int) -> None:
        """Apply the records up to a position, taking the snapshots that are due on the way:
        a long catch-up (a first start after an import) leaves at most SNAPSHOTS_PER_CATCH_UP
        behind, for as-of views and the next worker, rather than one per interval."""
        every = 0 if self._snapshots is None else self._snapshots.every
        if every > 0:
            spread = -(-(target - calendar.position) // SNAPSHOTS_PER_CATCH_UP)
            every = max(every, -(-spread // every) * every)  # a multiple of the interval
        while calendar.position < target:
            until = target if every <= 0 else min(target, (calendar.position // every + 1) * every)
            calendar.apply(self.store.read(after=calendar.position, until=until))
            if self._snapshots is not None:
                self._snapshots.maybe_take(calendar)

    def _from_snapshot(self, position: int) -> Calendar:
        """A fresh calendar at the nearest usable snapshot at or before a position."""
        restored = None if self._snapshots is None else self._snapshots.nearest(position)
        return Calendar() if restored is None else restored

    def summit(self, summit_id: str) -> Summit | None:
        """A summit's state at the log's head (retracted ones included)."""
        with self.lock:
            return self.current().calendar.summits.get(summit_id)

    def view(self, point: Point) -> View:
        """The calendar a point names (call with `lock` held); BeyondHead past the head."""
        live = self.current()
        position = position_of(self.store, point, live.position)
        if position == live.position:
            return live
        calendar = self._views.get(position)
        if calendar is None:
            calendar = self._past(live.calendar, position)
            self._keep(position, calendar)
        else:
            self._views.move_to_end(position)
        return View(calendar, position, calendar.last_recorded_at)

    def _past(self, live: Calendar, position: int) -> Calendar:
        """The calendar at an earlier position: the live one rewound, folding again only the
        summits that moved since, when their records are few; else from the nearest snapshot."""
        moved = live.moved_since(position)
        if sum(live.summits[s].version for s in moved) <= REWIND_RECORDS + len(live.summits):
            record = next(self.store.read(after=position - 1, limit=1), None) if position else None
            stamp = None if record is None else record.recorded_at
            return live.rewound(position, stamp, self._stream)
        calendar = self._from_snapshot(position)
        calendar.apply(self.store.read(after=calendar.position, until=position))
        return calendar

    def _stream(self, summit_id: str, until: int) -> Iterator[Recorded]:
        return self.store.read(summit_id=summit_id, until=until)

    def _keep(self, position: int, calendar: Calendar) -> None:
        """Cache a view, evicting the least recently used ones beyond the byte bound."""
        self._views[position] = calendar
        while len(self._views) > 1 and self.cached_bytes() > self._cache_bytes:
            self._views.popitem(last=False)

    def cached_bytes(self) -> int:
        """The estimated memory of the cached views."""
        return sum(len(view.summits) for view in self._views.values()) * SUMMIT_BYTES
