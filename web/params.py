"""Query parameters shared by the feed, the API and the page: filters and the point in the log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import MultiDict

from calendar_core.query import Query
from web.live import BeyondHead, LiveCalendar, View
from web.problems import Problem, invalid

QueryKey = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Point:
    """Which state of the log to show: the live head, a position, or an instant."""

    at_position: int | None = None
    as_of: datetime | None = None

    @property
    def live(self) -> bool:
        """True when neither as_of nor at_position was asked for."""
        return self.at_position is None and self.as_of is None


def parse_query(args: MultiDict[str, str]) -> Query:
    """Filters `country` (repeatable), `kind`, `status`, checked by the domain; 422 naming one."""
    try:
        return Query.parse(args)
    except ValueError as error:
        name, _, message = str(error).partition(": ")
        raise invalid(name, message) from None


def query_key(query: Query) -> QueryKey:
    """A canonical, hashable form of a query (same filters, same key)."""
    return (
        tuple(sorted(query.countries)),
        tuple(sorted(query.kinds)),
        tuple(sorted(query.statuses)),
    )


def parse_instant(text: str, name: str) -> datetime:
    """An RFC 3339 date-time with an offset or Z; 422 naming the parameter otherwise."""
    # an unencoded "+" in a query string arrives as a space: read "...T10:00:00 09:00" as +09:00
    candidate = re.sub(
        r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$", r"\1+\2", text.strip()
    )
    try:
        if len(candidate) < 20 or candidate[10] not in "Tt ":
            raise ValueError
        instant = datetime.fromisoformat(candidate.replace("z", "Z"))
    except ValueError:
        raise invalid(
            name, f"{text!r} is not an RFC 3339 date-time like 2025-08-13T06:00:00Z"
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
        if not at_position.strip().isdigit():
            raise invalid("at_position", f"{at_position!r} is not a whole number >= 0")
        return Point(at_position=int(at_position))
    if as_of is not None:
        return Point(as_of=parse_instant(as_of, "as_of"))
    return Point()


def resolve(live: LiveCalendar, point: Point) -> View:
    """The view a point names (call with the live lock held); 422 beyond the head."""
    if point.as_of is not None:
        return live.as_of(point.as_of)
    if point.at_position is not None:
        try:
            return live.at(point.at_position)
        except BeyondHead as error:
            raise invalid("at_position", str(error)) from None
    return live.current()


def not_found(what: str) -> Problem:
    """A 404 problem."""
    return Problem(404, "Not Found", what)
