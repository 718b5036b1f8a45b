"""What each event type means to a summit: when it may happen, what it changes, how it reads.

Every event type of `events.schema` has its whole story here, in one class: the statuses it
may follow (and the editor's message when it may not), its other checks, its effect on the
summit, and its one-line summary. `meaning_of` picks the class with `match`, ending in
`assert_never`, so mypy fails when an event type has no meaning; `decide` and `evolve` are
the only ways in. Adding an event type: docs/event-types.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, TypeVar, assert_never

from calendar_core.summit import (
    ACTIVE,
    OFF,
    Attendee,
    Change,
    Citation,
    Place,
    Status,
    Summit,
    participant_key,
)
from events.schedule import is_refinement, resolve
from events.schema import (
    DetailsAmended,
    EntryRetracted,
    Event,
    Location,
    Participant,
    ParticipantsChanged,
    ScheduleRefined,
    SummitAnnounced,
    SummitCancelled,
    SummitCompleted,
    SummitConfirmed,
    SummitNoted,
    SummitPostponed,
    SummitRescheduled,
)

E = TypeVar("E", bound=Event)
SUMMARY_LIMIT = 200


class Refused(Exception):
    """An event the calendar's rules do not allow now (HTTP 409); nothing is appended."""


class UnknownSummit(LookupError):
    """An event for a summit that was never announced (HTTP 404)."""

    def __init__(self, summit_id: str) -> None:
        super().__init__(f"no summit {summit_id!r}: announce it first")
        self.summit_id = summit_id


@dataclass(frozen=True)
class Effect:
    """What an event does to a summit: the fields it sets, its new status (if it sets one),
    and whether it moves the summit in time or place (the feed's SEQUENCE grows). `evolve`
    applies it with the bookkeeping every event shares, in one `replace`."""

    changes: dict[str, Any] = field(default_factory=dict)
    status: Status | None = None
    moved: bool = False


class Meaning(Generic[E]):
    """One event type's story. Subclasses set `follows` and override what applies to them."""

    follows: ClassVar[frozenset[Status] | None] = None  # None: any status but retracted
    verb: ClassVar[str] = ""  # "cannot {verb} x: ..."
    leads_to: ClassVar[Status | None] = None  # the status it sets, if any
    label: ClassVar[str] = ""  # how the page's history names it

    def check(self, summit: Summit, event: E) -> None:
        """Refuse an event the summit's state does not allow (besides its status)."""

    def apply(self, summit: Summit, event: E) -> Effect:
        """What the event changes."""
        return Effect(status=self.leads_to)

    def summary(self, event: E) -> str:
        """One line telling what the event changed."""
        return self.label


class Announced(Meaning[SummitAnnounced]):
    """A summit becomes known (handled by `evolve` and `decide` before any state exists)."""

    label = "Announced"

    def check(self, summit: Summit, event: SummitAnnounced) -> None:
        raise Refused(
            f"cannot announce {summit.summit_id}: it was announced already; pick a new id"
        )

    def apply(self, summit: Summit, event: SummitAnnounced) -> Effect:
        raise Refused(f"{summit.summit_id} was announced already")

    def summary(self, event: SummitAnnounced) -> str:
        return f"Announced ({event.status})"

    @staticmethod
    def create(event: SummitAnnounced, summit_id: str, recorded_at: str) -> Summit:
        """The summit an announcement creates."""
        source = None if event.source is None else Citation.of(event.source)
        return Summit(
            summit_id=summit_id,
            title=event.title,
            kind=event.kind,
            status=Status(event.status),
            schedule=event.schedule,
            location=Place.of(event.location),
            participants=tuple(Attendee.of(p) for p in event.participants),
            description=event.description,
            created_at=recorded_at,
            updated_at=recorded_at,
            last_change=Change(event.type, recorded_at, ANNOUNCED.summary(event), source),
            sources=() if source is None else (source,),
        )


class Confirmed(Meaning[SummitConfirmed]):
    """A tentative summit is confirmed."""

    follows = frozenset({Status.TENTATIVE})
    verb, leads_to, label = "confirm", Status.CONFIRMED, "Confirmed"


class Refined(Meaning[ScheduleRefined]):
    """A narrower or finer schedule inside the current window."""

    follows = ACTIVE
    verb, label = "refine the schedule of", "Schedule refined"

    def check(self, summit: Summit, event: ScheduleRefined) -> None:
        resolve(event.schedule, summit.location.timezone)
        if is_refinement(summit.schedule, event.schedule):
            return
        current, wanted = summit.schedule.describe(), event.schedule.describe()
        if event.schedule == summit.schedule:
            raise Refused(
                f"cannot refine {summit.summit_id}: it is already scheduled for {current}"
            )
        raise Refused(
            f"cannot refine {summit.summit_id} from {current} to {wanted}: a refinement must lie"
            f" inside {current} and be narrower or more precise; use SummitRescheduled to move it"
        )

    def apply(self, summit: Summit, event: ScheduleRefined) -> Effect:
        return Effect({"schedule": event.schedule}, moved=True)

    def summary(self, event: ScheduleRefined) -> str:
        return f"Schedule refined to {event.schedule.describe()}"


class Rescheduled(Meaning[SummitRescheduled]):
    """Moved in time or place; brings a postponed or cancelled summit back."""

    follows = ACTIVE | OFF
    verb, label = "reschedule", "Rescheduled"

    def check(self, summit: Summit, event: SummitRescheduled) -> None:
        zone = (event.location or summit.location).timezone
        resolve(event.schedule or summit.schedule, zone)
        if summit.status not in ACTIVE:
            return  # a reinstatement may keep the old date and place
        same_time = event.schedule in (None, summit.schedule)
        same_place = event.location is None or Place.of(event.location) == summit.location
        if same_time and same_place:
            raise Refused(
                f"cannot reschedule {summit.summit_id}: it is already set for"
                f" {summit.schedule.describe()} at that place; nothing would move"
            )

    def apply(self, summit: Summit, event: SummitRescheduled) -> Effect:
        changes: dict[str, Any] = {}
        if event.schedule is not None:
            changes["schedule"] = event.schedule
        if event.location is not None:
            changes["location"] = Place.of(event.location)
        status = (summit.resumes_as or Status.TENTATIVE) if summit.status in OFF else None
        return Effect(changes, status, moved=True)

    def summary(self, event: SummitRescheduled) -> str:
        parts = ["Rescheduled"]
        if event.schedule is not None:
            parts.append(f"to {event.schedule.describe()}")
        if event.location is not None:
            parts.append(f"in {_place(event.location)}")
        return _because(" ".join(parts), event.reason)


class ParticipantsMoved(Meaning[ParticipantsChanged]):
    """Who attends changed."""

    label = "Participants changed"

    def check(self, summit: Summit, event: ParticipantsChanged) -> None:
        present = {participant_key(p) for p in summit.participants}
        for person in event.withdrawn:
            key = participant_key(person)
            if key not in present:
                raise Refused(
                    f"cannot withdraw {person.name} from {summit.summit_id}: not attending"
                )
            present.discard(key)
        for person in event.added:
            key = participant_key(person)
            if key in present:
                raise Refused(f"cannot add {person.name} to {summit.summit_id}: already attending")
            present.add(key)
        if not present:
            raise Refused(
                f"cannot withdraw everyone from {summit.summit_id}: a summit needs a participant"
            )

    def apply(self, summit: Summit, event: ParticipantsChanged) -> Effect:
        gone = {participant_key(p) for p in event.withdrawn}
        kept = tuple(p for p in summit.participants if participant_key(p) not in gone)
        return Effect({"participants": kept + tuple(Attendee.of(p) for p in event.added)})

    def summary(self, event: ParticipantsChanged) -> str:
        said = []
        if event.added:
            said.append(f"added {_who(event.added)}")
        if event.withdrawn:
            said.append(f"withdrawn {_who(event.withdrawn)}")
        return one_line("Participants " + "; ".join(said))


class Postponed(Meaning[SummitPostponed]):
    """Off, with no new date yet."""

    follows = ACTIVE
    verb, leads_to, label = "postpone", Status.POSTPONED, "Postponed"

    def summary(self, event: SummitPostponed) -> str:
        return _because("Postponed", event.reason)


class Cancelled(Meaning[SummitCancelled]):
    """Off."""

    follows = ACTIVE | {Status.POSTPONED}
    verb, leads_to, label = "cancel", Status.CANCELLED, "Cancelled"

    def summary(self, event: SummitCancelled) -> str:
        return _because("Cancelled", event.reason)


class Completed(Meaning[SummitCompleted]):
    """Held; its schedule says what actually happened, if that differed."""

    follows = ACTIVE
    verb, leads_to, label = "complete", Status.COMPLETED, "Held"

    def check(self, summit: Summit, event: SummitCompleted) -> None:
        if event.schedule is not None:
            resolve(event.schedule, summit.location.timezone)

    def apply(self, summit: Summit, event: SummitCompleted) -> Effect:
        changes: dict[str, Any] = {}
        if event.schedule is not None:
            changes["schedule"] = event.schedule
        if event.outcome is not None:
            changes["outcome"] = event.outcome
        if event.documents is not None:
            changes["documents"] = tuple(event.documents)
        return Effect(changes, Status.COMPLETED)

    def summary(self, event: SummitCompleted) -> str:
        text = "Held" if event.schedule is None else f"Held {event.schedule.describe()}"
        return text if event.outcome is None else f"{text}; outcome recorded"


class Amended(Meaning[DetailsAmended]):
    """Details corrected; a new venue is a change of place."""

    label = "Details amended"

    def apply(self, summit: Summit, event: DetailsAmended) -> Effect:
        changes: dict[str, Any] = {
            name: getattr(event, name)
            for name in ("title", "kind", "description")
            if getattr(event, name) is not None
        }
        venue_moves = event.venue is not None and event.venue != summit.location.venue
        if venue_moves:
            changes["location"] = replace(summit.location, venue=event.venue)
        return Effect(changes, moved=venue_moves)

    def summary(self, event: DetailsAmended) -> str:
        named = [name for name in ("title", "kind", "description", "venue") if getattr(event, name)]
        return "Details amended: " + ", ".join(named)


class Noted(Meaning[SummitNoted]):
    """A report that changes nothing by itself; it may mark the summit disputed."""

    label = "Noted"

    def apply(self, summit: Summit, event: SummitNoted) -> Effect:
        return Effect({} if event.disputed is None else {"disputed": event.disputed})

    def summary(self, event: SummitNoted) -> str:
        return one_line(f"{'Disputed' if event.disputed else 'Noted'}: {event.note}")


class Retracted(Meaning[EntryRetracted]):
    """The entry was wrong: it never was a real summit."""

    leads_to, label = Status.RETRACTED, "Retracted"

    def summary(self, event: EntryRetracted) -> str:
        return _because("Retracted", event.reason)


ANNOUNCED = Announced()
_CONFIRMED, _REFINED, _RESCHEDULED = Confirmed(), Refined(), Rescheduled()
_PARTICIPANTS, _POSTPONED, _CANCELLED = ParticipantsMoved(), Postponed(), Cancelled()
_COMPLETED, _AMENDED, _NOTED, _RETRACTED = Completed(), Amended(), Noted(), Retracted()


def meaning_of(event: Event) -> Meaning[Any]:
    """The story of an event's type (mypy fails here when a type has none)."""
    match event:
        case SummitAnnounced():
            return ANNOUNCED
        case SummitConfirmed():
            return _CONFIRMED
        case ScheduleRefined():
            return _REFINED
        case SummitRescheduled():
            return _RESCHEDULED
        case ParticipantsChanged():
            return _PARTICIPANTS
        case SummitPostponed():
            return _POSTPONED
        case SummitCancelled():
            return _CANCELLED
        case SummitCompleted():
            return _COMPLETED
        case DetailsAmended():
            return _AMENDED
        case SummitNoted():
            return _NOTED
        case EntryRetracted():
            return _RETRACTED
        case _:
            assert_never(event)


def decide(summit: Summit | None, event: Event, *, summit_id: str) -> None:
    """Allow an event for a summit in this state, or raise Refused, UnknownSummit or
    ScheduleError (local times the zone that will apply cannot place: invalid data)."""
    if summit is None:
        if not isinstance(event, SummitAnnounced):
            raise UnknownSummit(summit_id)
        resolve(event.schedule, event.location.timezone)
        return
    if summit.status is Status.RETRACTED:
        raise Refused(f"{summit_id} was retracted: nothing can be recorded after EntryRetracted")
    meaning = meaning_of(event)
    if meaning.follows is not None and summit.status not in meaning.follows:
        raise Refused(_not_now(meaning, summit))
    meaning.check(summit, event)


def _not_now(meaning: Meaning[Any], summit: Summit) -> str:
    """Why an event may not follow the summit's status, in an editor's words."""
    cannot = f"cannot {meaning.verb} {summit.summit_id}"
    if summit.status is meaning.leads_to:
        held = "recorded as held" if summit.status is Status.COMPLETED else summit.status
        return f"{cannot}: it is already {held}"
    if summit.status in OFF:
        then = "to bring it back" if meaning.leads_to is Status.CONFIRMED else "first"
        return f"{cannot}: it is {summit.status}; reschedule it {then}"
    return f"{cannot}: it is {summit.status}"


def evolve(
    summit: Summit | None, event: Event, *, summit_id: str, version: int, recorded_at: str
) -> Summit:
    """The summit after one more event of its stream (checked by `decide` when recorded)."""
    if summit is None:
        if not isinstance(event, SummitAnnounced):
            raise ValueError(f"{summit_id}: {event.type} at version {version} before announce")
        return replace(Announced.create(event, summit_id, recorded_at), version=version)
    meaning = meaning_of(event)
    effect = meaning.apply(summit, event)
    changes, moved = dict(effect.changes), effect.moved
    if effect.status is not None and effect.status is not summit.status:
        moved = True
        kept = summit.resumes_as if summit.status in OFF else summit.status
        changes["status"], changes["disputed"] = effect.status, False
        changes["resumes_as"] = kept if effect.status in OFF else None
    source = None if event.source is None else Citation.of(event.source)
    if source is not None and all(known.url != source.url for known in summit.sources):
        changes["sources"] = (*summit.sources, source)
    return replace(
        summit,
        **changes,
        version=version,
        sequence=summit.sequence + moved,
        updated_at=recorded_at,
        last_change=Change(event.type, recorded_at, meaning.summary(event), source),
    )


def summary(event: Event) -> str:
    """One line telling what an event changed ("Rescheduled to 2025-08-25 (typhoon)")."""
    return meaning_of(event).summary(event)


def label(event: Event) -> str:
    """How the page's history names an event's type ("Held", "Rescheduled")."""
    return meaning_of(event).label


def one_line(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """Text on one line, cut at a word boundary with an ellipsis when longer than `limit`."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] if " " in line[: limit - 1] else line[: limit - 1]
    return cut.rstrip(",;: ") + "…"


def _because(text: str, reason: str | None) -> str:
    return one_line(f"{text} ({reason})" if reason else text)


def _place(location: Location) -> str:
    return ", ".join(part for part in (location.venue, location.city, location.country) if part)


def _who(people: Iterable[Participant]) -> str:
    return ", ".join(p.name for p in people)
