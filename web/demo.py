"""Load the bundled demo log into an empty store (for `diplocal serve --demo`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from calendar_core.service import check_import

from calendar_core.demo import demo_lines
from events import EventStore, NewEvent
from events.store import Claimed

_CLAIMS = ("position", "version", "prev_hash", "hash")


def _items() -> Iterator[tuple[int, str, NewEvent]]:
    for number, line in enumerate(demo_lines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        claimed = (
            Claimed(**{k: row[k] for k in _CLAIMS if k in row})
            if any(k in row for k in _CLAIMS)
            else None
        )
        extra = {k: row[k] for k in ("event_id", "recorded_by", "recorded_at") if k in row}
        new = NewEvent.of(
            row["type"],
            row["data"],
            schema_version=row.get("schema_version", 1),
            claimed=claimed,
            **extra,
        )
        yield number, row["summit_id"], new


def load_demo(store: EventStore) -> int:
    """Import the demo log if the store is empty; the number of events added."""
    if store.head() is not None:
        return 0
    return store.import_events(check_import(store, _items()))
