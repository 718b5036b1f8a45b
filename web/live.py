"""The calendar each process keeps live, caught up from the log on each request; as-of views."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from calendar_core.point import Point, position_of
from calendar_core.projection import Calendar, build
from calendar_core.summit import Summit
from events import EventStore


@dataclass(frozen=True)
class View:
    """The calendar as the log knew it at `position` (events 1..position)."""

    calendar: Calendar
    position: int
    last_recorded_at: str | None


class LiveCalendar:
    """A projection that follows the log, reading only records after its position."""

    def __init__(self, store: EventStore, *, cache_size: int = 8) -> None:
        self.store = store
        self.lock = threading.RLock()  # held while a view of the live calendar is read
        self._calendar = Calendar()
        self._views: OrderedDict[int, Calendar] = OrderedDict()
        self._cache_size = cache_size

    def head_position(self) -> int:
        """The log's head position (one cheap query)."""
        head = self.store.head()
        return 0 if head is None else head.position

    def current(self) -> View:
        """Catch up with the log and return the live view (call with `lock` held)."""
        calendar = self._calendar
        target = self.head_position()
        if target > calendar.position:
            calendar.apply(self.store.read(after=calendar.position, until=target))
        return View(calendar, calendar.position, calendar.last_recorded_at)

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
            calendar = build(self.store.read(until=position))
            self._views[position] = calendar
            while len(self._views) > self._cache_size:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(position)
        return View(calendar, position, calendar.last_recorded_at)
