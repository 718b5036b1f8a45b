"""Snapshots of the calendar: a projection saved at a log position, so that a starting worker or
an as-of view folds only what came after it.

A snapshot is a cache, never evidence. It is taken only if it was written by this very code
(its code version), if its MAC verifies under a key kept outside the database, and if the log
still holds, at its position, the head hash it was built from. Anything else is refused
(`Unusable`) and the calendar is folded from the log instead. Pure: the key, the log's hash at
the snapshot's position and the bytes are all passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from calendar_core.projection import Calendar
from calendar_core.summit import Attendee, Change, Citation, Place, Status, Summit, part_json
from events.schedule import Schedule
from events.snapshots import Snapshot


class Unusable(ValueError):
    """A snapshot that must not be served: written by other code, altered, or off the log."""


def take(calendar: Calendar, head_hash: str, key: bytes, version: str) -> Snapshot:
    """A snapshot of a calendar whose position has `head_hash` in the log, by code `version`.

    Its body is compressed JSON Lines, written and read a summit at a time: a header, then one
    line per summit in list order (its state, the positions of its first and latest records,
    and its start as the list order has it).
    """
    packer = zlib.compressobj(1)
    header = {"position": calendar.position, "last_recorded_at": calendar.last_recorded_at}
    parts = [packer.compress(orjson.dumps(header) + b"\n")]
    for (start, _), summit_id in calendar.list_order():
        line = [
            _summit_json(calendar.summits[summit_id]),
            calendar.first_at[summit_id],
            calendar.last_at[summit_id],
            start.isoformat(),
        ]
        parts.append(packer.compress(orjson.dumps(line) + b"\n"))
    parts.append(packer.flush())
    body = b"".join(parts)
    mac = _mac(key, calendar.position, head_hash, version, body)
    return Snapshot(calendar.position, head_hash, version, body, mac)


def restore(snapshot: Snapshot, key: bytes, version: str, logged_hash: str | None) -> Calendar:
    """The calendar a snapshot holds; Unusable unless code `version` wrote it, it is untouched,
    and it is on the log (`logged_hash`: the log's hash at the snapshot's position)."""
    if snapshot.code_version != version:
        raise Unusable(f"snapshot at {snapshot.position} was written by other code")
    expected = _mac(
        key, snapshot.position, snapshot.head_hash, snapshot.code_version, snapshot.body
    )
    if not hmac.compare_digest(expected, snapshot.mac):
        raise Unusable(f"snapshot at {snapshot.position} fails its MAC: it was altered")
    if logged_hash != snapshot.head_hash:
        raise Unusable(f"snapshot at {snapshot.position} does not match the log's chain there")
    calendar = _calendar(_lines(snapshot.body))
    if calendar.position != snapshot.position:
        raise Unusable(f"snapshot at {snapshot.position} holds another position")
    return calendar


def _mac(key: bytes, position: int, head_hash: str, version: str, body: bytes) -> bytes:
    signed = hmac.new(key, f"{position}\n{head_hash}\n{version}\n".encode(), hashlib.sha256)
    signed.update(body)
    return signed.digest()


def _lines(body: bytes, block: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a compressed body, decompressed a block at a time."""
    unpacker = zlib.decompressobj()
    pending, rest = body, b""
    while pending:
        *lines, rest = (rest + unpacker.decompress(pending, block)).split(b"\n")
        pending = unpacker.unconsumed_tail
        yield from lines
    yield from (line for line in (rest + unpacker.flush()).split(b"\n") if line)


def _calendar(lines: Iterator[bytes]) -> Calendar:
    header = orjson.loads(next(lines))
    calendar = Calendar()
    calendar.position, calendar.last_recorded_at = header["position"], header["last_recorded_at"]
    order = []
    for line in lines:
        item, first_at, last_at, start = orjson.loads(line)
        summit = _summit(item)
        calendar.put(summit, first_at, last_at)
        order.append(((datetime.fromisoformat(start), summit.summit_id), summit.summit_id))
    calendar.settle(order)
    return calendar


def _summit_json(summit: Summit) -> dict[str, Any]:
    change = summit.last_change
    return {
        "summit_id": summit.summit_id,
        "title": summit.title,
        "kind": summit.kind,
        "status": summit.status.value,
        "schedule": summit.schedule.model_dump(),
        "location": part_json(summit.location),
        "participants": [part_json(p) for p in summit.participants],
        "created_at": summit.created_at,
        "updated_at": summit.updated_at,
        "last_change": [change.type, change.recorded_at, change.summary, _source(change.source)],
        "version": summit.version,
        "sequence": summit.sequence,
        "resumes_as": None if summit.resumes_as is None else summit.resumes_as.value,
        "disputed": summit.disputed,
        "description": summit.description,
        "sources": [part_json(s) for s in summit.sources],
        "outcome": summit.outcome,
        "documents": list(summit.documents),
    }


def _source(source: Citation | None) -> dict[str, Any] | None:
    return None if source is None else part_json(source)


def _summit(data: dict[str, Any]) -> Summit:
    # Built without validation (but the Schedule's, which is cheaper than constructing it):
    # the MAC says this code wrote these values from validated ones.
    kind, recorded_at, summary, source = data["last_change"]
    return Summit(
        summit_id=data["summit_id"],
        title=data["title"],
        kind=data["kind"],
        status=Status(data["status"]),
        schedule=Schedule(**data["schedule"]),
        location=Place(**data["location"]),
        participants=tuple(Attendee(**p) for p in data["participants"]),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        last_change=Change(
            kind, recorded_at, summary, None if source is None else Citation(**source)
        ),
        version=data["version"],
        sequence=data["sequence"],
        resumes_as=None if data["resumes_as"] is None else Status(data["resumes_as"]),
        disputed=data["disputed"],
        description=data["description"],
        sources=tuple(Citation(**s) for s in data["sources"]),
        outcome=data["outcome"],
        documents=tuple(data["documents"]),
    )
