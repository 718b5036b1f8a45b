"""Synthetic event logs for bench/scale.py: JSON Lines in import form, cached on disk.

About ten events per summit, interleaved as a desk records them (a pool of open stories, one
picked at random for each event), every event allowed by CONTRACT section 3's status rules,
venues in twenty IANA zones, recorded_at rising over four years; plus one long-running "hot"
summit that collects 5% of the log (at most 50,000 events) for the append row.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from events.schema import KINDS

GENERATOR_VERSION = 3
OPEN_STORIES = 200
FIRST_RECORDED = datetime(2021, 1, 1, tzinfo=UTC)
RECORDED_SPAN = timedelta(days=4 * 365)
HOT_SUMMIT = "hot-standing-conference"

# (country, IANA zone, city): daytime hours only, so no local time falls in a DST gap or overlap.
PLACES = [
    ("JP", "Asia/Tokyo", "Tokyo"),
    ("KR", "Asia/Seoul", "Seoul"),
    ("US", "America/New_York", "Washington"),
    ("FR", "Europe/Paris", "Paris"),
    ("DE", "Europe/Berlin", "Berlin"),
    ("GB", "Europe/London", "London"),
    ("IN", "Asia/Kolkata", "New Delhi"),
    ("BR", "America/Sao_Paulo", "São Paulo"),
    ("ZA", "Africa/Johannesburg", "Pretoria"),
    ("AU", "Australia/Sydney", "Sydney"),
    ("CN", "Asia/Shanghai", "Beijing"),
    ("ID", "Asia/Jakarta", "Jakarta"),
    ("EG", "Africa/Cairo", "Cairo"),
    ("MX", "America/Mexico_City", "Ciudad de México"),
    ("CA", "America/Toronto", "Toronto"),
    ("NZ", "Pacific/Auckland", "Auckland"),
    ("CL", "America/Santiago", "Santiago"),
    ("NP", "Asia/Kathmandu", "Kathmandu"),
    ("MA", "Africa/Casablanca", "Rabat"),
    ("CH", "Europe/Zurich", "Zürich"),
]
COUNTRIES = sorted({country for country, _, _ in PLACES})
STATUSES = ["tentative", "confirmed", "postponed", "cancelled", "completed"]
PUBLISHERS = ["Yonhap", "Kyodo", "AFP", "Reuters", "dpa", "Agência Brasil", "PTI"]
ROLES = ["President", "Prime Minister", "Foreign Minister", "Chancellor", "King"]
ORGANIZATIONS = ["United Nations", "European Union", "African Union", "ASEAN"]


@dataclass(frozen=True)
class LogFile:
    """A generated log on disk and what the benchmark needs to know about it."""

    path: Path
    events: int
    summits: int
    hot_summit: str
    hot_events: int
    first_recorded: datetime
    last_recorded: datetime
    sample_summits: list[str]

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size


@dataclass
class Story:
    """One summit's state as the generator tracks it (enough to keep every event allowed)."""

    summit_id: str
    left: int
    status: str = "tentative"
    before_off: str = "tentative"
    precision: str = "month"
    start: date = date(2021, 1, 1)
    days: int = 1
    place: int = 0
    people: set[str] = field(default_factory=set)
    added: int = 0

    def schedule(self, rng: random.Random) -> dict[str, str]:
        """The schedule in CONTRACT form, from the tracked precision and dates."""
        if self.precision == "month":
            return {"start": self.start.strftime("%Y-%m")}
        if self.precision == "day":
            end = self.start + timedelta(days=self.days - 1)
            return {"start": self.start.isoformat(), "end": end.isoformat()}
        hour = rng.randint(9, 15)
        day = self.start.isoformat()
        return {"start": f"{day}T{hour:02d}:30", "end": f"{day}T{hour + 1:02d}:45"}

    def location(self) -> dict[str, str]:
        """The venue's place (city, country, zone)."""
        country, zone, city = PLACES[self.place]
        return {"city": city, "country": country, "timezone": zone}


def _source(rng: random.Random, summit_id: str) -> dict[str, str]:
    return {
        "url": f"https://news.example.org/{summit_id}/{rng.randrange(10**6)}",
        "publisher": rng.choice(PUBLISHERS),
    }


def _person(rng: random.Random, country: str, serial: int) -> dict[str, str]:
    return {"name": f"Delegate {serial}", "country": country, "role": rng.choice(ROLES)}


def announce(story: Story, rng: random.Random, recorded: datetime) -> dict[str, Any]:
    """The SummitAnnounced data of a new story, a few weeks to a year after it is recorded."""
    story.place = rng.randrange(len(PLACES))
    guest = rng.randrange(len(PLACES))
    host_country = PLACES[story.place][0]
    day = recorded.date() + timedelta(days=rng.randint(10, 360))
    story.start = day.replace(day=min(day.day, 26))
    story.precision = rng.choices(["month", "day", "minute"], [3, 5, 2])[0]
    story.days = rng.choice([1, 1, 2])
    story.status = rng.choices(["tentative", "confirmed"], [7, 3])[0]
    participants = [
        {"name": f"Head of state {host_country}", "country": host_country, "role": "President"},
        {"name": f"Guest {guest}", "country": PLACES[guest][0], "role": rng.choice(ROLES)},
    ]
    if rng.random() < 0.15:
        participants.append(
            {"name": "Secretary-General", "organization": rng.choice(ORGANIZATIONS)}
        )
    story.people = {p["name"] for p in participants}
    data: dict[str, Any] = {
        "title": f"{PLACES[story.place][2]} meeting {story.summit_id}",
        "kind": rng.choice(KINDS),
        "participants": participants,
        "location": story.location(),
        "schedule": story.schedule(rng),
        "status": story.status,
        "source": _source(rng, story.summit_id),
    }
    if rng.random() < 0.5:
        data["description"] = "Talks on trade, security and a joint statement — “in principle”."
    return data


def _refine(story: Story, rng: random.Random) -> dict[str, Any]:
    if story.precision == "month":
        story.start = story.start.replace(day=rng.randint(1, 26))
        story.precision = "day"
    else:
        story.precision, story.days = "minute", 1
    return {"schedule": story.schedule(rng), "source": _source(rng, story.summit_id)}


def _reschedule(story: Story, rng: random.Random) -> dict[str, Any]:
    moved = story.start + timedelta(days=rng.randint(1, 60))
    if moved.day > 26:  # keep day ranges inside a month, and always later than before
        moved = (moved.replace(day=1) + timedelta(days=32)).replace(day=1)
    story.start = moved
    story.precision = rng.choice(["day", "minute"])
    story.days = 1 if story.precision == "minute" else rng.choice([1, 2])
    data: dict[str, Any] = {"schedule": story.schedule(rng), "reason": "Diaries clashed."}
    if rng.random() < 0.2:
        story.place = (story.place + rng.randint(1, len(PLACES) - 1)) % len(PLACES)
        data["location"] = story.location()
    if story.status in ("postponed", "cancelled"):
        story.status = story.before_off
    return data


def _participants(story: Story, rng: random.Random) -> dict[str, Any]:
    story.added += 1
    person = _person(rng, PLACES[rng.randrange(len(PLACES))][0], story.added)
    data: dict[str, Any] = {"added": [person], "withdrawn": []}
    story.people.add(person["name"])
    return data


def _amend(story: Story, rng: random.Random) -> dict[str, Any]:
    which = rng.choice(["title", "venue", "description", "kind"])
    value = {
        "title": f"{PLACES[story.place][2]} talks {story.summit_id} ({rng.randrange(1000)})",
        "venue": f"Guest house {rng.randrange(100)}",
        "description": "Agenda revised after the sherpas met.",
        "kind": rng.choice(KINDS),
    }[which]
    return {which: value}


def follow_up(story: Story, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The story's next event, chosen among those its status allows."""
    active = story.status in ("tentative", "confirmed")
    last = story.left == 1
    if last and active and rng.random() < 0.35:
        story.status = "completed"
        return "SummitCompleted", {"outcome": "A joint statement.", "documents": []}
    choices: list[tuple[str, float]] = [
        ("SummitNoted", 25),
        ("ParticipantsChanged", 12),
        ("DetailsAmended", 10),
    ]
    if active:
        choices += [("SummitRescheduled", 8), ("SummitPostponed", 2), ("SummitCancelled", 1.5)]
        if story.precision != "minute":
            choices.append(("ScheduleRefined", 25))
    if story.status == "tentative":
        choices.append(("SummitConfirmed", 20))
    if story.status in ("postponed", "cancelled"):
        choices.append(("SummitRescheduled", 30))
    kind = rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
    if kind == "SummitNoted":
        data: dict[str, Any] = {"note": "Officials say preparations continue."}
        if rng.random() < 0.1:
            data["disputed"] = rng.random() < 0.5
        return kind, data
    if kind == "ParticipantsChanged":
        return kind, _participants(story, rng)
    if kind == "DetailsAmended":
        return kind, _amend(story, rng)
    if kind == "ScheduleRefined":
        return kind, _refine(story, rng)
    if kind == "SummitRescheduled":
        return kind, _reschedule(story, rng)
    if kind == "SummitConfirmed":
        story.status = "confirmed"
        return kind, {"source": _source(rng, story.summit_id)}
    story.before_off = story.status
    story.status = "postponed" if kind == "SummitPostponed" else "cancelled"
    return kind, {"reason": "Domestic politics."}


def _hot_event(story: Story, rng: random.Random, recorded: datetime) -> tuple[str, dict[str, Any]]:
    if story.left < 0:  # not announced yet
        story.left = 0
        story.start = date(2027, 6, 1)
        story.precision, story.status = "month", "confirmed"
        return "SummitAnnounced", {
            "title": "Standing conference on the Korean Peninsula",
            "kind": "multilateral_summit",
            "participants": [{"name": "Chair", "organization": "United Nations"}],
            "location": {"city": "Geneva", "country": "CH", "timezone": "Europe/Zurich"},
            "schedule": {"start": "2027-06"},
            "status": "confirmed",
        }
    if rng.random() < 0.8:
        return "SummitNoted", {"note": f"Session report {recorded:%Y-%m-%d %H:%M}."}
    return "DetailsAmended", {"description": f"Agenda as of {recorded:%Y-%m-%d}."}


def generate(path: Path, events: int, seed: int = 1) -> LogFile:
    """Write `events` JSON Lines to path (via a temporary name) and describe the log."""
    rng = random.Random(seed * 1_000_003 + events)
    hot_total = min(50_000, events // 20)
    step = RECORDED_SPAN / events
    stride = events // hot_total if hot_total else 0
    stories: list[Story] = []
    summits, hot_done = 0, 0
    hot = Story(HOT_SUMMIT, left=-1)
    sample: list[str] = []
    partial = path.with_suffix(".partial")
    recorded = FIRST_RECORDED
    with partial.open("w", encoding="utf-8") as out:
        for n in range(events):
            recorded = FIRST_RECORDED + step * n
            recorded = recorded.replace(microsecond=0)
            if hot_total and n % stride == 0 and hot_done < hot_total:
                summit_id = HOT_SUMMIT
                event_type, data = _hot_event(hot, rng, recorded)
                hot_done += 1
            else:
                if len(stories) < OPEN_STORIES:
                    summits += 1
                    story = Story(f"s{summits:07d}", left=rng.randint(7, 13))
                    stories.append(story)
                    event_type, data = "SummitAnnounced", announce(story, rng, recorded)
                    if len(sample) < 1000 and rng.random() < 0.05:
                        sample.append(story.summit_id)
                else:
                    story = stories[rng.randrange(len(stories))]
                    event_type, data = follow_up(story, rng)
                story.left -= 1
                if story.left <= 0:
                    stories.remove(story)
                summit_id = story.summit_id
            line = {
                "summit_id": summit_id,
                "type": event_type,
                "recorded_at": recorded.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "recorded_by": "desk",
                "data": data,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    log = LogFile(
        path=path,
        events=events,
        summits=summits + (1 if hot_done else 0),
        hot_summit=HOT_SUMMIT,
        hot_events=hot_done,
        first_recorded=FIRST_RECORDED,
        last_recorded=recorded,
        sample_summits=sample,
    )
    partial.replace(path)
    _manifest(path).write_text(json.dumps(_describe(log)))
    return log


def _manifest(path: Path) -> Path:
    return path.with_suffix(".manifest.json")


def _describe(log: LogFile) -> dict[str, Any]:
    return {
        "events": log.events,
        "summits": log.summits,
        "hot_summit": log.hot_summit,
        "hot_events": log.hot_events,
        "first_recorded": log.first_recorded.isoformat(),
        "last_recorded": log.last_recorded.isoformat(),
        "sample_summits": log.sample_summits,
    }


def cached(work: Path, events: int) -> tuple[LogFile, bool]:
    """The log of `events` events under work/, generated unless a previous run left it."""
    path = work / f"events-{events}-g{GENERATOR_VERSION}.jsonl"
    manifest = _manifest(path)
    if path.exists() and manifest.exists():
        meta = json.loads(manifest.read_text())
        meta["first_recorded"] = datetime.fromisoformat(meta["first_recorded"])
        meta["last_recorded"] = datetime.fromisoformat(meta["last_recorded"])
        return LogFile(path, **meta), True
    work.mkdir(parents=True, exist_ok=True)
    return generate(path, events), False
