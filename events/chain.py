"""Sealing new records onto the hash chain and re-checking it; shared by every store adapter."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.clock import Clock
from events.record import (
    ZERO_HASH,
    Recorded,
    canonical_json,
    format_stamp,
    parse_stamp,
    record_json,
)
from events.store import Head, LogError, NewEvent, VerifyReport

_new = object.__new__


def stamp_after(clock: Clock, head: Head | None, requested: str | None = None) -> str:
    """The next recorded_at: never before the head; an imported one never in the future."""
    now = clock()
    if requested is None:
        if head is not None and parse_stamp(head.recorded_at) > now:
            return head.recorded_at
        return format_stamp(now)
    instant = parse_stamp(requested)
    if instant > now:
        raise LogError(f"recorded_at {requested} is in the future")
    if head is not None and instant < parse_stamp(head.recorded_at):
        raise LogError(
            f"recorded_at {requested} is before the log's last event ({head.recorded_at})"
        )
    return requested


def check_stream_order(summit_id: str, version: int, event_type: str) -> None:
    """A stream starts with its one SummitAnnounced."""
    if version == 1 and event_type != "SummitAnnounced":
        raise LogError(f"unknown summit {summit_id!r}: its first event must be SummitAnnounced")
    if version > 1 and event_type == "SummitAnnounced":
        raise LogError(f"summit {summit_id!r} was already announced")


def seal(
    head: Head | None, summit_id: str, version: int, new: NewEvent, recorded_at: str
) -> Recorded:
    """Build the record that follows `head`, checking what an import line claims about it."""
    return seal_json(head, summit_id, version, new, recorded_at)[0]


def seal_json(
    head: Head | None, summit_id: str, version: int, new: NewEvent, recorded_at: str
) -> tuple[Recorded, str]:
    """`seal`, also returning the canonical JSON of the record's data (for stores keeping text)."""
    position = 1 if head is None else head.position + 1
    prev_hash = ZERO_HASH if head is None else head.hash
    data = dict(new.data)
    data_json = new.data_json
    if data_json is None:
        data_json = canonical_json(data).decode()
    fields: dict[str, Any] = {
        "position": position,
        "event_id": new.event_id,
        "summit_id": summit_id,
        "version": version,
        "type": new.type,
        "schema_version": new.schema_version,
        "recorded_at": recorded_at,
        "recorded_by": new.recorded_by,
        "prev_hash": prev_hash,
    }
    digest = hashlib.sha256(record_json(**fields, data_json=data_json).encode()).hexdigest()
    claimed = new.claimed
    if claimed is not None:
        for name, ours, theirs in (
            ("position", position, claimed.position),
            ("version", version, claimed.version),
            ("prev_hash", prev_hash, claimed.prev_hash),
            ("hash", digest, claimed.hash),
        ):
            if theirs is not None and theirs != ours:
                raise LogError(f"{name} {theirs!r} does not match the log ({ours!r})")
    record: Recorded = _new(Recorded)  # every field set below; skips the frozen __init__
    record.__dict__.update(fields, data=data, hash=digest)
    return record, data_json


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
