"""Snapshots: saved projections kept beside the log, in its database. A cache, never evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from events.store import LogError, beside

if TYPE_CHECKING:
    from events.sql import SQLEventStore


@dataclass(frozen=True)
class Snapshot:
    """A projection as of a log position, with the chain head it was built from, the code
    version that wrote it, and a MAC over all of that under a key kept outside the database."""

    position: int
    head_hash: str
    code_version: str
    body: bytes
    mac: bytes


class SnapshotStore(Protocol):
    """Where snapshots are kept."""

    def save(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (one already at its position stays)."""
        ...

    def nearest(self, position: int) -> Snapshot | None:
        """The latest snapshot at or before a position."""
        ...

    def latest_position(self) -> int:
        """The position of the latest snapshot (0: none)."""
        ...

    def drop(self, position: int) -> None:
        """Forget the snapshot at a position."""
        ...


class MemorySnapshotStore:
    """Snapshots in a dict."""

    def __init__(self) -> None:
        self._kept: dict[int, Snapshot] = {}

    def save(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (one already at its position stays)."""
        self._kept.setdefault(snapshot.position, snapshot)

    def nearest(self, position: int) -> Snapshot | None:
        """The latest snapshot at or before a position."""
        earlier = [at for at in self._kept if at <= position]
        return self._kept[max(earlier)] if earlier else None

    def drop(self, position: int) -> None:
        """Forget the snapshot at a position."""
        self._kept.pop(position, None)

    def latest_position(self) -> int:
        """The position of the latest snapshot (0: none)."""
        return max(self._kept, default=0)


class SQLSnapshotStore:
    """Snapshots in the `snapshots` table of the log's database, over the log's connection."""

    def __init__(self, log: SQLEventStore) -> None:
        self._log = log
        mark = log.QUERIES.mark
        self._insert = (
            "INSERT INTO snapshots (position, head_hash, code_version, body, mac)"
            f" VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) ON CONFLICT (position) DO NOTHING"
        )
        self._nearest = (
            "SELECT position, head_hash, code_version, body, mac FROM snapshots"
            f" WHERE position <= {mark} ORDER BY position DESC LIMIT 1"
        )
        self._drop = f"DELETE FROM snapshots WHERE position = {mark}"
        self._latest = "SELECT max(position) FROM snapshots"

    def save(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (one already at its position stays)."""
        row = (snapshot.position, snapshot.head_hash, snapshot.code_version)
        with self._refused("save a snapshot"), self._log.transaction() as conn:
            conn.execute(self._insert, (*row, snapshot.body, snapshot.mac))

    def nearest(self, position: int) -> Snapshot | None:
        """The latest snapshot at or before a position."""
        with self._refused("read snapshots"), self._log.connection() as conn:
            row = conn.execute(self._nearest, (position,)).fetchone()
        if row is None:
            return None
        return Snapshot(row[0], row[1], row[2], bytes(row[3]), bytes(row[4]))

    def drop(self, position: int) -> None:
        """Forget the snapshot at a position."""
        with self._refused("drop a snapshot"), self._log.transaction() as conn:
            conn.execute(self._drop, (position,))

    def latest_position(self) -> int:
        """The position of the latest snapshot (0: none)."""
        with self._refused("read snapshots"), self._log.connection() as conn:
            row = conn.execute(self._latest).fetchone()
        return int(row[0] or 0)

    @contextmanager
    def _refused(self, doing: str) -> Iterator[None]:
        """Any database error as a LogError: a role that may not touch snapshots (a replica's)
        serves without them."""
        try:
            yield
        except self._log.DATABASE_ERROR as error:
            raise LogError(f"cannot {doing}: {error}") from error


def snapshots_of(log: object) -> SnapshotStore:
    """The snapshot store kept beside a log."""
    durable: Callable[[SQLEventStore], SnapshotStore] = SQLSnapshotStore
    return beside(log, durable, MemorySnapshotStore)
