"""The chain's state as this process last checked it: the whole log once, then what follows."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator

from events import EventStore, Recorded, VerifyReport
from events.chain import Verifier

log = logging.getLogger("diplocal")

# Records the start-up check verifies between two pauses: under gevent's workers (greenlets,
# which nothing preempts) the worker's other greenlets run in each pause, so it keeps
# answering while a large log is checked; under threads a pause is a switch at most.
PAUSE_EVERY = 100


def _paced(records: Iterable[Recorded]) -> Iterator[Recorded]:
    """The records, with a pause after every PAUSE_EVERY of them."""
    for count, record in enumerate(records, 1):
        yield record
        if count % PAUSE_EVERY == 0:
            _pause()


def _pause() -> None:
    """Let the process's other greenlets (or threads) run."""
    time.sleep(0)


class ChainWatch:
    """Verifies the log from where it stopped last; a break stays reported until restart.

    A starting server verifies the whole log in the background (`start`) and serves meanwhile:
    `report` says None until that first pass ends, and `check` waits for it.
    """

    def __init__(self) -> None:
        self._verifier = Verifier()
        self._lock = threading.Lock()
        self._first_done = threading.Event()
        self._first_done.set()  # until `start`: nothing to wait for

    def check(self, store: EventStore) -> VerifyReport:
        """Verify the records appended since the last check; the report for the whole log."""
        with self._lock:
            return self._verifier.check(store.read(after=self._verifier.position))

    def report(self, store: EventStore) -> VerifyReport | None:
        """As `check`, or None while the first pass over the whole log is still running."""
        return self.check(store) if self._first_done.is_set() else None

    @property
    def checked(self) -> int:
        """How many records have been found intact so far."""
        return self._verifier.checked

    def start(self, store: EventStore) -> threading.Thread:
        """Verify the whole log in a background thread, logging the outcome and its time."""
        self._first_done.clear()
        thread = threading.Thread(
            target=self._first_check, args=(store,), name="diplocal-verify", daemon=True
        )
        thread.start()
        return thread

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the first pass to end; whether it has."""
        return self._first_done.wait(timeout)

    def _first_check(self, store: EventStore) -> None:
        started = time.perf_counter()
        try:
            with self._lock:
                report = self._verifier.check(_paced(store.read(after=self._verifier.position)))
        except Exception:  # a store that stops answering: requests will say so; log it here
            log.exception("diplocal: the hash chain could not be verified at start")
            return
        finally:
            self._first_done.set()
        took = time.perf_counter() - started
        if report.ok:
            log.info("diplocal: chain intact, %d events verified in %.2f s", report.checked, took)
        else:
            log.error(
                "diplocal: chain BROKEN at position %s (%s), found in %.2f s",
                report.first_bad_position,
                report.problem,
                took,
            )
