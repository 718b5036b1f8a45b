"""The calendar: every summit after a prefix of the log, kept current by applying records."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from calendar_core.meaning import evolve
from calendar_core.summit import OrderKey, Summit, order_key
from events.record import Recorded


def fold(records: Iterable[Recorded]) -> Summit | None:
    """One summit's state after its stream (None for an empty stream)."""
    summit: Summit | None = None
    for record in records:
        summit = apply(summit, record)
    return summit


def apply(summit: Summit | None, record: Recorded) -> Summit:
    """A summit after one more of its records."""
    return evolve(
        summit,
        record.event(),
        summit_id=record.summit_id,
        version=record.version,
        recorded_at=record.recorded_at,
    )


Streams = Callable[[str, int], Iterable[Recorded]]  # (summit_id, until) -> its records

# How many of its latest records a calendar remembers the summits of (`changed_since`).
RECENT = 4096


class Calendar:
    """Summits (retracted ones included) as of a log position, kept in list order as they
    change, so that listing them after one change costs that change, not a sort of all; with
    the positions where each summit's stream began and last moved, so that the calendar of an
    earlier position can be found by folding again only the summits that moved since."""

    def __init__(self) -> None:
        self.position = 0
        self.last_recorded_at: str | None = None
        self.summits: dict[str, Summit] = {}
        self.first_at: dict[str, int] = {}  # position of each summit's first record
        self.last_at: dict[str, int] = {}  # position of each summit's latest record
        self._order: list[tuple[OrderKey, str]] = []  # sorted, as of the last `ordered`
        self._keys: dict[str, OrderKey] = {}
        self._moved: set[str] = set()  # summits changed since
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT)  # (position, summit_id)

    def put(self, summit: Summit, first_at: int, last_at: int) -> None:
        """Hold a summit's new state and the positions of its first and latest records (its
        place in the order is found when next listed)."""
        summit_id = summit.summit_id
        self.summits[summit_id] = summit
        self.first_at[summit_id], self.last_at[summit_id] = first_at, last_at
        self._moved.add(summit_id)

    def ordered(self) -> Iterator[Summit]:
        """Every summit by start, then summit_id: after a few changes, only those are placed
        again; after many (a replay), all are sorted once."""
        if len(self._moved) > len(self._order) // 8:
            self._keys = {sid: order_key(summit) for sid, summit in self.summits.items()}
            self._order = sorted((key, sid) for sid, key in self._keys.items())
        else:
            for summit_id in self._moved:
                self._place(summit_id, order_key(self.summits[summit_id]))
        self._moved.clear()
        summits = self.summits
        return (summits[summit_id] for _, summit_id in self._order)

    def key_of(self, summit_id: str) -> OrderKey:
        """A summit's place in the list order (as of the last `ordered`)."""
        return self._keys[summit_id]

    def list_order(self) -> list[tuple[OrderKey, str]]:
        """The list order as (key, summit_id) pairs, settled first: what a snapshot keeps."""
        self.ordered()
        return list(self._order)

    def settle(self, order: list[tuple[OrderKey, str]]) -> None:
        """Take a list order kept (by `list_order`) for these very summits: none is placed
        again."""
        keys = {summit_id: key for key, summit_id in order}
        if keys.keys() != self.summits.keys() or len(keys) != len(order):
            raise ValueError("the list order is not of this calendar's summits")
        self._order, self._keys = order, keys
        self._moved.clear()

    def _place(self, summit_id: str, key: OrderKey) -> None:
        old = self._keys.get(summit_id)
        if old != key:
            if old is not None:
                del self._order[bisect.bisect_left(self._order, (old, summit_id))]
            bisect.insort(self._order, (key, summit_id))
            self._keys[summit_id] = key

    def apply(self, records: Iterable[Recorded]) -> set[str]:
        """Apply the records after `position`, in order; the ids of the summits they changed."""
        changed = set()
        for record in records:
            if record.position <= self.position:
                continue
            if record.position != self.position + 1:
                raise ValueError(f"log gap: record {record.position} follows {self.position}")
            summit_id = record.summit_id
            first_at = self.first_at.get(summit_id, record.position)
            self.put(apply(self.summits.get(summit_id), record), first_at, record.position)
            self.position, self.last_recorded_at = record.position, record.recorded_at
            self._recent.append((record.position, summit_id))
            changed.add(summit_id)
        return changed

    def changed_since(self, position: int) -> set[str] | None:
        """The summits the records applied here after an earlier position changed; None when
        this calendar does not remember them all (too many, or not applied here)."""
        if position == self.position:
            return set()
        recent = self._recent
        if not 0 <= position < self.position or not recent or recent[0][0] > position + 1:
            return None
        changed = set()
        for at, summit_id in reversed(recent):
            if at <= position:
                break
            changed.add(summit_id)
        return changed

    def moved_since(self, position: int) -> list[str]:
        """The summits with records after an earlier position that had records by then."""
        last_at, first_at = self.last_at, self.first_at
        return [s for s, last in last_at.items() if last > position >= first_at[s]]

    def rewound(self, position: int, last_recorded_at: str | None, streams: Streams) -> Calendar:
        """The calendar as of an earlier position (whose record was stamped
        `last_recorded_at`): summits that have not moved since are shared, those announced
        since are left out, and those that moved since are folded again from their streams
        up to that position."""
        if position > self.position:
            raise ValueError(f"position {position} is past this calendar's ({self.position})")
        self.ordered()  # the summits shared keep their place in this calendar's order
        past = Calendar()
        past.position, past.last_recorded_at = position, last_recorded_at
        shared = [s for s, last in self.last_at.items() if last <= position]
        past.summits = {s: self.summits[s] for s in shared}
        past.first_at = {s: self.first_at[s] for s in shared}
        past.last_at = {s: self.last_at[s] for s in shared}
        past._order = [(key, s) for key, s in self._order if s in past.summits]
        past._keys = {s: key for key, s in past._order}
        for summit_id in self.moved_since(position):
            records = list(streams(summit_id, position))
            then = fold(records)
            if then is not None:
                past.put(then, records[0].position, records[-1].position)
        return past

    def copy(self) -> Calendar:
        """An independent calendar at the same position (summits are immutable and shared)."""
        twin = Calendar()
        twin.position, twin.last_recorded_at = self.position, self.last_recorded_at
        twin.summits, twin._keys = dict(self.summits), dict(self._keys)
        twin.first_at, twin.last_at = dict(self.first_at), dict(self.last_at)
        twin._order, twin._moved = list(self._order), set(self._moved)
        return twin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return self._state() == other._state()

    def _state(self) -> tuple[object, ...]:
        return (self.position, self.last_recorded_at, self.summits, self.first_at, self.last_at)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Calendar at position {self.position}: {len(self.summits)} summits>"


def build(records: Iterable[Recorded]) -> Calendar:
    """The calendar after these records (a prefix of the log, from position 1)."""
    calendar = Calendar()
    calendar.apply(records)
    return calendar
