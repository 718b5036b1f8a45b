"""The EventStore protocol every store adapter follows, and the values and errors it speaks in."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from events.record import Claimed, Draft, Recorded, fast_canonical_json, new_event_id
from events.schema import Event
from events.upcast import CURRENT_SCHEMA_VERSION, load_event

if TYPE_CHECKING:
    from events.sql import SQLEventStore


@dataclass(frozen=True)
class NewEvent:
    """An event on its way into the log: the typed event the rules read, and its draft."""

    event: Event
    draft: Draft

    @classmethod
    def of(
        cls,
        summit_id: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        schema_version: int = CURRENT_SCHEMA_VERSION,
        event_id: str | None = None,
        recorded_by: str | None = None,
        recorded_at: str | None = None,
        claimed: Claimed | None = None,
    ) -> NewEvent:
        """Validate raw event data (upcasting older versions); raises ValidationError."""
        stored = dict(data)
        event = load_event(event_type, schema_version, dict(stored))
        try:
            fast_canonical_json(stored)
        except UnicodeEncodeError:
            raise _unencodable(stored) from None
        draft = Draft(
            summit_id=summit_id,
            type=event_type,
            data=stored,
            event_id=event_id or new_event_id(),
            schema_version=schema_version,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
            claimed=claimed,
        )
        return cls(event, draft)


def _unencodable(data: Mapping[str, Any]) -> ValidationError:
    """Text UTF-8 cannot encode (a lone surrogate) that validation let through."""
    error = PydanticCustomError("string_unicode", "text must be valid Unicode (no lone surrogates)")
    return ValidationError.from_exception_data("Event", [{"type": error, "loc": (), "input": data}])


@dataclass(frozen=True)
class Head:
    """The last record of the log (or of a prefix of it)."""

    position: int
    hash: str
    recorded_at: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of re-checking the hash chain."""

    ok: bool
    checked: int
    head: Head | None
    first_bad_position: int | None = None
    problem: str | None = None

    def fields(self) -> dict[str, Any]:
        """JSON form, as `GET /api/audit/verify` answers."""
        head = self.head
        out: dict[str, Any] = {
            "ok": self.ok,
            "checked": self.checked,
            "head": None if head is None else {"position": head.position, "hash": head.hash},
        }
        if not self.ok:
            out["first_bad_position"] = self.first_bad_position
            out["problem"] = self.problem
        return out


class LogError(Exception):
    """An append the log refuses, for reasons of the log itself (not of the calendar)."""


class ConcurrencyError(LogError):
    """The log moved on since the writer looked: its summit's version, or the log's head."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(f"{what} is at version {actual}, not {expected}")
        self.what, self.expected, self.actual = what, expected, actual


class EventIdTaken(LogError):
    """An event_id the log already holds (the caller compares contents: a retry or a reuse)."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event_id {event_id} is already in the log")
        self.event_id = event_id


class ImportRejected(LogError):
    """An imported line the log cannot take; names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


class CorruptRecord(LogError):
    """A stored row that cannot even be read as a record (its data is not JSON)."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"position {position}: {problem}")
        self.position, self.problem = position, problem


class LogUnavailable(LogError):
    """The database cannot be reached or refuses to write (full disk, read-only, down)."""


class EventStore(Protocol):
    """An append-only, hash-chained event log."""

    def append(
        self, drafts: Sequence[Draft], *, expected_version: int | None = None
    ) -> list[Recorded]:
        """Seal events of one summit onto the chain in one transaction.

        ConcurrencyError when the summit is not at `expected_version`; EventIdTaken when an
        event_id is in the log already; nothing is written then.
        """
        ...

    def import_events(self, drafts: Iterable[Draft], *, expected_head: int) -> int:
        """Append in one transaction, all or nothing, onto a log whose head is at
        `expected_head` (ConcurrencyError otherwise); the number appended."""
        ...

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        summit_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[Recorded]:
        """Records after a position, up to another (inclusive), in position order (or the
        reverse); one summit's only, or at most `limit` of them, if asked."""
        ...

    def find(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        ...

    def head(self) -> Head | None:
        """The last record, or None for an empty log."""
        ...

    def verify(self) -> VerifyReport:
        """Re-check every hash and link of the chain, with the reference encoder."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


T = TypeVar("T")
_BESIDE: weakref.WeakKeyDictionary[object, dict[Callable[[], Any], Any]] = (
    weakref.WeakKeyDictionary()
)


def beside(log: object, durable: Callable[[SQLEventStore], T], in_memory: Callable[[], T]) -> T:
    """A store kept beside a log (tokens, snapshots, settings): over the log's database, or
    in memory beside a memory log, the same one for as long as that log lives."""
    from events.sql import SQLEventStore

    if isinstance(log, SQLEventStore):
        return durable(log)
    kept = _BESIDE.setdefault(log, {})
    if in_memory not in kept:
        kept[in_memory] = in_memory()
    found: T = kept[in_memory]
    return found
