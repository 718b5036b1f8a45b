"""An in-memory EventStore and TokenStore: reference adapters for unit tests of the domain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from events.chain import Tip, verify_chain
from events.clock import Clock
from events.record import Draft, Recorded
from events.store import ConcurrencyError, EventIdTaken, Head, VerifyReport
from events.tokens import Token, TokenError


class MemoryEventStore:
    """Keeps the log in a list; the same rules as the durable stores, no durability."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._log: list[Recorded] = []
        self._ids: dict[str, Recorded] = {}
        self._versions: dict[str, int] = {}

    def append(
        self, drafts: Sequence[Draft], *, expected_version: int | None = None
    ) -> list[Recorded]:
        """Seal events of one summit at once."""
        if not drafts:
            return []
        summit_id = drafts[0].summit_id
        if any(draft.summit_id != summit_id for draft in drafts):
            raise ValueError("one append is one summit's events")
        seen: set[str] = set()
        for draft in drafts:
            if draft.event_id in self._ids or draft.event_id in seen:
                raise EventIdTaken(draft.event_id)
            seen.add(draft.event_id)
        version = self._versions.get(summit_id, 0)
        if expected_version is not None and expected_version != version:
            raise ConcurrencyError(summit_id, expected_version, version)
        return self._seal(drafts)

    def import_events(self, drafts: Iterable[Draft], *, expected_head: int) -> int:
        """All or nothing."""
        if expected_head != len(self._log):
            raise ConcurrencyError("the log", expected_head, len(self._log))
        mark, versions, ids = len(self._log), dict(self._versions), dict(self._ids)
        try:
            for draft in drafts:
                if draft.event_id in self._ids:
                    raise EventIdTaken(draft.event_id)
                self._seal([draft])
        except BaseException:
            del self._log[mark:]
            self._versions, self._ids = versions, ids
            raise
        return len(self._log) - mark

    def _seal(self, drafts: Sequence[Draft]) -> list[Recorded]:
        tip, now, records = Tip(self.head()), self._clock(), []
        for draft in drafts:
            version = self._versions.get(draft.summit_id, 0) + 1
            record, _ = tip.seal(draft, version, now)
            records.append(record)
            self._versions[draft.summit_id] = version
        for record in records:
            self._log.append(record)
            self._ids[record.event_id] = record
        return records

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        summit_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[Recorded]:
        """Records in position order (or the reverse)."""
        count = 0
        window = self._log[max(after, 0) : until]
        for record in reversed(window) if newest_first else window:
            if limit is not None and count >= limit:
                return
            if summit_id is None or record.summit_id == summit_id:
                count += 1
                yield record

    def find(self, event_id: str) -> Recorded | None:
        """The record with this event_id."""
        return self._ids.get(event_id)

    def head(self) -> Head | None:
        """The last record."""
        if not self._log:
            return None
        last = self._log[-1]
        return Head(last.position, last.hash, last.recorded_at)

    def verify(self) -> VerifyReport:
        """Re-check the chain."""
        return verify_chain(self._log)

    def close(self) -> None:
        """Nothing to release."""


class MemoryTokenStore:
    """API tokens in a dict."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def add(self, token: Token) -> None:
        """Keep a token; TokenError if its name or hash is taken."""
        if any(known.name == token.name for known in self._tokens.values()):
            raise TokenError(f"a token named {token.name!r} exists already")
        if token.token_hash in self._tokens:
            raise TokenError("that token is stored already")
        self._tokens[token.token_hash] = token

    def find(self, token_hash: str) -> Token | None:
        """The token with this hash."""
        return self._tokens.get(token_hash)

    def list(self) -> list[Token]:
        """Every token, by name."""
        return sorted(self._tokens.values(), key=lambda token: token.name)

    def revoke(self, name: str) -> bool:
        """Forget the token of this name; whether there was one."""
        for token_hash, token in list(self._tokens.items()):
            if token.name == name:
                del self._tokens[token_hash]
                return True
        return False
