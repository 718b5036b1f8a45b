"""Where a store lives: its URL read, shown with any password masked, checked before opening."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from events.store import LogError

SCHEMES = "a SQLite file path, sqlite:///PATH, postgresql://... (or postgres://), memory:"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(LogError):
    """A store that cannot be opened as asked."""


class StoreURLError(StoreError, ValueError):
    """A store URL diplocal cannot read (an unknown scheme, a malformed sqlite URL)."""


class StoreMissing(StoreError):
    """No store there, and the caller may not create one."""


class StoreUnreadable(StoreError):
    """Something is there, but not a store diplocal can open (not SQLite, no permission)."""


class StoreUnreachable(StoreError):
    """A database server that does not answer or refuses the connection."""


@dataclass(frozen=True)
class StoreAddress:
    """A parsed store URL: which adapter, and its path or connection URL."""

    kind: Literal["sqlite", "postgresql", "memory"]
    target: str

    @classmethod
    def parse(cls, url: str) -> StoreAddress:
        """Read a store URL; StoreURLError names the accepted forms."""
        if url == "memory:":
            return cls("memory", url)
        if not url.strip():
            raise StoreURLError(f"the store URL is empty; use {SCHEMES}")
        if url.startswith(("postgresql://", "postgres://")):
            return cls("postgresql", url)
        if url.startswith("sqlite:"):
            if not url.startswith("sqlite:///") or url == "sqlite:///":
                raise StoreURLError(
                    f"{url!r}: a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path"
                )
            rest = url.removeprefix("sqlite:///")
            return cls("sqlite", "/" + rest.lstrip("/") if rest.startswith("/") else rest)
        scheme = _SCHEME.match(url)
        if scheme is not None:  # a scheme we do not know is a mistake, not a file name to create
            raise StoreURLError(f"{url!r}: unknown store scheme {scheme[1]!r}; use {SCHEMES}")
        return cls("sqlite", url)

    def shown(self) -> str:
        """The URL for messages and logs: a password in it becomes ***."""
        return masked(self.target) if self.kind == "postgresql" else self.target


def masked(url: str) -> str:
    """A URL with the password (in the authority or a `password` parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}"
        query = parts.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key == "password" for key, _ in pairs):
            query = urlencode(
                [(key, "***" if key == "password" else value) for key, value in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def check_sqlite(path: str, *, create: bool) -> None:
    """Refuse what is not a diplocal SQLite store (or, unless `create`, a missing one)."""
    file = Path(path)
    if not file.exists():
        if create:
            return
        raise StoreMissing(f"no store at {path} (the file does not exist)")
    if file.is_dir():
        raise StoreUnreadable(f"{path} is a folder, not a SQLite file")
    try:
        with file.open("rb") as opened:
            header = opened.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise StoreUnreadable(f"cannot read {path}: {error.strerror or error}") from None
    if not header:
        if create:
            return  # an empty file is an empty SQLite database
        raise StoreMissing(f"{path} is an empty file, not a diplocal store")
    if header != _SQLITE_MAGIC:
        raise StoreUnreadable(f"{path} is not a SQLite database")
    if not create and not _has_log(file):
        raise StoreMissing(f"{path} is a SQLite database without a diplocal log in it")


def _has_log(file: Path) -> bool:
    """Whether a SQLite file has the events table (read-only; True when it cannot tell)."""
    uri = f"file:{quote(str(file.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=60)
    except sqlite3.Error:
        return True  # the store's own open reports what is wrong
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError):
            return True  # e.g. a WAL file it may not map read-only: let the store open it
        raise StoreUnreadable(f"{file} is not a readable SQLite database ({error})") from None
    finally:
        conn.close()
    return row is not None
