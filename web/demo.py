"""Load the bundled demo log into an empty store, through the same path as `diplocal import`."""

from __future__ import annotations

from calendar_core.demo import demo_lines
from events import EventStore
from web.cli.log import import_lines, read_lines


def load_demo(store: EventStore) -> int:
    """Import the demo log if the store is empty; the number of events added."""
    if store.head() is not None:
        return 0
    lines = (line.encode() for line in demo_lines())
    added, _ = import_lines(store, read_lines(lines, lambda size: None))
    return added
