"""A recorded event (CONTRACT section 2): its fields, canonical JSON, hash and UTC stamp."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from events.schema import Event
from events.upcast import CURRENT_SCHEMA_VERSION, load_event

ZERO_HASH = "0" * 64
RECORD_FIELDS = (
    "position",
    "event_id",
    "summit_id",
    "version",
    "type",
    "schema_version",
    "recorded_at",
    "recorded_by",
    "data",
    "prev_hash",
    "hash",
)
"""The keys of a recorded event, in the order the API shows them."""

_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z", re.A)
_REFERENCE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_FAST = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME


def canonical_json(obj: Any) -> bytes:
    """CONTRACT section 2's canonical JSON, written by the json module it cites: the reference."""
    return _REFERENCE.encode(obj).encode()


def _refuse(obj: Any) -> Any:
    raise TypeError(f"{type(obj).__name__} has no canonical JSON form here")


def fast_canonical_json(obj: Any) -> bytes:
    """`canonical_json` by orjson, for sealing records: the same bytes for what records hold
    (strings, 64-bit integers, booleans, null, lists, objects: never floats, which validation
    refuses; tests/events hold the two encoders together, and `verify` re-hashes with the
    reference). What orjson refuses (lone surrogates, huge integers) goes to the reference."""
    try:
        return orjson.dumps(obj, default=_refuse, option=_FAST)
    except orjson.JSONEncodeError:
        return canonical_json(obj)


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 hex of the reference canonical JSON of a record without its `hash` key."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def new_event_id() -> str:
    """A fresh random event id (a version 4 UUID)."""
    return str(uuid.uuid4())


def format_stamp(instant: datetime) -> str:
    """Write an aware instant as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` in UTC."""
    if instant.tzinfo is None:
        raise ValueError("a recorded time must be timezone-aware")
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def parse_stamp(text: str) -> datetime:
    """Read a `recorded_at` value; only the exact UTC form is accepted."""
    if not _STAMP.fullmatch(text):
        raise ValueError(f"{text!r} is not a UTC time written YYYY-MM-DDTHH:MM:SS[.ffffff]Z")
    return datetime.fromisoformat(text)  # the trailing Z reads as UTC


@dataclass(frozen=True)
class Claimed:
    """What an imported line says about its own place in the log; checked, never trusted."""

    position: int | None = None
    version: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class Draft:
    """An event ready to be sealed into the log: its stream, type and data (validated), and
    what the writer says about it."""

    summit_id: str
    type: str
    data: dict[str, Any]
    event_id: str = field(default_factory=new_event_id)
    schema_version: int = CURRENT_SCHEMA_VERSION
    recorded_by: str | None = None
    recorded_at: str | None = None  # imports only; otherwise the log's clock decides
    claimed: Claimed | None = None

    def same_content(self, other: Recorded | Draft | bytes) -> bool:
        """Whether a record, an earlier draft or its fingerprint holds this very event: the
        one comparison that makes a resent event_id a safe retry rather than a reuse."""
        theirs = other if isinstance(other, bytes) else fingerprint(other)
        return fingerprint(self) == theirs


def fingerprint(event: Recorded | Draft) -> bytes:
    """A digest of what makes an event the same event: its summit, type, version and data."""
    content = [event.summit_id, event.type, event.schema_version, event.data]
    return hashlib.blake2b(fast_canonical_json(content), digest_size=16).digest()


@dataclass(frozen=True)
class Recorded:
    """One event as the log holds it, with its place in the log and in its summit's stream."""

    position: int
    event_id: str
    summit_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: str
    recorded_by: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        """The record as a JSON object (the export and API form)."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def computed_hash(self) -> str:
        """The hash this record should carry, by the reference encoder."""
        fields = self.fields()
        del fields["hash"]
        return record_hash(fields)

    @property
    def instant(self) -> datetime:
        """`recorded_at` as an aware UTC datetime."""
        return parse_stamp(self.recorded_at)

    def event(self) -> Event:
        """The stored event, upcast to the current schema (see `stored_event`)."""
        return stored_event(self.type, self.schema_version, self.data)


def stored_event(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """The typed event of stored data: upcast, then validated like a new one.

    Stored data passed validation when it was appended and is covered by the hash chain;
    validating it again (pydantic-core, in Rust) costs less than building the nested models
    by hand, and keeps one way of making an event.
    """
    return load_event(event_type, schema_version, data)
