"""Bulk work over the log (imports, replays): the collector paused, writes overlapped with work."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


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


class Behind(Generic[T]):
    """Runs `work` on one background thread, one call at a time and in order, while the caller
    prepares the next call's input: a bulk write's database time (SQLite and psycopg let go of
    the GIL while the database works) overlaps the Python that validates and seals what follows.

    At most one call is in flight. `wait` returns once it is done and raises what it raised;
    the caller must `wait` before touching what `work` uses (the connection) itself.
    """

    def __init__(self, work: Callable[[T], object]) -> None:
        self._work = work
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="diplocal-writer")
        self._running: Future[object] | None = None

    def submit(self, item: T) -> None:
        """Start `work(item)` once the call before it is done."""
        self.wait()
        self._running = self._pool.submit(self._work, item)

    def let_run(self) -> None:
        """Let go of the GIL for a moment while a call is in flight: a thread waiting for it
        takes it now rather than when the interpreter next forces a switch (5 ms by default),
        so the call ends before the caller needs the next one to start."""
        running = self._running
        if running is not None and not running.done():
            time.sleep(0)

    def wait(self) -> None:
        """Until the call in flight (if any) is done; re-raises its error."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def close(self, *, failing: bool = False) -> None:
        """Wait for the call in flight and stop the thread; while the caller is already
        failing, an error of that call is dropped so that the caller's own one is raised."""
        try:
            self.wait()
        except Exception:
            if not failing:
                raise
        finally:
            self._pool.shutdown()
