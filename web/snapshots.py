"""Snapshots at the edge: the MAC key's file, the code version, and when to take or use one."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from functools import cache
from importlib import resources
from pathlib import Path

from calendar_core.projection import Calendar
from calendar_core.snapshot import Unusable, restore, take
from events import EventStore, LogError
from events.snapshots import SnapshotStore

log = logging.getLogger("diplocal")

# The modules whose code decides what a projection holds: a change to any of them makes
# every older snapshot unusable.
_SOURCES = {
    "calendar_core": ("summit.py", "meaning.py", "projection.py", "snapshot.py"),
    "events": ("schema.py", "schedule.py", "upcast.py", "record.py"),
}


@cache
def code_version() -> str:
    """A digest of the code that builds projections, read once from the installed package."""
    digest = hashlib.sha256()
    for package, names in _SOURCES.items():
        for name in names:
            digest.update(resources.files(package).joinpath(name).read_bytes())
    return digest.hexdigest()[:32]


def default_key_file() -> Path:
    """Where the snapshot key lives unless configured: beside the user's configuration."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "diplocal" / "snapshot.key"


def load_key(path: Path) -> bytes:
    """The MAC key in a file outside the database, made (readable by its owner only) on first
    use. Every worker and machine serving one database needs the same file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        except FileExistsError:  # another worker made it meanwhile
            pass
    return path.read_text().strip().encode()


class Keeper:
    """Takes a snapshot every `every` positions, and restores the nearest usable one."""

    def __init__(self, log: EventStore, kept: SnapshotStore, key: bytes, every: int) -> None:
        self._log, self._kept, self._key, self.every = log, kept, key, every
        self._last = 0

    def nearest(self, position: int) -> Calendar | None:
        """The calendar of the latest usable snapshot at or before a position (unusable ones
        on the way are dropped, to be taken again)."""
        try:
            while (snapshot := self._kept.nearest(position)) is not None:
                try:
                    calendar = restore(
                        snapshot, self._key, code_version(), self._hash_at(snapshot.position)
                    )
                except Unusable as error:
                    log.warning("diplocal: %s; dropped, the calendar is folded from the log", error)
                    self._kept.drop(snapshot.position)
                    continue
                self._last = max(self._last, calendar.position)
                return calendar
        except LogError as error:  # a cache: without it the calendar is folded from the log
            log.warning("diplocal: %s", error)
        return None

    def maybe_take(self, calendar: Calendar) -> None:
        """Save a snapshot when the calendar has moved `every` positions past the last one
        (this worker's, or another's: workers catching up together take it once)."""
        if self.every <= 0 or calendar.position - self._last < self.every:
            return
        try:
            self._last = max(self._last, self._kept.latest_position())
            if calendar.position - self._last < self.every:
                return
            head_hash = self._hash_at(calendar.position)
            if head_hash is not None:
                self._kept.save(take(calendar, head_hash, self._key, code_version()))
        except LogError as error:  # a cache: serving goes on without it
            log.warning("diplocal: %s", error)
        self._last = calendar.position

    def _hash_at(self, position: int) -> str | None:
        record = next(self._log.read(after=position - 1, limit=1), None)
        return None if record is None or record.position != position else record.hash
