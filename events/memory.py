"""An in-memory EventStore: the reference adapter, for unit tests of the pure domain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from events.chain import Tip, check_stream_order, same_event, verify_chain
from events.clock import Clock
from events.record import Entry, Recorded, from_row
from events.store import ConcurrencyError, EventIdReused, Head, LogError, NewEvent, VerifyReport


class MemoryEventStore:
    """Keeps the log in a list; same rules as the durable stores, no durability."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._log: list[Recorded] = []
        self._streams: dict[str, list[Recorded]] = {}
        self._ids: dict[str, Recorded] = {}
        self._tokens: dict[str, tuple[str, bool]] = {}

    def append(
        self, summit_id: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> list[Recorded]:
        """Append in one step; resent event_ids come back as stored."""
        fresh = [new for new in events if self._known(summit_id, new) is None]
        actual = len(self._streams.get(summit_id, ()))
        if fresh and expected_version is not None and expected_version != actual:
            raise ConcurrencyError(summit_id, expected_version, actual)
        self._commit(self._seal_all((summit_id, new) for new in fresh))
        return [self._ids[new.event_id] for new in events]

    def import_events(self, items: Iterable[tuple[str, NewEvent]]) -> int:
        """All or nothing; reads made during the import already see its earlier items."""
        mark = len(self._log)
        try:
            for summit_id, new in items:
                if self._known(summit_id, new) is None:
                    self._commit(self._seal_all([(summit_id, new)]))
        except BaseException:
            self._rollback(mark)
            raise
        return len(self._log) - mark

    def _rollback(self, mark: int) -> None:
        for record in reversed(self._log[mark:]):
            stream = self._streams[record.summit_id]
            stream.pop()
            if not stream:
                del self._streams[record.summit_id]
            del self._ids[record.event_id]
        del self._log[mark:]

    def _known(self, summit_id: str, new: NewEvent) -> Recorded | None:
        stored = self._ids.get(new.event_id)
        if stored is not None and not same_event(stored, summit_id, new):
            raise EventIdReused(f"event_id {new.event_id} is already used by another event")
        return stored

    def _seal_all(
        self, items: Iterable[tuple[str, NewEvent]], *, skip_known: bool = False
    ) -> list[Recorded]:
        tip = Tip(self.head())
        versions: dict[str, int] = {}
        ids: set[str] = set()
        records: list[Recorded] = []
        for summit_id, new in items:
            if new.event_id in ids or (skip_known and self._known(summit_id, new)):
                continue
            version = versions.get(summit_id, len(self._streams.get(summit_id, ()))) + 1
            check_stream_order(summit_id, version, new.type)
            records.append(from_row(tip.seal(self._clock, summit_id, version, new)))
            ids.add(new.event_id)
            versions[summit_id] = version
        return records

    def _commit(self, records: list[Recorded]) -> None:
        for record in records:
            self._log.append(record)
            self._streams.setdefault(record.summit_id, []).append(record)
            self._ids[record.event_id] = record

    def stream(self, summit_id: str, *, until_position: int | None = None) -> list[Recorded]:
        """One summit's events in version order."""
        records = self._streams.get(summit_id, [])
        return [r for r in records if until_position is None or r.position <= until_position]

    def read(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        """One page of the log."""
        return self._log[max(after, 0) : max(after, 0) + limit]

    def iter_log(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Recorded]:
        """The log in order, up to a position or a recorded time."""
        for record in self._log[max(after, 0) :]:
            if until_position is not None and record.position > until_position:
                return
            if until_recorded_at is not None and record.recorded_instant > until_recorded_at:
                return
            yield record

    def iter_entries(
        self,
        *,
        after: int = 0,
        until_position: int | None = None,
        until_recorded_at: datetime | None = None,
    ) -> Iterator[Entry]:
        """`iter_log` as projections read it."""
        for r in self.iter_log(
            after=after, until_position=until_position, until_recorded_at=until_recorded_at
        ):
            yield Entry(
                r.position, r.summit_id, r.version, r.type, r.schema_version, r.recorded_at, r.data
            )

    def head(self) -> Head | None:
        """The last record."""
        if not self._log:
            return None
        last = self._log[-1]
        return Head(last.position, last.hash, last.recorded_at)

    def at(self, position: int) -> Recorded | None:
        """The record at a position."""
        return self._log[position - 1] if 1 <= position <= len(self._log) else None

    def by_event_id(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        return self._ids.get(event_id)

    def verify(self) -> VerifyReport:
        """Re-check the chain."""
        return verify_chain(self._log)

    def add_token(self, name: str, token_hash: str, *, can_write: bool = True) -> None:
        """Remember a token by its hash."""
        if token_hash in self._tokens:
            raise LogError("token already exists")
        self._tokens[token_hash] = (name, can_write)

    def find_token(self, token_hash: str) -> tuple[str, bool] | None:
        """(name, can_write) of a token, by its hash."""
        return self._tokens.get(token_hash)

    def close(self) -> None:
        """Nothing to release."""
