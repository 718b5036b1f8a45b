"""Rendered VEVENTs at the edge: kept beside the log once a feed has rendered enough new ones,
and taken back when a server starts, so that a restart renders only what changed since; and
the whole feed's listing, which a starting server serves before its calendar is restored."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import astuple, replace
from importlib import metadata, resources

from calendar_core.ical import Chunk, FeedOptions, FeedRenderer
from calendar_core.listing import Listing
from calendar_core.projection import Calendar
from calendar_core.summit import Summit
from events import EventStore, LogError
from events.renderings import KeptFeed, Rendering, RenderingStore
from web.snapshots import code_version

log = logging.getLogger("diplocal")

# Fresh chunks worth a write: fewer are simply rendered again after a restart.
SAVE_AFTER = 256
# Summits rendered between two writes while a feed renders many: a worker stopped mid-way (a
# gunicorn timeout on a first start) leaves what it rendered to the next one.
WARM_BATCH = 4096
# A worker keeps the whole feed's listing on its first render, then again once the log has
# moved this many positions past the one it kept: a restart then catches up at most about as
# many records (web/feeds.py's CATCH_UP_RECORDS allows twice that), and the worker does not
# dump and write the feed's megabytes on every change.
KEEP_FEED_EVERY = 500
# What decides a VEVENT's bytes besides the summit and the feed's options.
_RENDERING_CODE = ("ical.py", "vtimezone.py", "listing.py")
_LIBRARIES = ("icalendar", "pycountry")


def renderer_name(options: FeedOptions) -> str:
    """A digest of everything a rendered VEVENT depends on but its summit: the feed's options,
    the code that builds summits and renders them, and the libraries it renders with."""
    digest = hashlib.sha256(code_version().encode())
    for name in _RENDERING_CODE:
        digest.update(resources.files("calendar_core").joinpath(name).read_bytes())
    for library in _LIBRARIES:
        digest.update(f"\n{library} {metadata.version(library)}".encode())
    digest.update(repr(astuple(options)).encode())
    return digest.hexdigest()[:32]


def _chunk(kept: Rendering) -> Chunk | None:
    """The chunk a stored row holds, or None when its columns have the wrong types."""
    if not isinstance(kept.zone, str | None) or not isinstance(kept.body, bytes):
        return None
    if not isinstance(kept.first_year, int) or not isinstance(kept.last_year, int):
        return None
    return Chunk(kept.body, kept.zone, kept.first_year, kept.last_year)


class RenderingKeeper:
    """Keeps one renderer's chunks, and its whole feed's listing, in the rendering store,
    MACed under the snapshot key."""

    def __init__(
        self, log: EventStore, store: RenderingStore, key: bytes, renderer: FeedRenderer
    ) -> None:
        self._log, self._store, self._key, self.renderer = log, store, key, renderer
        self.name = renderer_name(renderer.options)
        self._offers = threading.Lock()
        # the latest feed to keep: its query, position and listing (to dump)
        self._offered: tuple[str, int, Callable[[], bytes]] | None = None
        self._writer: threading.Thread | None = None  # while one is being kept
        self._feed_at: int | None = None  # the position of the last feed kept or taken back

    def restore(self, calendar: Calendar) -> int:
        """Hand the renderer the kept chunks of the calendar's summits as they are now; the
        number taken. A chunk of another version, or whose MAC fails, is left to be rendered."""
        taken = altered = 0
        try:
            for kept in self._store.load(self.name):
                summit = calendar.summits.get(kept.summit_id)
                if summit is None or (summit.version, summit.updated_at) != (
                    kept.version,
                    kept.updated_at,
                ):
                    continue
                chunk = _chunk(kept)
                if chunk is None or not hmac.compare_digest(self._mac(summit, chunk), kept.mac):
                    altered += 1
                    continue
                self.renderer.adopt(summit, chunk)
                taken += 1
        except LogError as error:  # a cache: without it, every summit is rendered
            log.warning("diplocal: %s", error)
        if altered:
            log.warning("diplocal: %d kept VEVENTs fail their MAC: rendered again", altered)
        return taken

    def adopt(self, calendar: Calendar, listing: Listing) -> int:
        """Hand the renderer the chunks of a kept listing (MACed as a whole) whose summits are
        at the same version in the calendar; the number taken."""
        taken = 0
        for summit_id, version, chunk in listing.versioned():
            summit = calendar.summits.get(summit_id)
            if summit is not None and summit.version == version:
                self.renderer.adopt(summit, chunk)
                taken += 1
        return taken

    def chunks(self, summits: Sequence[Summit]) -> list[Chunk | None]:
        """The renderer's chunks of these summits, keeping those it renders a batch at a time
        (call with the live calendar's lock held)."""
        chunks: list[Chunk | None] = []
        for start in range(0, len(summits), WARM_BATCH):
            chunks += self.renderer.chunks(summits[start : start + WARM_BATCH])
            due = self.due()
            if due is not None:
                self.keep(due)
        return chunks

    def due(self) -> list[Rendering] | None:
        """The renderer's fresh chunks, sealed, once there are enough to keep (call with the
        live calendar's lock held); None before."""
        if self.renderer.fresh_count < SAVE_AFTER:
            return None
        return [self._sealed(summit, chunk) for summit, chunk in self.renderer.fresh()]

    def keep(self, renderings: list[Rendering]) -> None:
        """Write sealed chunks to the store (outside any lock: other requests go on)."""
        try:
            self._store.save(self.name, renderings)
        except LogError as error:  # a cache: serving goes on without it
            log.warning("diplocal: %s", error)

    def _sealed(self, summit: Summit, chunk: Chunk) -> Rendering:
        return Rendering(
            summit.summit_id,
            summit.version,
            summit.updated_at,
            chunk.body,
            chunk.zone,
            chunk.first_year,
            chunk.last_year,
            self._mac(summit, chunk),
        )

    def _mac(self, summit: Summit, chunk: Chunk) -> bytes:
        said = (
            f"{self.name}\n{summit.summit_id}\n{summit.version}\n{summit.updated_at}\n"
            f"{chunk.zone}\n{chunk.first_year}\n{chunk.last_year}\n"
        )
        signed = hmac.new(self._key, said.encode(), hashlib.sha256)
        signed.update(chunk.body)
        return signed.digest()

    def kept_feed(self, query: str) -> KeptFeed | None:
        """The listing of a feed kept for this renderer (its body decompressed), if its MAC
        verifies; else None."""
        try:
            kept = self._store.load_feed(self.name, query)
        except LogError as error:  # a cache: the feed is rendered instead
            log.warning("diplocal: %s", error)
            return None
        if kept is None:
            return None
        if not hmac.compare_digest(self._feed_mac(kept), kept.mac):
            log.warning("diplocal: the kept feed fails its MAC: rendered again")
            return None
        self._feed_at = kept.position
        return replace(kept, body=zlib.decompress(kept.body))

    def feed_due(self, position: int) -> bool:
        """Whether the whole feed at this position is worth keeping (KEEP_FEED_EVERY)."""
        return self._feed_at is None or position - self._feed_at >= KEEP_FEED_EVERY

    def offer_feed(self, query: str, position: int, listing: Callable[[], bytes]) -> None:
        """Keep a feed's listing (as `Listing.dumper` gives it) at a position, in the
        background: one write at a time, each of the latest offered when it starts."""
        with self._offers:
            self._offered, self._feed_at = (query, position, listing), position
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._keep_feeds, name="diplocal-feed-keeper", daemon=True
                )
                self._writer.start()

    def wait_for_feeds(self) -> None:
        """Return once every feed offered so far is kept (or failed to be)."""
        with self._offers:
            writer = self._writer
        if writer is not None:
            writer.join()

    def _keep_feeds(self) -> None:
        while True:
            with self._offers:
                offered, self._offered = self._offered, None
                if offered is None:
                    self._writer = None
                    return
            query, position, listing = offered
            try:
                record = next(self._log.read(after=position - 1, limit=1), None)
                if record is not None and record.position == position:
                    packed = zlib.compress(listing(), 1)
                    feed = KeptFeed(query, position, record.hash, packed, b"")
                    self._store.save_feed(self.name, replace(feed, mac=self._feed_mac(feed)))
            except Exception as error:  # a cache, kept in the background: never fatal
                log.warning("diplocal: cannot keep the feed: %s", error)

    def _feed_mac(self, feed: KeptFeed) -> bytes:
        said = f"{self.name}\nfeed\n{feed.query}\n{feed.position}\n{feed.head_hash}\n"
        signed = hmac.new(self._key, said.encode(), hashlib.sha256)
        signed.update(feed.body)
        return signed.digest()
