"""`diplocal import`, `export` and `verify`: the log in and out as JSON Lines, and its audit."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import astuple
from typing import IO, Any, NoReturn

import click
import orjson
from pydantic import ValidationError

from calendar_core.service import ImportCheck
from calendar_core.survey import Survey
from events import (
    Claimed,
    ConcurrencyError,
    Draft,
    EventStore,
    ImportRejected,
    LogError,
    NewEvent,
    canonical_json,
)
from events.record import RECORD_FIELDS, parse_stamp
from events.schema import EVENT_TYPES, SUMMIT_ID_PATTERN, field_errors, is_event_id, is_summit_id
from events.upcast import CURRENT_SCHEMA_VERSION

Item = tuple[int, NewEvent]

_FIELDS = RECORD_FIELDS
_CLAIMS = ("position", "version", "prev_hash", "hash")
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_ONE_LINE = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,300}")
SURVEY_BYTES_PER_BIT = 4  # about 60 bits per event: 1-2% of event_ids kept as maybe repeats


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


def _text(
    record: dict[str, Any], name: str, check: Callable[[str], bool], shape: str
) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not check(value):
        raise ValueError(f"{name}: must be {shape}")
    return value


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def parse_line(line: bytes | str) -> NewEvent:
    """One JSON Lines record (import form) as a validated NewEvent; raises ValueError."""
    try:
        record = _decoded(line)
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
    summit_id = _text(record, "summit_id", is_summit_id, f"a string matching {SUMMIT_ID_PATTERN}")
    event_type = record["type"]
    if event_type not in EVENT_TYPES:
        raise ValueError(f"type: unknown event type {event_type!r}")
    if not isinstance(record["data"], dict):
        raise ValueError("data: must be a JSON object")
    recorded_at = _text(
        record, "recorded_at", _is_stamp, "a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
    )
    claimed = None
    if any(name in record for name in _CLAIMS):
        claimed = Claimed(
            position=_int(record, "position", 1),
            version=_int(record, "version", 1),
            prev_hash=_text(record, "prev_hash", _matches(_HEX64), "64 lower-case hex digits"),
            hash=_text(record, "hash", _matches(_HEX64), "64 lower-case hex digits"),
        )
    version = _int(record, "schema_version", 0)
    assert summit_id is not None
    try:
        return NewEvent.of(
            summit_id,
            event_type,
            record["data"],
            schema_version=CURRENT_SCHEMA_VERSION if version is None else version,
            event_id=_text(record, "event_id", is_event_id, "an id of letters, digits and ._:-"),
            recorded_by=_text(record, "recorded_by", _matches(_ONE_LINE), "one line of text"),
            recorded_at=recorded_at,
            claimed=claimed,
        )
    except ValidationError as error:
        raise ValueError(
            "; ".join(f"data.{field}: {message}" for field, message in field_errors(error))
        ) from None


def _decoded(line: bytes | str) -> Any:
    """A line's JSON: orjson, or the json module for what orjson refuses (escaped lone
    surrogates, which validation then names as the field at fault)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _is_stamp(value: str) -> bool:
    try:
        parse_stamp(value)
    except ValueError:
        return False
    return True


def _numbered(
    lines: Iterable[bytes], progress: Callable[[int], None]
) -> Iterator[tuple[int, bytes]]:
    """The lines that are not blank, with their numbers, each counted as read."""
    for line_no, line in enumerate(lines, start=1):
        progress(len(line))
        if line.strip():
            yield line_no, line


def read_lines(lines: Iterable[bytes], progress: Callable[[int], None]) -> Iterator[Item]:
    """Parse lines one at a time (blank ones skipped), naming the line of any problem."""
    for line_no, line in _numbered(lines, progress):
        try:
            new = parse_line(line)
        except ValueError as error:
            raise ImportRejected(line_no, str(error)) from None
        yield line_no, new


def survey_lines(lines: Iterable[bytes], bits: int, progress: Callable[[int], None]) -> Survey:
    """The import's first pass: each line's summit_id and event_id, read without validation
    (the second pass validates, and names the line of anything amiss)."""
    return Survey.of(_named(lines, progress), bits)


def _named(
    lines: Iterable[bytes], progress: Callable[[int], None]
) -> Iterator[tuple[int, str, str | None]]:
    for line_no, line in _numbered(lines, progress):
        try:
            record = _decoded(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(summit_id := record.get("summit_id"), str):
            event_id = record.get("event_id")
            yield line_no, summit_id, event_id if isinstance(event_id, str) else None


def import_lines(
    store: EventStore, items: Iterable[Item], survey: Survey | None = None
) -> tuple[int, int]:
    """Check every line against the rules, then append the new events in one transaction,
    all or nothing: (added, skipped). A `survey` of the lines (their first pass) keeps the
    checks' memory to the summits still open and the event_ids that may repeat.

    The checks keep state of their own and read the log only before the transaction begins.
    Into an empty log they read nothing at all, so each checked draft goes straight into the
    transaction; into a log with events, the checked drafts wait in a temporary file (memory
    stays flat) and the transaction refuses to begin if another writer moved the head.
    """
    check = ImportCheck(store, survey)
    line_no = 0

    def numbered() -> Iterator[Item]:
        nonlocal line_no
        for item in items:
            line_no = item[0]  # the line of an error raised downstream
            yield item

    if check.head == 0:
        drafts = check.drafts(numbered())
        return _import(store, drafts, check.head, lambda: line_no), check.skipped
    with tempfile.TemporaryFile() as spool:
        for draft in check.drafts(numbered()):
            spool.write(_spooled(line_no, draft))
        spool.seek(0)

        def unspooled() -> Iterator[Draft]:
            nonlocal line_no
            for text in spool:
                line_no, draft = _unspooled(text)
                yield draft

        return _import(store, unspooled(), check.head, lambda: line_no), check.skipped


def _import(store: EventStore, drafts: Iterator[Draft], head: int, line: Callable[[], int]) -> int:
    """Run the import's transaction; a refusal names the line of the draft pulled last."""
    try:
        return store.import_events(drafts, expected_head=head)
    except ConcurrencyError:
        raise LogError("another writer appended during the import; run it again") from None
    except ImportRejected:
        raise
    except LogError as error:
        raise ImportRejected(line(), str(error)) from None


def _spooled(line: int, draft: Draft) -> bytes:
    """A checked draft as one line of the import's temporary file."""
    claimed = None if draft.claimed is None else list(astuple(draft.claimed))
    fields = [draft.summit_id, draft.type, draft.data, draft.event_id, draft.schema_version]
    return orjson.dumps([line, *fields, draft.recorded_by, draft.recorded_at, claimed]) + b"\n"


def _unspooled(text: bytes) -> tuple[int, Draft]:
    """A line of the import's temporary file as (line number, draft)."""
    line, summit_id, kind, data, event_id, version, by, at, claimed = orjson.loads(text)
    claims = None if claimed is None else Claimed(*claimed)
    return line, Draft(summit_id, kind, data, event_id, version, by, at, claims)


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
        if file == "-" or not source.seekable():  # read twice: a copy of stdin or a pipe
            source = stack.enter_context(_copied(source))
        size = os.fstat(source.fileno()).st_size
        progress: Callable[[int], None] = lambda size: None  # noqa: E731
        if file != "-" and sys.stderr.isatty():
            progress = stack.enter_context(_progress_bar(2 * size))  # two passes
        try:
            survey = survey_lines(source, size // SURVEY_BYTES_PER_BIT, progress)
            source.seek(0)
            added, skipped = import_lines(store, read_lines(source, progress), survey)
        except LogError as error:
            _fail(f"{error}; nothing imported")
    click.echo(f"imported {added} events (skipped {skipped} already in the log)")


@contextmanager
def _copied(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """What is left of a stream, in a temporary file that can be read again."""
    with tempfile.TemporaryFile() as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
        copy.seek(0)
        yield copy


@click.command()
@click.option("--until-position", type=click.IntRange(min=0), help="Stop after this position.")
def export(until_position: int | None) -> None:
    """Write the log as JSON Lines (canonical JSON, one record per line)."""
    out = sys.stdout.buffer
    write = out.write
    for record in _store().read(until=until_position):
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
        record = next(store.read(after=position - 1, limit=1), None)
        if record is None:
            _fail(f"expected head not found: the log has no position {position}")
        if record.hash != digest:
            _fail(f"expected head not found: position {position} has hash {record.hash}")
    head = report.head
    summary = "empty log" if head is None else f"head {head.position}:{head.hash}"
    click.echo(f"ok: {report.checked} events, {summary}")


COMMANDS: list[click.Command] = [import_, export, verify]
