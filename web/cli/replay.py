"""`diplocal replay`: the calendar as the log knew it at a recorded time or a position."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from calendar_core.point import BeyondHead, Point, position_of
from calendar_core.projection import Calendar, build
from calendar_core.query import Query, select, summit_json
from web.cli import Context

# The links inside a replayed feed when neither DIPLOCAL_BASE_URL nor a request names a host.
REPLAY_BASE_URL = "http://127.0.0.1:8000"


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time with Z or any offset, as an aware UTC datetime."""
    candidate = text.strip()
    try:
        if len(candidate) < 20 or candidate[10] not in "Tt ":
            raise ValueError
        instant = datetime.fromisoformat(candidate.replace("z", "Z"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an RFC 3339 date-time like 2025-08-13T06:00:00Z"
        ) from None
    if instant.tzinfo is None:
        raise click.BadParameter("needs a UTC offset or Z (like 2025-08-13T06:00:00Z)")
    return instant.astimezone(UTC)


@click.command()
@click.option("--as-of", "as_of", metavar="T", help="Events recorded at or before T (RFC 3339).")
@click.option(
    "--at-position", type=click.IntRange(min=0), metavar="N", help="Events 1..N of the log."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ics"]),
    default="json",
    show_default=True,
    help="json: as GET /api/summits; ics: as GET /calendar.ics.",
)
@click.pass_obj
def replay(ctx: Context, as_of: str | None, at_position: int | None, fmt: str) -> None:
    """Print the calendar as the log knew it then (now, without --as-of or --at-position)."""
    if as_of is not None and at_position is not None:
        raise click.UsageError("give --as-of or --at-position, not both")
    point = Point(at_position, None if as_of is None else parse_instant(as_of))
    store = ctx.store()
    head = store.head()
    try:
        position = position_of(store, point, 0 if head is None else head.position)
    except BeyondHead as error:
        raise click.UsageError(f"--at-position {at_position}: {error}") from None
    calendar = build(store.read(until=position))
    query = Query()
    if fmt == "json":
        _write_json(calendar, query)
        return
    from calendar_core.ical import FeedOptions, FeedRenderer
    from web.config import from_os, read_uid_domain

    try:
        settings = from_os(None)
        uid_domain, note = read_uid_domain(store, settings)
    except ValueError as error:  # a setting that is not one (UidDomainError among them)
        raise click.ClickException(str(error)) from None
    if note is not None:
        click.echo(f"note: {note}", err=True)
    renderer = FeedRenderer(
        FeedOptions(
            name=str(settings["FEED_NAME"]),
            uid_domain=uid_domain,
            base_url=str(settings["BASE_URL"] or settings["FEED_BASE_URL"] or REPLAY_BASE_URL),
        )
    )
    body = renderer.feed(select(calendar, query), last_modified=calendar.last_recorded_at)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()


def _write_json(calendar: Calendar, query: Query) -> None:
    """`GET /api/summits`'s object, one summit per line, written as it goes."""
    out = sys.stdout
    out.write(f'{{"position": {calendar.position}, "summits": [')
    for number, summit in enumerate(select(calendar, query)):
        out.write(",\n" if number else "\n")
        out.write(json.dumps(summit_json(summit), ensure_ascii=False))
    out.write("\n]}\n")
    out.flush()


COMMANDS: list[click.Command] = [replay]
