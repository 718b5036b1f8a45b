"""Rendered calendar entries and a feed's listing kept beside the log, so that a restarted
server need not render every summit again, and serves its first feed before its calendar is
restored. A cache, never evidence: each row carries a MAC made outside the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from events.store import LogError, beside

if TYPE_CHECKING:
    from events.sql import SQLEventStore


@dataclass(frozen=True)
class Rendering:
    """One summit's rendered entry at one version (`updated_at` tells that version apart
    from another log's), what the feed needs to know about it, and its MAC."""

    summit_id: str
    version: int
    updated_at: str
    body: bytes
    zone: str | None
    first_year: int
    last_year: int
    mac: bytes


@dataclass(frozen=True)
class KeptFeed:
    """A feed's listing (its VEVENTs in order, compressed) as it was at a log position, whose
    record has `head_hash`, and its MAC."""

    query: str  # the feed's filters, canonical
    position: int
    head_hash: str
    body: bytes
    mac: bytes


class RenderingStore(Protocol):
    """Where renderings are kept: the latest of each summit, and the latest listing of whole
    feeds, for one renderer at a time."""

    def save(self, renderer: str, renderings: Sequence[Rendering]) -> None:
        """Keep these renderings of `renderer` (one replaces a kept one of its summit unless
        that is of a later version); any other renderer's (other settings or code) are dropped."""
        ...

    def load(self, renderer: str) -> Iterator[Rendering]:
        """Every rendering kept for `renderer`."""
        ...

    def save_feed(self, renderer: str, feed: KeptFeed) -> None:
        """Keep a feed's listing of `renderer` (replacing the kept ones of its query unless those
        are of a later position); any other renderer's feeds are dropped."""
        ...

    def load_feed(self, renderer: str, query: str) -> KeptFeed | None:
        """The feed of a query kept for `renderer`, if any."""
        ...


class MemoryRenderingStore:
    """Renderings in a dict."""

    def __init__(self) -> None:
        self._renderer = self._feeds_renderer = ""
        self._kept: dict[str, Rendering] = {}
        self._feeds: dict[str, KeptFeed] = {}

    def save(self, renderer: str, renderings: Sequence[Rendering]) -> None:
        """Keep these renderings of `renderer`, dropping any other renderer's."""
        if renderer != self._renderer:
            self._renderer, self._kept = renderer, {}
        for rendering in renderings:
            kept = self._kept.get(rendering.summit_id)
            if kept is None or kept.version <= rendering.version:
                self._kept[rendering.summit_id] = rendering

    def load(self, renderer: str) -> Iterator[Rendering]:
        """Every rendering kept for `renderer`."""
        return iter(list(self._kept.values()) if renderer == self._renderer else [])

    def save_feed(self, renderer: str, feed: KeptFeed) -> None:
        """Keep a feed's listing of `renderer`, dropping any other renderer's."""
        if renderer != self._feeds_renderer:
            self._feeds_renderer, self._feeds = renderer, {}
        kept = self._feeds.get(feed.query)
        if kept is None or kept.position <= feed.position:
            self._feeds[feed.query] = feed

    def load_feed(self, renderer: str, query: str) -> KeptFeed | None:
        """The feed of a query kept for `renderer`, if any."""
        return self._feeds.get(query) if renderer == self._feeds_renderer else None


_COLUMNS = "summit_id, version, updated_at, body, zone, first_year, last_year, mac"
BATCH = 2000


class SQLRenderingStore:
    """Renderings in the `renderings` table of the log's database, over the log's connection."""

    def __init__(self, log: SQLEventStore) -> None:
        self._log = log
        mark = log.QUERIES.mark
        marks = ", ".join([mark] * 9)
        self._upsert = (
            f"INSERT INTO renderings (renderer, {_COLUMNS}) VALUES ({marks})"
            " ON CONFLICT (renderer, summit_id) DO UPDATE SET version = excluded.version,"
            " updated_at = excluded.updated_at, body = excluded.body, zone = excluded.zone,"
            " first_year = excluded.first_year, last_year = excluded.last_year,"
            " mac = excluded.mac WHERE excluded.version >= renderings.version"
        )
        self._drop_others = f"DELETE FROM renderings WHERE renderer <> {mark}"
        self._load = (
            f"SELECT {_COLUMNS} FROM renderings WHERE renderer = {mark} AND summit_id > {mark}"
            f" ORDER BY summit_id LIMIT {BATCH}"
        )
        marks = ", ".join([mark] * 6)
        self._upsert_feed = (
            "INSERT INTO feeds (renderer, query, position, head_hash, body, mac)"
            f" VALUES ({marks}) ON CONFLICT (renderer, query) DO UPDATE SET"
            " position = excluded.position, head_hash = excluded.head_hash,"
            " body = excluded.body, mac = excluded.mac WHERE excluded.position >= feeds.position"
        )
        self._drop_other_feeds = f"DELETE FROM feeds WHERE renderer <> {mark}"
        self._load_feed = (
            "SELECT query, position, head_hash, body, mac FROM feeds"
            f" WHERE renderer = {mark} AND query = {mark}"
        )

    def save(self, renderer: str, renderings: Sequence[Rendering]) -> None:
        """Keep these renderings of `renderer`, dropping any other renderer's; in batches, so
        that appends get through between them."""
        with self._refused("save renderings"), self._log.transaction() as conn:
            conn.execute(self._drop_others, (renderer,))
        for start in range(0, len(renderings), BATCH):
            rows = [
                (
                    renderer,
                    r.summit_id,
                    r.version,
                    r.updated_at,
                    r.body,
                    r.zone,
                    r.first_year,
                    r.last_year,
                    r.mac,
                )
                for r in renderings[start : start + BATCH]
            ]
            with self._refused("save renderings"), self._log.transaction() as conn:
                conn.cursor().executemany(self._upsert, rows)

    def load(self, renderer: str) -> Iterator[Rendering]:
        """Every rendering kept for `renderer`, read a page at a time."""
        after = ""
        while True:
            with self._refused("read renderings"), self._log.connection() as conn:
                rows = conn.execute(self._load, (renderer, after)).fetchall()
            for row in rows:
                summit_id, version, updated_at, body, zone, first, last, mac = row
                yield Rendering(
                    summit_id, version, updated_at, _bytes(body), zone, first, last, _bytes(mac)
                )
            if len(rows) < BATCH:
                return
            after = rows[-1][0]

    def save_feed(self, renderer: str, feed: KeptFeed) -> None:
        """Keep a feed's listing of `renderer`, dropping any other renderer's."""
        row = (renderer, feed.query, feed.position, feed.head_hash, feed.body, feed.mac)
        with self._refused("save a feed"), self._log.transaction() as conn:
            conn.execute(self._drop_other_feeds, (renderer,))
            conn.execute(self._upsert_feed, row)

    def load_feed(self, renderer: str, query: str) -> KeptFeed | None:
        """The feed of a query kept for `renderer`, if any."""
        with self._refused("read a feed"), self._log.connection() as conn:
            row = conn.execute(self._load_feed, (renderer, query)).fetchone()
        if row is None:
            return None
        query, position, head_hash, body, mac = row
        return KeptFeed(query, position, head_hash, _bytes(body), _bytes(mac))

    @contextmanager
    def _refused(self, doing: str) -> Iterator[None]:
        """Any database error as a LogError: serving goes on without the cache."""
        try:
            yield
        except self._log.DATABASE_ERROR as error:
            raise LogError(f"cannot {doing}: {error}") from error


def _bytes(value: object) -> bytes:
    """A BLOB column's bytes (text someone wrote there instead is taken as UTF-8: its MAC
    then fails, as any other alteration's)."""
    return value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[call-overload]


def renderings_of(log: object) -> RenderingStore:
    """The rendering store kept beside a log."""
    durable: Callable[[SQLEventStore], RenderingStore] = SQLRenderingStore
    return beside(log, durable, MemoryRenderingStore)
