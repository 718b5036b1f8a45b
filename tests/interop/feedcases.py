"""Summits for the iCalendar tests: zones on both sides of DST changes, and a generated set."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from calendar_core.ical import DEFAULT_LENGTH, FeedOptions, FeedRenderer
from calendar_core.summit import Attendee, Change, Citation, Place, Status, Summit
from events.schedule import AllDay, Schedule, ScheduleError, Timed, resolve, utc_bounds
from events.schema import KINDS

HERE = Path(__file__).resolve().parent
OPTIONS = FeedOptions(
    name="Summits", uid_domain="diplocal.example", base_url="https://diplocal.example"
)
TRICKY_TITLE = (
    "Lee\u2013Ishiba; trade, chips \\ security\nday two 🇰🇷🤝🇯🇵 이재명 대통령 石破茂首相 会談"
)


def summit(
    summit_id: str,
    start: str,
    end: str | None = None,
    *,
    zone: str = "Asia/Tokyo",
    country: str = "JP",
    status: Status = Status.CONFIRMED,
    title: str | None = None,
    sequence: int = 0,
    version: int = 1,
    updated_at: str = "2025-07-01T09:30:00Z",
    disputed: bool = False,
    city: str | None = "Somewhere",
    kind: str = "bilateral_summit",
) -> Summit:
    """A Summit as the projection would hold it (built directly, no event log needed)."""
    return Summit(
        summit_id=summit_id,
        title=title or f"Summit {summit_id}",
        kind=kind,
        status=status,
        resumes_as=Status.CONFIRMED if status in (Status.CANCELLED, Status.POSTPONED) else None,
        disputed=disputed,
        schedule=Schedule(start=start, end=end),
        location=Place(city=city, country=country, timezone=zone),
        participants=(
            Attendee(name="Lee Jae Myung", country="KR", role="President"),
            Attendee(name="Shigeru Ishiba", country="JP", role="Prime Minister"),
        ),
        description="Talks on trade; security, and the \\ path\nSecond line.",
        sources=(Citation(url="https://example.org/report"),),
        outcome=None,
        documents=(),
        version=version,
        sequence=sequence,
        created_at="2025-06-01T00:00:00Z",
        updated_at=updated_at,
        last_change=Change(
            type="SummitAnnounced",
            recorded_at=updated_at,
            summary="Announced, with a comma, and a; semicolon",
            source=Citation(url="https://example.org/report", publisher="Yonhap"),
        ),
    )


def interop_summits() -> list[Summit]:
    """One summit per tricky case; the feed must place each at the same instant everywhere."""
    return [
        summit("tokyo-2025", "2025-08-23T16:55", "2025-08-23T18:00", title=TRICKY_TITLE),
        summit(
            "ny-before-fallback",
            "2025-10-31T10:00",
            "2025-10-31T12:00",
            zone="America/New_York",
            country="US",
        ),
        summit(
            "ny-after-fallback",
            "2025-11-03T10:00",
            zone="America/New_York",
            country="US",
            status=Status.TENTATIVE,
        ),
        summit(
            "ny-repeated-hour",
            "2025-11-02T01:30-05:00",
            "2025-11-02T03:00",
            zone="America/New_York",
            country="US",
        ),
        summit(
            "ny-after-spring",
            "2025-03-09T03:30",
            "2025-03-09T05:00",
            zone="America/New_York",
            country="US",
        ),
        summit(
            "berlin-spring",
            "2025-03-30T10:00",
            "2025-03-30T11:00",
            zone="Europe/Berlin",
            country="DE",
            status=Status.CANCELLED,
            sequence=3,
        ),
        summit(
            "berlin-autumn",
            "2025-10-26T10:00",
            "2025-10-26T12:00",
            zone="Europe/Berlin",
            country="DE",
            status=Status.POSTPONED,
            sequence=2,
        ),
        summit(
            "edmonton-g7",
            "2025-06-16T09:00",
            "2025-06-16T17:30",
            zone="America/Edmonton",
            country="CA",
            status=Status.COMPLETED,
            sequence=1,
        ),
        summit(
            "lordhowe-before",
            "2025-04-06T00:45",
            "2025-04-06T01:15",
            zone="Australia/Lord_Howe",
            country="AU",
        ),
        summit(
            "lordhowe-after",
            "2025-04-06T02:30",
            "2025-04-06T03:00",
            zone="Australia/Lord_Howe",
            country="AU",
        ),
        summit(
            "lordhowe-spring",
            "2025-10-05T03:00",
            "2025-10-05T04:00",
            zone="Australia/Lord_Howe",
            country="AU",
        ),
        summit(
            "mexico-2022-dst",
            "2022-04-10T10:00",
            "2022-04-10T11:00",
            zone="America/Mexico_City",
            country="MX",
        ),
        summit(
            "mexico-2022-std",
            "2022-11-01T10:00",
            "2022-11-01T11:00",
            zone="America/Mexico_City",
            country="MX",
        ),
        summit(
            "mexico-2025-summer",
            "2025-06-01T10:00",
            "2025-06-01T11:00",
            zone="America/Mexico_City",
            country="MX",
        ),
        summit(
            "seoul-visit",
            "2025-08-25T12:00",
            "2025-08-25T14:00",
            zone="Asia/Seoul",
            country="KR",
            sequence=5,
        ),
        # Instants shown for a default length that a DST change cuts or stretches on the wall.
        summit(
            "berlin-instant-spring",
            "2025-03-30T01:30",
            zone="Europe/Berlin",
            country="DE",
            kind="state_visit",
        ),
        summit("ny-instant-fallback", "2025-11-02T00:30", zone="America/New_York", country="US"),
        # East of Greenwich, a rule ending with UNTIL: Fiji's last DST (until 2020-01-12 03:00).
        summit("fiji-dst-2020", "2020-01-11T10:00", zone="Pacific/Fiji", country="FJ"),
        summit("fiji-std-2020", "2020-01-12T10:00", zone="Pacific/Fiji", country="FJ"),
        summit("state-visit-aug", "2025-08-23", "2025-08-24", zone="Asia/Seoul", country="KR"),
        summit("month-only", "2025-12", zone="Asia/Seoul", country="KR"),
        summit("retracted", "2025-09-01", zone="Asia/Seoul", country="KR", status=Status.RETRACTED),
    ]


ZONES = (
    "Asia/Tokyo",
    "America/New_York",
    "Europe/Berlin",
    "America/Edmonton",
    "Australia/Lord_Howe",
    "America/Mexico_City",
    "Asia/Seoul",
    "Europe/London",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Africa/Cairo",
    "Pacific/Fiji",
    "Asia/Tehran",
    "Africa/Casablanca",
)


def generated_summits(count: int, seed: int = 20250823) -> list[Summit]:
    """`count` valid summits with random zones, times, statuses and precisions."""
    rng = random.Random(seed)
    statuses = [s for s in Status if s is not Status.RETRACTED]
    found: list[Summit] = []
    while len(found) < count:
        day = date(2021, 1, 1) + timedelta(days=rng.randrange(6 * 365))
        zone = rng.choice(ZONES)
        if rng.random() < 0.2:
            start, end = day.isoformat(), (day + timedelta(days=rng.randrange(3))).isoformat()
        else:
            minute = rng.randrange(24 * 60)
            begins = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
            ends = begins + timedelta(minutes=rng.randrange(30, 600))
            start = begins.strftime("%Y-%m-%dT%H:%M")
            end = ends.strftime("%Y-%m-%dT%H:%M") if rng.random() < 0.8 else None
        n = len(found)
        candidate = summit(
            f"gen-{n:05d}",
            start,
            end,
            zone=zone,
            country="KR",
            status=rng.choice(statuses),
            sequence=rng.randrange(5),
            version=1 + rng.randrange(9),
            title=f"Generated summit {n} 회담, 会談; \\ test",
            updated_at=f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
            kind=KINDS[n % len(KINDS)],
        )
        try:
            resolve(candidate.schedule, zone)
        except ScheduleError:
            continue  # a DST gap or repeated hour: the domain refuses those
        found.append(candidate)
    return found


def expected(summits: list[Summit]) -> dict[str, dict[str, Any]]:
    """What every reader must report per UID: UTC instants or dates, status, SEQUENCE.

    A timed summit without an end ends its kind's default length (ical.DEFAULT_LENGTH) later.
    """
    status = {
        Status.TENTATIVE: "TENTATIVE",
        Status.CONFIRMED: "CONFIRMED",
        Status.COMPLETED: "CONFIRMED",
        Status.POSTPONED: "CANCELLED",
        Status.CANCELLED: "CANCELLED",
    }
    result: dict[str, dict[str, Any]] = {}
    for item in summits:
        if item.status is Status.RETRACTED:
            continue
        zone = item.location.timezone
        when = resolve(item.schedule, zone)
        if isinstance(when, Timed):
            start_utc, end_utc = utc_bounds(item.schedule, zone)
            assert start_utc is not None
            if end_utc is None:  # an instant: shown for its kind's default length
                end_utc = start_utc + DEFAULT_LENGTH[item.kind]
            start, end = _z(start_utc), _z(end_utc)
        elif isinstance(when, AllDay):
            start, end = when.first.isoformat(), when.end_exclusive.isoformat()
        else:
            continue
        result[f"{item.summit_id}@{OPTIONS.uid_domain}"] = {
            "start": start,
            "end": end,
            "status": status[item.status],
            "sequence": item.sequence,
        }
    return result


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(summits: list[Summit]) -> bytes:
    """The feed of these summits, from a fresh renderer."""
    return FeedRenderer(OPTIONS).feed(summits, last_modified="2025-07-01T09:30:00Z")


def repeated_runs(text: str, words: int = 6) -> list[str]:
    """Runs of `words` words that a text says more than once (a cut "…" counts as a space)."""
    tokens = text.replace("…", " ").split()
    runs = Counter(" ".join(tokens[i : i + words]) for i in range(len(tokens) - words + 1))
    return [run for run, count in runs.items() if count > 1]
