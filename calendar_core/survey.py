"""What an import's first pass over its file learns: the line where each summit's events end,
the event_ids the file gives, and those that may come on more than one line. With it the second
pass checks the rules holding only the summits still open and the fingerprints of the few ids
that may repeat: memory grows with the file's summits (a line number each), not its events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIN_BITS = 1 << 16


class Sightings:
    """Event ids seen so far, one bit each in a fixed bitmap: a clear bit says an id was never
    seen; a set bit says it probably was (a few other ids share the bit)."""

    def __init__(self, bits: int) -> None:
        self._map = bytearray((max(bits, MIN_BITS) + 7) // 8)
        self._size = len(self._map) * 8

    def add(self, event_id: str) -> bool:
        """Mark an id as seen; whether its bit was set already."""
        byte, mask = self._bit(event_id)
        seen = bool(self._map[byte] & mask)
        self._map[byte] |= mask
        return seen

    def __contains__(self, event_id: str) -> bool:
        """Whether the id's bit is set: it was probably seen (certainly not, if clear)."""
        byte, mask = self._bit(event_id)
        return bool(self._map[byte] & mask)

    def _bit(self, event_id: str) -> tuple[int, int]:
        byte, bit = divmod(hash(event_id) % self._size, 8)
        return byte, 1 << bit


@dataclass(frozen=True)
class Survey:
    """A file's summits by the last line that names them, the event_ids it gives (as bits),
    and those that may repeat (every id given on two lines, and a few others whose bit another
    id had set)."""

    last_lines: dict[str, int]
    repeats: frozenset[str]
    given: Sightings

    @classmethod
    def of(cls, lines: Iterable[tuple[int, str, str | None]], bits: int) -> Survey:
        """Survey (line number, summit_id, event_id or None) triples in file order, with a
        bitmap of `bits` bits for the event_ids (more bits: fewer ids kept as maybe repeats)."""
        last_lines: dict[str, int] = {}
        seen, repeats = Sightings(bits), set()
        for line, summit_id, event_id in lines:
            last_lines[summit_id] = line
            if event_id is not None and seen.add(event_id):
                repeats.add(event_id)
        return cls(last_lines, frozenset(repeats), seen)

    def may_give(self, event_id: str) -> bool:
        """Whether a line of the file may give this event_id (if not, the import made it up for
        a line that gave none, and the log cannot hold it)."""
        return event_id in self.given

    def last_line(self, summit_id: str) -> int:
        """The last line naming this summit (0: no line does)."""
        return self.last_lines.get(summit_id, 0)
