"""Recording an event: read the summit's stream, fold, apply the rules, append (or refuse)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from calendar_core.rules import Refused, UnknownSummit, decide
from calendar_core.schedule import ScheduleError
from calendar_core.summit import Summit, evolve, fold
from events.record import Recorded
from events.store import ConcurrencyError, EventStore, ImportRejected, NewEvent

_NO_TIME = "0001-01-01T00:00:00Z"


def handle(
    store: EventStore, summit_id: str, new: NewEvent, *, expected_version: int | None = None
) -> Recorded:
    """Append one event if the rules allow it; a resent event_id returns the first record."""
    if store.by_event_id(new.event_id) is not None:
        # The store compares the content (EventIdReused if it differs) and appends nothing.
        return store.append(summit_id, [new])[0]
    records = store.stream(summit_id)
    version = len(records)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyError(summit_id, expected_version, version)
    decide(fold(records), new.event, summit_id=summit_id)
    # Appending at the version the rules saw: a concurrent writer makes this fail, not skip.
    return store.append(summit_id, [new], expected_version=version)[0]


def _pending(summit_id: str, version: int, new: NewEvent) -> Recorded:
    """A stand-in record for an event not yet in the log, to fold it into the import's state."""
    return Recorded(
        position=0,
        event_id=new.event_id,
        summit_id=summit_id,
        version=version,
        type=new.type,
        schema_version=new.schema_version,
        recorded_at=new.recorded_at or _NO_TIME,
        recorded_by=new.recorded_by,
        data=dict(new.data),
        prev_hash="",
        hash="",
    )


def check_import(
    store: EventStore, items: Iterable[tuple[int, str, NewEvent]]
) -> Iterator[tuple[str, NewEvent]]:
    """Pass (line, summit_id, event) on as (summit_id, event), raising ImportRejected on a refusal.

    Each summit's state starts from the store's stream (read when the summit first appears) and
    follows the imported lines; events already in the log are passed on unchecked (the store
    skips them or rejects a reused event_id). The store's `import_events` takes each pair before
    pulling the next, and its reads meanwhile see the import's earlier events, so an event_id
    repeated within the import is found by `by_event_id` too: nothing per line is kept here
    but the state of each summit.
    """
    states: dict[str, Summit | None] = {}
    for line_no, summit_id, new in items:
        if store.by_event_id(new.event_id) is not None:
            yield summit_id, new
            continue
        if summit_id not in states:
            states[summit_id] = fold(store.stream(summit_id))
        summit = states[summit_id]
        try:
            decide(summit, new.event, summit_id=summit_id)
        except (Refused, UnknownSummit, ScheduleError) as error:
            raise ImportRejected(line_no, str(error)) from None
        version = 1 if summit is None else summit.version + 1
        states[summit_id] = evolve(summit, _pending(summit_id, version, new))
        yield summit_id, new
