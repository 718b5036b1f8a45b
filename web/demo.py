"""Load the bundled demo log into an empty store, through the same path as `diplocal import`."""

from __future__ import annotations

from collections.abc import Iterator

from calendar_core.demo import demo_lines
from calendar_core.service import check_import
from events import EventStore, ImportRejected, NewEvent
from web.cli.log import parse_line


def _items() -> Iterator[tuple[int, str, NewEvent]]:
    for number, line in enumerate(demo_lines(), start=1):
        try:
            summit_id, new = parse_line(line)
        except ValueError as error:
            raise ImportRejected(number, str(error)) from None
        yield number, summit_id, new


def load_demo(store: EventStore) -> int:
    """Import the demo log if the store is empty; the number of events added."""
    if store.head() is not None:
        return 0
    return store.import_events(check_import(store, _items()))
