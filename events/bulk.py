"""Bulk work over the log (imports, replays): many small objects made and dropped in a loop."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a loop that makes no reference cycles.

    Records, events and summits are acyclic (reference counting frees them), yet the collector
    keeps walking every young object: in bench/replay.py and bench/log.py it took a third to a
    half of the time and found nothing to free. Restored as it was, whatever the loop raises.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
