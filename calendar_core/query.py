"""Filtering the calendar (country, kind, status) and its JSON form (CONTRACT section 5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import pycountry

from calendar_core.projection import Calendar
from calendar_core.summit import Status, Summit, part_json
from events.schedule import ScheduleError, utc_bounds
from events.schema import KINDS

STATUSES: tuple[str, ...] = tuple(s.value for s in Status if s is not Status.RETRACTED)


@lru_cache(maxsize=512)
def _is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


def _values(params: Mapping[str, Iterable[str] | str], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)  # a MultiDict's .get gives only the first value
    raw = getlist(name) if getlist is not None else params.get(name, ())
    items = [raw] if isinstance(raw, str) else list(raw)
    return [v.strip() for item in items for v in item.split(",") if v.strip()]


@dataclass(frozen=True)
class Query:
    """Filters; an empty set means "any". Countries match a participant's or the host's."""

    countries: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    statuses: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, params: Mapping[str, Iterable[str] | str]) -> Query:
        """From `country`, `kind`, `status` lists (commas allowed); ValueError names the bad one."""
        countries = [c.upper() for c in _values(params, "country")]
        for code in countries:
            if len(code) != 2 or not code.isalpha() or not _is_country(code):
                raise ValueError(f"country: {code!r} is not an ISO 3166-1 alpha-2 code (like KR)")
        kinds = _values(params, "kind")
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
        statuses = _values(params, "status")
        for status in statuses:
            if status not in STATUSES:
                raise ValueError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
        return cls(frozenset(countries), frozenset(kinds), frozenset(statuses))

    def key(self) -> tuple[tuple[str, ...], ...]:
        """A canonical, hashable form: the same filters give the same key."""
        return tuple(tuple(sorted(values)) for values in self._by_name().values())

    def params(self) -> list[tuple[str, str]]:
        """The canonical URL query of these filters (names repeated, values sorted)."""
        return [
            (name, value) for name, values in self._by_name().items() for value in sorted(values)
        ]

    def _by_name(self) -> dict[str, frozenset[str]]:
        return {"country": self.countries, "kind": self.kinds, "status": self.statuses}

    def matches(self, summit: Summit) -> bool:
        """True if the summit passes every filter (retracted summits never do)."""
        if summit.status == Status.RETRACTED:
            return False
        if self.kinds and summit.kind not in self.kinds:
            return False
        if self.statuses and summit.status not in self.statuses:
            return False
        if self.countries:
            if summit.location.country in self.countries:
                return True
            return any(p.country in self.countries for p in summit.participants)
        return True


def select(calendar: Calendar, query: Query) -> list[Summit]:
    """The summits a query picks, without retracted ones, by start then summit_id."""
    return [summit for summit in calendar.ordered() if query.matches(summit)]


def _utc_text(instant: datetime | None) -> str | None:
    return None if instant is None else instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def summit_json(summit: Summit) -> dict[str, Any]:
    """The API's summit object."""
    try:
        start, end = utc_bounds(summit.schedule, summit.location.timezone)
    except ScheduleError:  # the tz database changed under a recorded time
        start, end = None, None
    precision = summit.schedule.precision
    change = summit.last_change
    return {
        "summit_id": summit.summit_id,
        "title": summit.title,
        "kind": summit.kind,
        "status": str(summit.status),
        "disputed": summit.disputed,
        "schedule": summit.schedule.model_dump(exclude_none=True),
        "precision": precision,
        "date_to_be_set": precision in ("year", "month"),
        "start_utc": _utc_text(start),
        "end_utc": _utc_text(end),
        "location": part_json(summit.location, nulls=False),
        "participants": [part_json(p, nulls=False) for p in summit.participants],
        "description": summit.description,
        "sources": [part_json(s, nulls=False) for s in summit.sources],
        "outcome": summit.outcome,
        "documents": list(summit.documents),
        "version": summit.version,
        "sequence": summit.sequence,
        "created_at": summit.created_at,
        "updated_at": summit.updated_at,
        "last_change": {
            "type": change.type,
            "recorded_at": change.recorded_at,
            "summary": change.summary,
            "source": None if change.source is None else part_json(change.source, nulls=False),
        },
    }


def calendar_json(calendar: Calendar, query: Query) -> dict[str, Any]:
    """`{"position": n, "summits": [...]}` as `GET /api/summits` answers."""
    return {
        "position": calendar.position,
        "summits": [summit_json(s) for s in select(calendar, query)],
    }
