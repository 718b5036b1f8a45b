"""API tokens: a small store of their own, kept beside the log, holding only SHA-256 hashes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from events.store import beside

if TYPE_CHECKING:
    from events.sql import SQLEventStore


class TokenError(ValueError):
    """A token the store cannot take (a name in use)."""


@dataclass(frozen=True)
class Token:
    """A token by its hash: who holds it and whether it may append."""

    name: str
    token_hash: str
    can_write: bool
    created_at: str


class TokenStore(Protocol):
    """Where API tokens are kept."""

    def add(self, token: Token) -> None:
        """Keep a token; TokenError if its name is taken."""
        ...

    def find(self, token_hash: str) -> Token | None:
        """The token with this hash (revoked ones are gone)."""
        ...

    def list(self) -> list[Token]:
        """Every token, by name."""
        ...

    def revoke(self, name: str) -> bool:
        """Remove the token of this name at once; whether there was one."""
        ...


class SQLTokenStore:
    """Tokens in the `tokens` table of the log's database, over the log's connection."""

    def __init__(self, log: SQLEventStore) -> None:
        self._log = log
        mark = log.QUERIES.mark
        self._insert = (
            "INSERT INTO tokens (token_hash, name, can_write, created_at)"
            f" VALUES ({mark}, {mark}, {mark}, {mark})"
        )
        self._named = f"SELECT 1 FROM tokens WHERE name = {mark}"
        self._by_hash = (
            f"SELECT name, token_hash, can_write, created_at FROM tokens WHERE token_hash = {mark}"
        )
        self._all = "SELECT name, token_hash, can_write, created_at FROM tokens ORDER BY name"
        self._delete = f"DELETE FROM tokens WHERE name = {mark}"

    def add(self, token: Token) -> None:
        """Keep a token; TokenError if its name is taken."""
        with self._log.transaction() as conn:
            if conn.execute(self._named, (token.name,)).fetchone():
                raise TokenError(f"a token named {token.name!r} exists already")
            conn.execute(
                self._insert, (token.token_hash, token.name, token.can_write, token.created_at)
            )

    def find(self, token_hash: str) -> Token | None:
        """The token with this hash."""
        with self._log.connection() as conn:
            row = conn.execute(self._by_hash, (token_hash,)).fetchone()
        return None if row is None else Token(row[0], row[1], bool(row[2]), row[3])

    def list(self) -> list[Token]:
        """Every token, by name."""
        with self._log.connection() as conn:
            rows = conn.execute(self._all).fetchall()
        return [Token(row[0], row[1], bool(row[2]), row[3]) for row in rows]

    def revoke(self, name: str) -> bool:
        """Remove the token of this name."""
        with self._log.transaction() as conn:
            return bool(conn.execute(self._delete, (name,)).rowcount)


def tokens_of(log: object) -> TokenStore:
    """The token store kept beside a log."""
    from events.memory import MemoryTokenStore

    durable: Callable[[SQLEventStore], TokenStore] = SQLTokenStore
    return beside(log, durable, MemoryTokenStore)
