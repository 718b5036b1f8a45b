"""The EventStore protocol every adapter follows, and the values and errors it speaks in."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from events.record import Entry, Recorded, data_json
from events.schema import EVENT_TYPES, Event, event_data, validate_event
from events.upcast import CURRENT_SCHEMA_VERSION, load_event

# Event ids made 256 at a time from one read of the OS's random bytes; `list.pop` hands each
# out once even between threads, and a forked child starts with none of its parent's.
_spare_ids: list[str] = []
os.register_at_fork(after_in_child=_spare_ids.clear)


# A random hex digit put in the variant's place keeps its two low bits: "8", "9", "a" or "b".
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _fresh_ids(count: int) -> list[str]:
    """`count` version 4 UUIDs: random hex with the version digit 4 and the variant digit set."""
    text = os.urandom(16 * count).hex()
    return [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
        for h in (text[start : start + 32] for start in range(0, 32 * count, 32))
    ]


def new_event_id() -> str:
    """A random (version 4) UUID as text; `str(uuid.uuid4())` without its slow object."""
    while True:
        try:
            return _spare_ids.pop()
        except IndexError:
            _spare_ids.extend(_fresh_ids(256))


@dataclass(frozen=True)
class Claimed:
    """What an imported line says about its own place in the log; checked, never trusted."""

    position: int | None = None
    version: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class NewEvent:
    """An event on its way into the log, already validated (build it with `NewEvent.of`)."""

    type: str
    data: Mapping[str, Any]
    event: Event
    event_id: str = field(default_factory=new_event_id)
    schema_version: int = CURRENT_SCHEMA_VERSION
    recorded_by: str | None = None
    recorded_at: str | None = None  # set by imports only; otherwise the store's clock decides
    claimed: Claimed | None = None
    # Canonical JSON of `data`, written once by `of`/`from_event` (not copied by `replace`).
    data_json: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        event_type: str,
        data: Mapping[str, Any],
        *,
        schema_version: int = CURRENT_SCHEMA_VERSION,
        **extra: Any,
    ) -> NewEvent:
        """Validate raw event data, upcasting older versions; raises ValueError."""
        if schema_version == CURRENT_SCHEMA_VERSION and event_type in _TYPES and type(data) is dict:
            event = validate_event(event_type, data)  # no upcaster to keep away from `data`
        else:
            event = load_event(event_type, schema_version, dict(data))
        if not extra.keys() <= _OPTIONAL:  # let the dataclass name the unexpected argument
            return cls(event_type, data, event, schema_version=schema_version, **extra)
        new: NewEvent = _new(cls)  # the frozen __init__ sets each field through a slow call
        new.__dict__.update(
            type=event_type,
            data=data,
            event=event,
            event_id=extra["event_id"] if "event_id" in extra else new_event_id(),
            schema_version=schema_version,
            recorded_by=extra.get("recorded_by"),
            recorded_at=extra.get("recorded_at"),
            claimed=extra.get("claimed"),
            data_json=_text_of(data),
        )
        return new

    @classmethod
    def from_event(cls, event: Event, **extra: Any) -> NewEvent:
        """Wrap an event built in code."""
        new = cls(event.type, event_data(event), event, **extra)
        object.__setattr__(new, "data_json", _text_of(new.data))
        return new


def _text_of(data: Mapping[str, Any]) -> str:
    """The canonical JSON of event data; text UTF-8 cannot hold is refused here."""
    try:
        return data_json(data if type(data) is dict else dict(data))
    except UnicodeEncodeError:
        raise _unencodable(data) from None


_new = object.__new__
_OPTIONAL = frozenset({"event_id", "recorded_by", "recorded_at", "claimed"})
_TYPES = frozenset(EVENT_TYPES)


def _unencodable(data: Mapping[str, Any]) -> ValidationError:
    """The data holds text UTF-8 cannot encode (a lone surrogate, which validation lets through
    only where it does not look at strings, such as an upcaster's output)."""
    error = PydanticCustomError("string_unicode", "text must be valid Unicode (no lone surrogates)")
    return ValidationError.from_exception_data("Event", [{"type": error, "loc": (), "input": data}])


@dataclass(frozen=True)
class Head:
    """The last record of the log."""

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
        out: dict[str, Any] = {
            "ok": self.ok,
            "checked": self.checked,
            "head": None
            if self.head is None
            else {"position": self.head.position, "hash": self.head.hash},
        }
        if not self.ok:
            out["first_bad_position"] = self.first_bad_position
            out["problem"] = self.problem
        return out


class LogError(Exception):
    """An append the log refuses, for reasons of the log itself (not of the calendar)."""


class ConcurrencyError(LogError):
    """The summit's stream is not at the version the writer expected."""

    def __init__(self, summit_id: str, expected: int, actual: int) -> None:
        super().__init__(f"{summit_id} is at version {actual}, not {expected}")
        self.summit_id, self.expected, self.actual = summit_id, expected, actual


class EventIdReused(LogError):
    """An event_id already in the log, sent again with different content."""


class ImportRejected(LogError):
    """An imported line the log cannot take; names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


class EventStore(Protocol):
    """An append-only, hash-chained event log."""

    def append(
        self, summit_id: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> list[Recorded]:
        """Append in one transaction; events already in the log come back as stored."""
        ...

    def import_events(self, items: Iterable[tuple[str, NewEvent]]) -> int:
        """Append (summit_id, event) pairs in one transaction, all or nothing; count added."""
        ...

    def stream(self, summit_id: str, *, until_position: int | None = None) -> list[Recorded]:
        """One summit's events in version order."""
        ...

    def read(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        """One page of the log after a position."""
        ...

    def iter_log(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Recorded]:
        """The log from `after` on, up to a position or a recorded time (inclusive), in order."""
        ...

    def iter_entries(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Entry]:
        """`iter_log` as projections read it: place, type and data of each record, no hashes."""
        ...

    def head(self) -> Head | None:
        """The last record, or None for an empty log."""
        ...

    def at(self, position: int) -> Recorded | None:
        """The record at a position."""
        ...

    def by_event_id(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        ...

    def verify(self) -> VerifyReport:
        """Re-check every hash and link of the chain."""
        ...

    def add_token(self, name: str, token_hash: str, *, can_write: bool = True) -> None:
        """Store an API token by its SHA-256 hash (never the token itself)."""
        ...

    def find_token(self, token_hash: str) -> tuple[str, bool] | None:
        """(name, can_write) for a token hash, or None."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
