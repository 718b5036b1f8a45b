"""What may happen to a summit next: every refusal of the contract, in words an editor reads."""

from __future__ import annotations

from calendar_core.schedule import describe, is_refinement, resolve
from calendar_core.summit import Status, Summit, participant_key
from events.schema import (
    EntryRetracted,
    Event,
    ParticipantsChanged,
    Schedule,
    ScheduleRefined,
    SummitAnnounced,
    SummitCompleted,
    SummitRescheduled,
)


class Refused(Exception):
    """An event the calendar's rules do not allow now (HTTP 409); nothing is appended."""


class UnknownSummit(LookupError):
    """An event for a summit that was never announced (HTTP 404)."""

    def __init__(self, summit_id: str) -> None:
        super().__init__(f"no summit {summit_id!r}: announce it first")
        self.summit_id = summit_id


_ACTIVE = frozenset({Status.TENTATIVE, Status.CONFIRMED})

# Event type -> the statuses it may follow (types not listed may follow any status but retracted).
ALLOWED: dict[str, frozenset[Status]] = {
    "SummitConfirmed": frozenset({Status.TENTATIVE}),
    "ScheduleRefined": _ACTIVE,
    "SummitRescheduled": _ACTIVE | {Status.POSTPONED, Status.CANCELLED},
    "SummitPostponed": _ACTIVE,
    "SummitCancelled": _ACTIVE | {Status.POSTPONED},
    "SummitCompleted": _ACTIVE,
}

_VERB = {
    "SummitConfirmed": "confirm",
    "ScheduleRefined": "refine the schedule of",
    "SummitRescheduled": "reschedule",
    "SummitPostponed": "postpone",
    "SummitCancelled": "cancel",
    "SummitCompleted": "complete",
}


def _check_status(summit: Summit, event_type: str, summit_id: str) -> None:
    allowed = ALLOWED.get(event_type)
    if allowed is None or summit.status in allowed:
        return
    verb = _VERB[event_type]
    if event_type == "SummitConfirmed" and summit.status == Status.CONFIRMED:
        raise Refused(f"cannot confirm {summit_id}: it is already confirmed")
    if event_type == "SummitCancelled" and summit.status == Status.CANCELLED:
        raise Refused(f"cannot cancel {summit_id}: it is already cancelled")
    if event_type == "SummitPostponed" and summit.status == Status.POSTPONED:
        raise Refused(f"cannot postpone {summit_id}: it is already postponed")
    if event_type == "SummitCompleted" and summit.status == Status.COMPLETED:
        raise Refused(f"cannot complete {summit_id}: it is already recorded as held")
    hint = ""
    if summit.status in (Status.POSTPONED, Status.CANCELLED) and event_type != "SummitConfirmed":
        hint = "; reschedule it first"
    elif summit.status in (Status.POSTPONED, Status.CANCELLED):
        hint = "; reschedule it to bring it back"
    raise Refused(f"cannot {verb} {summit_id}: it is {summit.status}{hint}")


def _check_refinement(summit: Summit, schedule: Schedule, summit_id: str) -> None:
    if is_refinement(summit.schedule, schedule):
        return
    current, wanted = describe(summit.schedule), describe(schedule)
    if schedule == summit.schedule:
        raise Refused(f"cannot refine {summit_id}: it is already scheduled for {current}")
    raise Refused(
        f"cannot refine {summit_id} from {current} to {wanted}: a refinement must lie inside "
        f"{current} and be narrower or more precise; use SummitRescheduled to move it"
    )


def _check_moves(summit: Summit, event: SummitRescheduled, summit_id: str) -> None:
    """An active summit's reschedule must change its time or place (a reinstatement need not)."""
    if summit.status not in _ACTIVE:
        return
    same_time = event.schedule is None or event.schedule == summit.schedule
    same_place = event.location is None or event.location == summit.location
    if same_time and same_place:
        raise Refused(
            f"cannot reschedule {summit_id}: it is already set for {describe(summit.schedule)}"
            " at that place; nothing would move"
        )


def _check_participants(summit: Summit, event: ParticipantsChanged, summit_id: str) -> None:
    present = {participant_key(p) for p in summit.participants}
    for person in event.withdrawn:
        key = participant_key(person)
        if key not in present:
            raise Refused(f"cannot withdraw {person.name} from {summit_id}: not attending")
        present.discard(key)
    for person in event.added:
        key = participant_key(person)
        if key in present:
            raise Refused(f"cannot add {person.name} to {summit_id}: already attending")
        present.add(key)
    if not present:
        raise Refused(f"cannot withdraw everyone from {summit_id}: a summit needs a participant")


def decide(summit: Summit | None, event: Event, *, summit_id: str) -> None:
    """Allow an event for a summit in this state, or raise Refused / UnknownSummit / ScheduleError.

    ScheduleError (a ValueError) means the event's local times cannot be placed in the zone that
    will apply (DST gap or overlap, end not after start): invalid data rather than a conflict.
    """
    if summit is None:
        if not isinstance(event, SummitAnnounced):
            raise UnknownSummit(summit_id)
        resolve(event.schedule, event.location.timezone)
        return
    if isinstance(event, SummitAnnounced):
        raise Refused(f"cannot announce {summit_id}: it was announced already; pick a new id")
    if summit.status == Status.RETRACTED:
        raise Refused(f"{summit_id} was retracted: nothing can be recorded after EntryRetracted")
    _check_status(summit, event.type, summit_id)
    zone = summit.location.timezone
    if isinstance(event, ScheduleRefined):
        resolve(event.schedule, zone)
        _check_refinement(summit, event.schedule, summit_id)
    elif isinstance(event, SummitRescheduled):
        schedule = event.schedule or summit.schedule
        resolve(schedule, event.location.timezone if event.location else zone)
        _check_moves(summit, event, summit_id)
    elif isinstance(event, SummitCompleted):
        if event.schedule is not None:
            resolve(event.schedule, zone)
    elif isinstance(event, ParticipantsChanged):
        _check_participants(summit, event, summit_id)
    elif isinstance(event, EntryRetracted):
        return
