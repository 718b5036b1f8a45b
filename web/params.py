"""Query parameters shared by the feed, the API and the page: filters, numbers, the point."""

from __future__ import annotations

import re
from datetime import datetime

from werkzeug.datastructures import MultiDict

from calendar_core.point import BeyondHead, Point
from calendar_core.query import Query
from web.live import LiveCalendar, View
from web.problems import invalid

LARGEST = (1 << 63) - 1  # what every store can hold as a position or a count
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def whole_number(text: str, name: str, minimum: int = 0) -> int:
    """A parameter written as ASCII digits, from `minimum` to 2^63-1; 422 naming it otherwise."""
    value = int(text) if _DIGITS.fullmatch(text) else None
    if value is None or not minimum <= value <= LARGEST:
        raise invalid(name, f"{text[:40]!r} is not a whole number from {minimum} to {LARGEST}")
    return value


def page_limit(args: MultiDict[str, str], cap: int, default: int) -> int:
    """`limit`, a page's length: a whole number from 1, held to `cap` (EVENTS_PAGE_LIMIT);
    `default` (held too) when absent."""
    raw = args.get("limit")
    return min(default if raw is None else whole_number(raw, "limit", 1), cap)


def parse_query(args: MultiDict[str, str]) -> Query:
    """Filters `country` (repeatable), `kind`, `status`, checked by the domain; 422 naming one."""
    try:
        return Query.parse(args)
    except ValueError as error:
        name, _, message = str(error).partition(": ")
        raise invalid(name, message) from None


def parse_instant(text: str, name: str) -> datetime:
    """An RFC 3339 date-time with an offset or Z; 422 naming the parameter otherwise."""
    # an unencoded "+" in a query string arrives as a space: read "...T10:00:00 09:00" as +09:00
    candidate = re.sub(
        r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$", r"\1+\2", text.strip(), flags=re.A
    )
    try:
        if len(candidate) < 20 or candidate[10] not in "Tt " or not candidate.isascii():
            raise ValueError
        instant = datetime.fromisoformat(candidate.replace("z", "Z"))
    except ValueError:
        raise invalid(
            name, f"{text[:40]!r} is not an RFC 3339 date-time like 2025-08-13T06:00:00Z"
        ) from None
    if instant.tzinfo is None:
        raise invalid(name, "needs a UTC offset or Z (like 2025-08-13T06:00:00Z)")
    return instant


def parse_point(args: MultiDict[str, str]) -> Point:
    """`as_of` (RFC 3339) or `at_position` (integer >= 0), not both."""
    as_of, at_position = args.get("as_of"), args.get("at_position")
    if as_of is not None and at_position is not None:
        raise invalid("as_of", "give as_of or at_position, not both")
    if at_position is not None:
        return Point(at_position=whole_number(at_position, "at_position"))
    if as_of is not None:
        return Point(as_of=parse_instant(as_of, "as_of"))
    return Point()


def resolve(live: LiveCalendar, point: Point) -> View:
    """The view a point names (call with the live lock held); 422 beyond the head."""
    try:
        return live.view(point)
    except BeyondHead as error:
        raise invalid("at_position", str(error)) from None
