"""The hash chain: sealing new records onto its tip, and re-checking it record by record."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.record import (
    ZERO_HASH,
    Claimed,
    Draft,
    Recorded,
    fast_canonical_json,
    format_stamp,
    parse_stamp,
)
from events.store import CorruptRecord, Head, LogError, VerifyReport


class Tip:
    """The end of the chain that the next record is sealed onto; each `seal` moves it on."""

    def __init__(self, head: Head | None) -> None:
        self.position = 0 if head is None else head.position
        self.hash = ZERO_HASH if head is None else head.hash
        self.recorded_at = None if head is None else head.recorded_at
        self.instant = None if head is None else parse_stamp(head.recorded_at)

    def seal(self, draft: Draft, version: int, now: datetime) -> tuple[Recorded, str]:
        """The next record, and its data as the canonical JSON text that was hashed.

        Stamped `now`, or the tip's time if the clock is behind it (recorded_at never goes
        backwards); an imported `recorded_at` and what an import line claims are checked.
        """
        fields, digest = self._next(draft, version, now)
        return Recorded(**fields, hash=digest), fast_canonical_json(draft.data).decode()

    def row(self, draft: Draft, version: int, now: datetime) -> tuple[Any, ...]:
        """The next record as a row of its RECORD_FIELDS, data as the canonical JSON text that
        was hashed: `seal` for an import, which keeps no record."""
        fields, digest = self._next(draft, version, now)
        fields["data"] = fast_canonical_json(draft.data).decode()
        return (*fields.values(), digest)

    def _next(self, draft: Draft, version: int, now: datetime) -> tuple[dict[str, Any], str]:
        """The next record's fields without its hash (RECORD_FIELDS order), and its hash; the
        tip moves on to it."""
        if version == 1 and draft.type != "SummitAnnounced":
            raise LogError(f"unknown summit {draft.summit_id!r}: announce it first")
        if version > 1 and draft.type == "SummitAnnounced":
            raise LogError(f"summit {draft.summit_id!r} was already announced")
        recorded_at, instant = self._stamp(draft.recorded_at, now)
        fields: dict[str, Any] = {
            "position": self.position + 1,
            "event_id": draft.event_id,
            "summit_id": draft.summit_id,
            "version": version,
            "type": draft.type,
            "schema_version": draft.schema_version,
            "recorded_at": recorded_at,
            "recorded_by": draft.recorded_by,
            "data": draft.data,
            "prev_hash": self.hash,
        }
        digest = hashlib.sha256(fast_canonical_json(fields)).hexdigest()
        if draft.claimed is not None:
            _check_claims(draft.claimed, fields, digest)
        self.position, self.hash = self.position + 1, digest
        self.recorded_at, self.instant = recorded_at, instant
        return fields, digest

    def _stamp(self, requested: str | None, now: datetime) -> tuple[str, datetime]:
        last = self.instant
        if requested is None:
            if last is not None and now < last:
                now = last  # the clock is behind the log: never go backwards
            return format_stamp(now), now
        instant = parse_stamp(requested)
        if instant > now:
            raise LogError(f"recorded_at {requested} is in the future")
        if last is not None and instant < last:
            raise LogError(
                f"recorded_at {requested} is before the log's last event ({self.recorded_at})"
            )
        return requested, instant


def _check_claims(claimed: Claimed, fields: dict[str, object], digest: str) -> None:
    ours = {**fields, "hash": digest}
    for name in ("position", "version", "prev_hash", "hash"):
        theirs = getattr(claimed, name)
        if theirs is not None and theirs != ours[name]:
            raise LogError(f"{name} {theirs!r} does not match the log ({ours[name]!r})")


class Verifier:
    """Re-checks the chain record by record, from position 1 or from where it stopped last.

    Hashes are recomputed with the reference encoder (`Recorded.computed_hash`), never the one
    that sealed them, so a drift of the fast encoder shows here.
    """

    def __init__(self) -> None:
        self.checked = 0
        self.head: Head | None = None
        self.failure: VerifyReport | None = None
        self._versions: dict[str, int] = {}
        self._last: datetime | None = None

    @property
    def position(self) -> int:
        """The last position found intact."""
        return 0 if self.head is None else self.head.position

    def check(self, records: Iterable[Recorded]) -> VerifyReport:
        """Check the records that follow the last one checked; the report so far."""
        if self.failure is not None:
            return self.failure
        try:
            for record in records:
                problem = self._problem(record)
                if problem is not None:
                    return self._fail(record.position, problem)
                self._versions[record.summit_id] = record.version
                self._last = record.instant
                self.head = Head(record.position, record.hash, record.recorded_at)
                self.checked += 1
        except CorruptRecord as error:
            return self._fail(error.position, error.problem)
        return VerifyReport(True, self.checked, self.head)

    def _fail(self, position: int, problem: str) -> VerifyReport:
        bad = min(position, self.position + 1)  # a deleted row is bad where it was
        self.failure = VerifyReport(False, self.checked, self.head, bad, problem)
        return self.failure

    def _problem(self, record: Recorded) -> str | None:
        expected_prev = ZERO_HASH if self.head is None else self.head.hash
        if record.position != self.position + 1:
            return f"expected position {self.position + 1}, found {record.position}"
        if record.prev_hash != expected_prev:
            return "prev_hash does not match the hash of the record before"
        if record.computed_hash() != record.hash:
            return "hash does not match the record's content"
        if record.version != self._versions.get(record.summit_id, 0) + 1:
            return f"version {record.version} of {record.summit_id} is out of sequence"
        try:
            instant = record.instant
        except ValueError as error:
            return str(error)
        if self._last is not None and instant < self._last:
            return "recorded_at goes backwards"
        return None


def verify_chain(records: Iterable[Recorded]) -> VerifyReport:
    """Walk a whole log in order: gap-free positions, links, hashes, versions, times."""
    return Verifier().check(records)
