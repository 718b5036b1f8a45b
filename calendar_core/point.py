"""Which state of the log a view shows: the live head, a position, or an instant (as-of)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.store import EventStore


class BeyondHead(ValueError):
    """A position the log has not reached yet."""


@dataclass(frozen=True)
class Point:
    """The live head (neither set), events 1..at_position, or every event recorded by as_of."""

    at_position: int | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if self.at_position is not None and self.as_of is not None:
            raise ValueError("give as_of or at_position, not both")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")

    @property
    def live(self) -> bool:
        """True when neither as_of nor at_position was asked for."""
        return self.at_position is None and self.as_of is None


def position_of(log: EventStore, point: Point, head: int) -> int:
    """The log position a point names, given the head: the one place as-of is decided.

    "As of T" is every event recorded at or before T: the last position whose hashed
    `recorded_at` is at or before T. recorded_at never goes backwards along the chain (sealing
    refuses it and `verify` checks it), so a binary search over positions finds it.
    """
    if point.at_position is not None:
        if point.at_position > head:
            raise BeyondHead(f"the log's head is at position {head}")
        return point.at_position
    if point.as_of is None:
        return head
    low, high = 0, head  # the answer lies in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        record = next(log.read(after=middle - 1, limit=1))
        if record.instant <= point.as_of:
            low = middle
        else:
            high = middle - 1
    return low
