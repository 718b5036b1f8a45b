"""`diplocal import`, `export` and `verify`: the log in and out as JSON Lines, and its audit."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from pydantic import ValidationError

from calendar_core.service import check_import
from events import Claimed, EventStore, ImportRejected, LogError, NewEvent, canonical_json
from events.record import RECORD_FIELDS, parse_stamp
from events.schema import EVENT_TYPES, SUMMIT_ID_PATTERN, field_errors
from events.upcast import CURRENT_SCHEMA_VERSION

Item = tuple[int, str, NewEvent]

_FIELDS = RECORD_FIELDS
_CLAIMS = ("position", "version", "prev_hash", "hash")
_SUMMIT_ID = re.compile(SUMMIT_ID_PATTERN)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _store() -> EventStore:
    store: EventStore = click.get_current_context().find_root().obj.store()
    return store


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def _int(record: dict[str, Any], name: str, minimum: int) -> int | None:
    value = record.get(name)
    if value is None:
        return None
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}")
    return value


def _text(record: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
        raise ValueError(
            f"{name}: must be "
            + (f"a string matching {pattern.pattern}" if pattern else "a non-empty string")
        )
    return value


def parse_line(line: bytes | str) -> tuple[str, NewEvent]:
    """One JSON Lines record (import form) as (summit_id, NewEvent); raises ValueError."""
    try:
        record = json.loads(line)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for name in record:
        if name not in _FIELDS:
            raise ValueError(f"{name}: unknown field")
    for name in ("summit_id", "type", "data"):
        if record.get(name) is None:
            raise ValueError(f"{name}: missing")
    summit_id = _text(record, "summit_id", _SUMMIT_ID)
    event_type = record["type"]
    if event_type not in EVENT_TYPES:
        raise ValueError(f"type: unknown event type {event_type!r}")
    if not isinstance(record["data"], dict):
        raise ValueError("data: must be a JSON object")
    recorded_at = _text(record, "recorded_at")
    if recorded_at is not None:
        try:
            parse_stamp(recorded_at)
        except ValueError as error:
            raise ValueError(f"recorded_at: {error}") from None
    extra: dict[str, Any] = {
        "recorded_by": _text(record, "recorded_by"),
        "recorded_at": recorded_at,
    }
    if any(name in record for name in _CLAIMS):
        extra["claimed"] = Claimed(
            position=_int(record, "position", 1),
            version=_int(record, "version", 1),
            prev_hash=_text(record, "prev_hash", _HEX64),
            hash=_text(record, "hash", _HEX64),
        )
    event_id = _text(record, "event_id")
    if event_id is not None:
        extra["event_id"] = event_id
    version = _int(record, "schema_version", 0)
    try:
        new = NewEvent.of(
            event_type,
            record["data"],
            schema_version=CURRENT_SCHEMA_VERSION if version is None else version,
            **extra,
        )
    except ValidationError as error:
        raise ValueError(
            "; ".join(f"data.{field}: {message}" for field, message in field_errors(error))
        ) from None
    assert summit_id is not None
    return summit_id, new


def read_lines(lines: Iterable[bytes], progress: Callable[[int], None]) -> Iterator[Item]:
    """Parse lines one at a time (blank ones skipped), naming the line of any problem."""
    for line_no, line in enumerate(lines, start=1):
        progress(len(line))
        if not line.strip():
            continue
        try:
            summit_id, new = parse_line(line)
        except ValueError as error:
            raise ImportRejected(line_no, str(error)) from None
        yield line_no, summit_id, new


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int], None]]:
    """A bar on stderr fed with byte counts, redrawn about once per MiB rather than per line."""
    pending = 0
    with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:

        def advance(size: int) -> None:
            nonlocal pending
            pending += size
            if pending >= 1 << 20:
                bar.update(pending)
                pending = 0

        yield advance
        bar.update(pending)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def import_(file: str) -> None:
    """Append JSON Lines events from FILE (or - for stdin): all or nothing."""
    store = _store()
    with ExitStack() as stack:
        if file == "-":
            source: IO[bytes] = sys.stdin.buffer
        else:
            source = stack.enter_context(open(file, "rb"))
        progress: Callable[[int], None] = lambda size: None  # noqa: E731
        if file != "-" and sys.stderr.isatty():
            progress = stack.enter_context(_progress_bar(Path(file).stat().st_size))
        seen, line_no = 0, 0

        def numbered() -> Iterator[Item]:
            nonlocal line_no
            for item in read_lines(source, progress):
                line_no = item[0]
                yield item

        def pairs() -> Iterator[tuple[str, NewEvent]]:
            # Each pair is checked and stored before the next line is read, so an error from
            # the store belongs to the line read last.
            nonlocal seen
            for summit_id, new in check_import(store, numbered()):
                seen += 1
                yield summit_id, new

        try:
            added = store.import_events(pairs())
        except ImportRejected as error:
            _fail(f"{error}; nothing imported")
        except LogError as error:
            _fail(f"line {line_no}: {error}; nothing imported")
    click.echo(f"imported {added} events (skipped {seen - added} already in the log)")


@click.command()
@click.option("--until-position", type=click.IntRange(min=0), help="Stop after this position.")
def export(until_position: int | None) -> None:
    """Write the log as JSON Lines (canonical JSON, one record per line)."""
    out = sys.stdout.buffer
    write = out.write
    for record in _store().iter_log(until_position=until_position):
        write(canonical_json(record.fields()) + b"\n")
    out.flush()


def _expected_head(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[int, str] | None:
    if value is None:
        return None
    position, _, digest = value.partition(":")
    if not position.isdigit() or int(position) < 1 or not _HEX64.fullmatch(digest):
        raise click.BadParameter("expected POS:HASH, a position and a 64-hex hash")
    return int(position), digest


@click.command()
@click.option(
    "--expect-head",
    metavar="POS:HASH",
    callback=_expected_head,
    help="Also fail unless the record at POS has this hash (a known earlier head).",
)
def verify(expect_head: tuple[int, str] | None) -> None:
    """Re-check every hash and link of the log."""
    store = _store()
    report = store.verify()
    if not report.ok:
        _fail(f"first bad position: {report.first_bad_position} ({report.problem})")
    if expect_head is not None:
        position, digest = expect_head
        record = store.at(position)
        if record is None:
            _fail(f"expected head not found: the log has no position {position}")
        if record.hash != digest:
            _fail(f"expected head not found: position {position} has hash {record.hash}")
    head = report.head
    summary = "empty log" if head is None else f"head {head.position} {head.hash}"
    click.echo(f"ok: {report.checked} events, {summary}")


COMMANDS: list[click.Command] = [import_, export, verify]
