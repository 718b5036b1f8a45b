"""Sealing new records onto the hash chain and re-checking it; shared by every store adapter."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from events.clock import Clock
from events.record import (
    ZERO_HASH,
    Recorded,
    Row,
    canonical_json,
    format_micros,
    micros,
    parse_stamp,
    record_json,
)
from events.store import Claimed, Head, LogError, NewEvent, VerifyReport

_sha256 = hashlib.sha256
_NEVER = -(1 << 62)  # the instant (microseconds since the epoch) of an empty log's tip


def check_stream_order(summit_id: str, version: int, event_type: str) -> None:
    """A stream starts with its one SummitAnnounced."""
    if version == 1 and event_type != "SummitAnnounced":
        raise LogError(f"unknown summit {summit_id!r}: its first event must be SummitAnnounced")
    if version > 1 and event_type == "SummitAnnounced":
        raise LogError(f"summit {summit_id!r} was already announced")


class Tip:
    """The end of the chain that the next record is sealed onto; each `seal` moves it on."""

    __slots__ = ("hash", "position", "recorded_at", "us")

    def __init__(self, head: Head | None) -> None:
        self.position, self.hash = (0, ZERO_HASH) if head is None else (head.position, head.hash)
        self.recorded_at = "" if head is None else head.recorded_at
        self.us = _NEVER if head is None else micros(parse_stamp(head.recorded_at))

    def seal(self, clock: Clock, summit_id: str, version: int, new: NewEvent) -> Row:
        """The next record as a row of RECORD_FIELDS and its instant in microseconds (as the
        SQL stores insert it), its `data` as the canonical JSON text that was hashed (`from_row`
        makes it a Recorded). Stamped by `clock`, never before the tip; an imported
        `recorded_at` and what an import line claims are checked instead."""
        position, prev_hash = self.position + 1, self.hash
        now, requested = micros(clock()), new.recorded_at
        if requested is None and self.us <= now:
            recorded_at, us = format_micros(now), now  # the usual case, spelled out
        else:
            recorded_at, us = self._stamp(now, requested)
        data_json = new.data_json
        if data_json is None:
            data_json = canonical_json(dict(new.data)).decode()
        # The record without its hash, in RECORD_FIELDS order: what is hashed, and the row's start.
        fields = (
            position,
            new.event_id,
            summit_id,
            version,
            new.type,
            new.schema_version,
            recorded_at,
            new.recorded_by,
            data_json,
            prev_hash,
        )
        digest = _sha256(record_json(*fields)).hexdigest()
        if new.claimed is not None:
            _check_claims(new.claimed, position, version, prev_hash, digest)
        self.position, self.hash, self.recorded_at, self.us = position, digest, recorded_at, us
        return (*fields, digest, us)

    def _stamp(self, now: int, requested: str | None) -> tuple[str, int]:
        last = self.us
        if requested is None:
            if last > now:
                return self.recorded_at, last
            return format_micros(now), now
        us = micros(parse_stamp(requested))
        if us > now:
            raise LogError(f"recorded_at {requested} is in the future")
        if us < last:
            raise LogError(
                f"recorded_at {requested} is before the log's last event ({self.recorded_at})"
            )
        return requested, us


def _check_claims(claimed: Claimed, position: int, version: int, prev: str, digest: str) -> None:
    for name, ours, theirs in (
        ("position", position, claimed.position),
        ("version", version, claimed.version),
        ("prev_hash", prev, claimed.prev_hash),
        ("hash", digest, claimed.hash),
    ):
        if theirs is not None and theirs != ours:
            raise LogError(f"{name} {theirs!r} does not match the log ({ours!r})")


def same_event(stored: Recorded, summit_id: str, new: NewEvent) -> bool:
    """Whether a resent event_id carries the content already stored (a safe retry)."""
    return (
        stored.summit_id == summit_id
        and stored.type == new.type
        and stored.schema_version == new.schema_version
        and stored.data == dict(new.data)
    )


def verify_chain(records: Iterable[Recorded]) -> VerifyReport:
    """Walk the log in order: gap-free positions, links, hashes and per-summit versions."""
    expected_prev, expected_position = ZERO_HASH, 1
    versions: dict[str, int] = {}
    last: Recorded | None = None
    last_time: datetime | None = None
    checked = 0
    for record in records:
        problem = _problem(record, expected_position, expected_prev, versions, last_time)
        if problem is not None:
            bad = min(record.position, expected_position)  # a deleted row is bad where it was
            return VerifyReport(False, checked, _head(last), bad, problem)
        versions[record.summit_id] = record.version
        last_time = parse_stamp(record.recorded_at)
        expected_prev, expected_position, last = record.hash, record.position + 1, record
        checked += 1
    return VerifyReport(True, checked, _head(last))


def _problem(
    record: Recorded,
    position: int,
    prev_hash: str,
    versions: dict[str, int],
    last_time: datetime | None,
) -> str | None:
    if record.position != position:
        return f"expected position {position}, found {record.position}"
    if record.prev_hash != prev_hash:
        return "prev_hash does not match the hash of the record before"
    if record.computed_hash() != record.hash:
        return "hash does not match the record's content"
    if record.version != versions.get(record.summit_id, 0) + 1:
        return f"version {record.version} of {record.summit_id} is out of sequence"
    try:
        if last_time is not None and parse_stamp(record.recorded_at) < last_time:
            return "recorded_at goes backwards"
    except ValueError as error:
        return str(error)
    return None


def _head(record: Recorded | None) -> Head | None:
    return None if record is None else Head(record.position, record.hash, record.recorded_at)
