"""The recorded event (CONTRACT section 2): canonical JSON, its SHA-256 and the UTC stamp format."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple, overload

import orjson

from events.schema import Event, validate_event_json
from events.upcast import CURRENT_SCHEMA_VERSION, load_event

Row = tuple[Any, ...]

ZERO_HASH = "0" * 64
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z$")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# orjson writes the same bytes as `_CANONICAL` for str, int (64-bit), bool, None, list and dict
# with str keys (tests/events/test_canonical_orjson.py checks it), about ten times faster; it
# writes some floats differently, so it is used only for event data (validated: no floats).
# Subclasses, dataclasses and dates go to `_refuse`, so `plain_json` gives up on them.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_dumps = orjson.dumps
_EncodeError = orjson.JSONEncodeError
_orjson_loads = orjson.loads
_DecodeError = orjson.JSONDecodeError


def _refuse(obj: Any) -> Any:
    raise TypeError


def _json_module(obj: Any) -> bytes:
    """The canonical form written by the json module (the definition CONTRACT section 2 cites)."""
    return _CANONICAL.encode(obj).encode()


def plain_json(obj: Any) -> bytes | None:
    """`canonical_json` of a value known to hold no floats (validated event data), or None
    when orjson cannot write it the same way (lone surrogates, integers beyond 64 bits...)."""
    try:
        return _dumps(obj, default=_refuse, option=_ORJSON_OPTIONS)
    except _EncodeError:
        return None


def data_json(data: Any) -> str:
    """Canonical JSON text of validated event data (no floats); UnicodeEncodeError for text
    that UTF-8 cannot hold (lone surrogates)."""
    fast = plain_json(data)
    return _json_module(data).decode() if fast is None else fast.decode()


def load_data(text: str | bytes) -> Any:
    """Decode stored event data (JSON text this code wrote) with orjson, which is about twice
    as fast as the json module; text orjson refuses (lone surrogate escapes, NaN) goes to
    the json module. Event data holds no numbers, so orjson's floats for integers beyond
    64 bits never arise."""
    try:
        return _orjson_loads(text)
    except _DecodeError:
        return json.loads(text)


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
"""The keys of a recorded event (CONTRACT section 2), in the order the API shows them."""


def canonical_json(obj: Any) -> bytes:
    """Keys sorted, no insignificant whitespace, UTF-8 with non-ASCII written as is."""
    return _json_module(obj)


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of a record without its `hash` key."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


_text = json.encoder.encode_basestring  # a str as canonical JSON writes it (non-ASCII as is)
_Fragment = orjson.Fragment


def record_json(
    position: int,
    event_id: str,
    summit_id: str,
    version: int,
    type: str,
    schema_version: int,
    recorded_at: str,
    recorded_by: str | None,
    data_json: str,
    prev_hash: str,
) -> bytes:
    """Canonical JSON of a record without `hash`, around `data` already in canonical JSON; the
    arguments come in RECORD_FIELDS order, as a stored row holds them.

    Equal to `canonical_json(fields)`; it saves encoding `data` a second time. orjson writes
    these strings and integers as the json module does (tests/events/test_record_json.py);
    what it refuses (lone surrogates) goes the json module's way, to fail as that does.
    """
    try:
        return _dumps(
            {
                "data": _Fragment(data_json),
                "event_id": event_id,
                "position": position,
                "prev_hash": prev_hash,
                "recorded_at": recorded_at,
                "recorded_by": recorded_by,
                "schema_version": schema_version,
                "summit_id": summit_id,
                "type": type,
                "version": version,
            },
            option=_ORJSON_OPTIONS,
        )
    except _EncodeError:
        pass
    return (
        f'{{"data":{data_json},"event_id":{_text(event_id)},"position":{position:d},'
        f'"prev_hash":{_text(prev_hash)},"recorded_at":{_text(recorded_at)},'
        f'"recorded_by":{"null" if recorded_by is None else _text(recorded_by)},'
        f'"schema_version":{schema_version:d},"summit_id":{_text(summit_id)},'
        f'"type":{_text(type)},"version":{version:d}}}'
    ).encode()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SECOND = 1_000_000


def micros(instant: datetime) -> int:
    """Microseconds since the epoch of an aware instant (the log's `recorded_at_us`)."""
    try:
        return (instant - _EPOCH) // _MICROSECOND
    except TypeError:
        raise ValueError("a recorded time must be timezone-aware") from None


# "YYYY-MM-DDTHH:MM:SS" of the seconds (since the epoch) stamped lately: stamps come in order.
_SECONDS: dict[int, str] = {}


def format_micros(us: int) -> str:
    """The stamp `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` of an instant in microseconds since the epoch."""
    seconds, fraction = divmod(us, _SECOND)
    whole = _SECONDS.get(seconds)
    if whole is None:
        whole = (_EPOCH + timedelta(seconds=seconds)).isoformat()[:-6]  # without "+00:00"
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        _SECONDS[seconds] = whole
    return f"{whole}.{fraction:06d}Z" if fraction else f"{whole}Z"


def format_stamp(instant: datetime) -> str:
    """Write an aware instant as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` in UTC."""
    return format_micros(micros(instant))


# Stamps read lately, each once parsed (feeds and replays read the same ones again).
_PARSED: dict[str, datetime] = {}


def parse_stamp(text: str) -> datetime:
    """Read a `recorded_at` value; only the exact UTC form is accepted."""
    known = _PARSED.get(text)
    if known is not None:
        return known
    if not _STAMP.match(text):
        raise ValueError(f"{text!r} is not a UTC time written YYYY-MM-DDTHH:MM:SS[.ffffff]Z")
    instant = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    if len(_PARSED) >= 4096:
        _PARSED.clear()
    _PARSED[text] = instant
    return instant


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
        return {
            "position": self.position,
            "event_id": self.event_id,
            "summit_id": self.summit_id,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def computed_hash(self) -> str:
        """The hash this record should carry, computed from its other fields."""
        fields = self.fields()
        del fields["hash"]
        return record_hash(fields)

    @cached_property
    def event(self) -> Event:
        """The event, upcast to the current schema and validated."""
        return load_event(self.type, self.schema_version, self.data)

    @cached_property
    def recorded_instant(self) -> datetime:
        """`recorded_at` as an aware UTC datetime."""
        return parse_stamp(self.recorded_at)


class Entry(NamedTuple):
    """A recorded event as a projection reads it: its place in the log and in its summit's
    stream, its type and its data; without the chain's links (a `Recorded` has those)."""

    position: int
    summit_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: str
    data: dict[str, Any]


ENTRY_FIELDS = Entry._fields


class _Decoded:
    """`data` of a record held as text: decoded on first use, then kept in the record."""

    @overload
    def __get__(self, record: None, owner: type[Any]) -> _Decoded: ...
    @overload
    def __get__(self, record: _Sealed, owner: type[Any]) -> dict[str, Any]: ...
    def __get__(self, record: _Sealed | None, owner: type[Any]) -> dict[str, Any] | _Decoded:
        if record is None:
            return self
        value: dict[str, Any] = load_data(record._text)
        record.__dict__["data"] = value
        return value


class _Validated:
    """`event` of a record held as text: validated from the text on first use (upcast from
    the data where it is older), then kept in the record."""

    @overload
    def __get__(self, record: None, owner: type[Any]) -> _Validated: ...
    @overload
    def __get__(self, record: _Sealed, owner: type[Any]) -> Event: ...
    def __get__(self, record: _Sealed | None, owner: type[Any]) -> Event | _Validated:
        if record is None:
            return self
        fields = record.__dict__
        if "data" in fields or record.schema_version != CURRENT_SCHEMA_VERSION:
            event = load_event(record.type, record.schema_version, record.data)
        else:
            event = validate_event_json(record.type, record._text)
        fields["event"] = event
        return event


class _Sealed(tuple, Recorded):  # type: ignore[type-arg]
    """A Recorded that is the row it was read or sealed as (a tuple, its fields read from it as
    a named tuple's are, without the frozen dataclass's slow init) with its `data` as the
    canonical JSON text that was hashed: decoded, and `event` validated from the text, on first
    use. Equal to a Recorded with the same fields; shown as one."""

    _text: str
    data = _Decoded()
    event = _Validated()

    def computed_hash(self) -> str:
        """The hash of the record as held: of its data's text, not a re-encoding."""
        return hashlib.sha256(record_json(*self[:10])).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recorded):
            return NotImplemented
        return self.fields() == other.fields()

    __hash__ = None  # type: ignore[assignment]
    __repr__ = Recorded.__repr__

    def __new__(cls, **fields: Any) -> Recorded:  # type: ignore[misc]
        """What `dataclasses.replace` calls: a plain Recorded with the fields given."""
        return Recorded(**fields)

    def __reduce__(self) -> tuple[Any, ...]:
        return from_row, (tuple(self),)


for _index, _name in enumerate(RECORD_FIELDS):
    setattr(_Sealed, "_text" if _name == "data" else _name, property(itemgetter(_index)))
del _index, _name
_new = tuple.__new__


def from_row(row: Row) -> Recorded:
    """The record of a row of RECORD_FIELDS whose `data` is canonical JSON text (as sealed and
    as stored). Rows are our own: a SELECT of RECORD_FIELDS, or a sealed row (with
    recorded_at_us last)."""
    record: _Sealed = _new(_Sealed, row)
    return record
