"""The calendar: every summit after a prefix of the log, kept current by applying records."""

from __future__ import annotations

from collections.abc import Iterable

from calendar_core.summit import Record, State, Summit, freeze, step, thaw
from events.bulk import collector_paused


class Calendar:
    """Summits (retracted ones included) as of a log position."""

    def __init__(self) -> None:
        self.position = 0
        self.last_recorded_at: str | None = None
        self.summits: dict[str, Summit] = {}

    def apply(self, records: Iterable[Record]) -> set[str]:
        """Apply the records after `position`, in order; the ids of the summits they changed."""
        summits = self.summits
        position = self.position
        last = self.last_recorded_at
        working: dict[str, State] = {}  # summits changed by this call, folded in place
        folding, fold_one = working.get, step
        try:
            for record in records:
                at = record.position
                if at <= position:
                    continue
                if at != position + 1:
                    raise ValueError(f"log gap: record {at} follows position {position}")
                summit_id = record.summit_id
                state = folding(summit_id)
                if state is None:
                    summit = summits.get(summit_id)
                    state = None if summit is None else thaw(summit)
                working[summit_id] = fold_one(state, record)
                position = at
                last = record.recorded_at
        finally:
            for summit_id, state in working.items():
                summits[summit_id] = freeze(state)
            self.position, self.last_recorded_at = position, last
        return set(working)

    def copy(self) -> Calendar:
        """An independent calendar at the same position (summits are immutable and shared)."""
        twin = Calendar()
        twin.position, twin.last_recorded_at = self.position, self.last_recorded_at
        twin.summits = dict(self.summits)
        return twin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return (self.position, self.last_recorded_at, self.summits) == (
            other.position,
            other.last_recorded_at,
            other.summits,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Calendar at position {self.position}: {len(self.summits)} summits>"


def build(records: Iterable[Record]) -> Calendar:
    """The calendar after these records (a prefix of the log, from position 1)."""
    calendar = Calendar()
    with collector_paused():
        calendar.apply(records)
    return calendar
