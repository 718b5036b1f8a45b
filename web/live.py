"""The calendar each process keeps live, caught up from the log on each request; as-of views."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from calendar_core.projection import Calendar, build
from events import EventStore, parse_stamp


@dataclass(frozen=True)
class View:
    """The calendar as the log knew it at `position` (events 1..position)."""

    calendar: Calendar
    position: int
    last_recorded_at: str | None


class BeyondHead(ValueError):
    """A position the log has not reached yet."""


class LiveCalendar:
    """A projection that follows the log, reading only records after its position."""

    def __init__(self, store: EventStore, *, cache_size: int = 8) -> None:
        self.store = store
        self.lock = threading.RLock()  # held while a view of the live calendar is read
        self._calendar = build([])
        self._instants: list[datetime] = []  # recorded_at of positions 1..n
        self._stamps: list[str] = []
        self._views: OrderedDict[int, Calendar] = OrderedDict()
        self._cache_size = cache_size

    def head_position(self) -> int:
        """The log's head position (one cheap query)."""
        head = self.store.head()
        return 0 if head is None else head.position

    def current(self) -> View:
        """Catch up with the log and return the live view (call with `lock` held)."""
        target = self.head_position()
        calendar = self._calendar
        if target > calendar.position:
            entries = list(self.store.iter_entries(after=calendar.position, until_position=target))
            calendar.apply(entries)
            self._stamps.extend(entry.recorded_at for entry in entries)
            self._instants.extend(parse_stamp(entry.recorded_at) for entry in entries)
        return View(calendar, calendar.position, self.recorded_at(calendar.position))

    def recorded_at(self, position: int) -> str | None:
        """recorded_at of the record at a position already read (None for 0)."""
        return self._stamps[position - 1] if position > 0 else None

    def position_as_of(self, instant: datetime) -> int:
        """The last position recorded at or before an instant (call after `current`)."""
        return bisect.bisect_right(self._instants, instant)

    def at(self, position: int) -> View:
        """The calendar at a position (events 1..position); an LRU keeps recent ones."""
        live = self.current()
        if position > live.position:
            raise BeyondHead(f"the log's head is at position {live.position}")
        if position == live.position:
            return live
        calendar = self._views.get(position)
        if calendar is None:
            calendar = build(self.store.iter_entries(until_position=position))
            self._views[position] = calendar
            while len(self._views) > self._cache_size:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(position)
        return View(calendar, position, self.recorded_at(position))

    def as_of(self, instant: datetime) -> View:
        """The calendar with every event recorded at or before an instant."""
        self.current()
        return self.at(self.position_as_of(instant))
