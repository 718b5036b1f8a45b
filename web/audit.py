"""The chain's state as this process last checked it: the whole log once, then what follows."""

from __future__ import annotations

import logging
import threading
import time

from events import EventStore, VerifyReport
from events.chain import Verifier

log = logging.getLogger("diplocal")


class ChainWatch:
    """Verifies the log from where it stopped last; a break stays reported until restart."""

    def __init__(self) -> None:
        self._verifier = Verifier()
        self._lock = threading.Lock()

    def check(self, store: EventStore) -> VerifyReport:
        """Verify the records appended since the last check; the report for the whole log."""
        with self._lock:
            return self._verifier.check(store.read(after=self._verifier.position))

    def first_check(self, store: EventStore) -> VerifyReport:
        """Verify the whole log (when a server starts), saying how long it took."""
        started = time.perf_counter()
        report = self.check(store)
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
        return report
