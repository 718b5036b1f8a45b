"""Recording events: the one write path (decide, append, say what happened) and import checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from calendar_core.meaning import Refused, UnknownSummit, decide, evolve
from calendar_core.projection import fold
from calendar_core.summit import Summit
from calendar_core.survey import Survey
from events.record import Draft, Recorded, fingerprint
from events.schedule import ScheduleError
from events.schema import SUMMIT_ID_PATTERN, field_errors, is_summit_id
from events.store import ConcurrencyError, EventIdTaken, EventStore, ImportRejected, NewEvent

RETRIES = 8  # a writer that asked for no version loses no race it did not choose

StateOf = Callable[[str], Summit | None]
"""A summit's state at the log's head (None: never announced)."""


class Refusal(StrEnum):
    """Why an event was not recorded, in the order a request is checked."""

    UNKNOWN_SUMMIT = "unknown_summit"  # no such summit: announce it first
    STALE = "stale"  # the summit is not at the version the writer expected
    INVALID = "invalid"  # the data (or a new summit's id) is not valid
    RULE = "rule"  # the calendar's rules do not allow it now
    EVENT_ID_REUSED = "event_id_reused"  # a known event_id sent with other content


@dataclass(frozen=True)
class Submission:
    """An event as a writer sends it: not yet validated."""

    summit_id: str
    type: str
    data: Mapping[str, Any]
    event_id: str | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a submission: its record (new, or the first one for a known event_id),
    or a refusal with its kind, its message and the fields at fault."""

    record: Recorded | None = None
    replayed: bool = False  # the event_id was known: nothing appended
    refusal: Refusal | None = None
    message: str = ""
    errors: tuple[tuple[str, str], ...] = ()  # (field, message) of an INVALID one
    version: int | None = None  # with STALE: the summit's version now


def record_event(
    log: EventStore,
    sent: Submission,
    *,
    expected_version: int | None = None,
    must_exist: bool = False,
    state_of: StateOf | None = None,
) -> Outcome:
    """Check, decide and append one event: the only way one event enters the log.

    A resent event_id answers with its first record (compared here, and only here), also when
    it races its own first send. Without `expected_version`, an append that lost a race to
    another writer is decided again on the newer state. `must_exist` is HTTP's `If-Match: *`.
    `state_of` gives a summit's current state (a live projection's, so that an append costs the
    same for a summit's 50,000th event as for its first); by default its stream is folded.
    """
    current = state_of or (lambda summit_id: fold(log.read(summit_id=summit_id)))
    for _ in range(RETRIES):
        if sent.event_id is not None:
            known = log.find(sent.event_id)
            if known is not None:
                return _resent(sent, known)
        summit = current(sent.summit_id)
        version = 0 if summit is None else summit.version
        refusal = _precheck(sent, version, expected_version, must_exist)
        if refusal is not None:
            return refusal
        try:
            new = NewEvent.of(
                sent.summit_id,
                sent.type,
                sent.data,
                event_id=sent.event_id,
                recorded_by=sent.recorded_by,
            )
        except ValidationError as error:
            fields = field_errors(error)  # "data" itself when the problem is not one field
            return _invalid(tuple((_in_data(field), text) for field, text in fields))
        try:
            decide(summit, new.event, summit_id=sent.summit_id)
        except UnknownSummit as error:
            return Outcome(refusal=Refusal.UNKNOWN_SUMMIT, message=str(error))
        except ScheduleError as error:
            return _invalid((("data.schedule", str(error)),))
        except Refused as error:
            return Outcome(refusal=Refusal.RULE, message=str(error))
        try:
            return Outcome(log.append([new.draft], expected_version=version)[0])
        except EventIdTaken:
            continue  # its first send landed meanwhile: answer with that record
        except ConcurrencyError as error:
            if expected_version is not None:
                return _stale(sent.summit_id, expected_version, error.actual)
    return Outcome(refusal=Refusal.RULE, message=f"{sent.summit_id} kept changing; try again")


def _resent(sent: Submission, known: Recorded) -> Outcome:
    """A known event_id: the first record if the content is the same, else a refusal."""
    draft = Draft(sent.summit_id, sent.type, dict(sent.data), event_id=known.event_id)
    if draft.same_content(known):
        return Outcome(known, replayed=True)
    return Outcome(
        refusal=Refusal.EVENT_ID_REUSED,
        message=f"event_id {known.event_id} is already used by another event"
        f" (position {known.position})",
    )


def _precheck(
    sent: Submission, version: int, expected: int | None, must_exist: bool
) -> Outcome | None:
    """What is wrong before the data is read: an unknown summit, a stale version, a bad id."""
    if version == 0 and sent.type != "SummitAnnounced":
        return Outcome(
            refusal=Refusal.UNKNOWN_SUMMIT,
            message=f"no summit {sent.summit_id!r}: announce it first",
        )
    if version == 0 and (must_exist or expected is not None):
        return Outcome(
            refusal=Refusal.STALE, message=f"{sent.summit_id} does not exist yet", version=0
        )
    if expected is not None and expected != version:
        return _stale(sent.summit_id, expected, version)
    if version == 0 and not is_summit_id(sent.summit_id):
        return _invalid((("summit_id", f"must match {SUMMIT_ID_PATTERN}"),))
    return None


def _in_data(field: str) -> str:
    return field if field == "data" else f"data.{field}"


def _invalid(errors: tuple[tuple[str, str], ...]) -> Outcome:
    message = "; ".join(f"{field}: {text}" for field, text in errors)
    return Outcome(refusal=Refusal.INVALID, message=message, errors=errors)


def _stale(summit_id: str, expected: int, actual: int) -> Outcome:
    return Outcome(
        refusal=Refusal.STALE,
        message=f"{summit_id} is at version {actual}, not {expected}",
        version=actual,
    )


class ImportCheck:
    """Checks imported events against the rules with state of its own.

    It reads the log (never inside an import's transaction) for each summit it has not seen
    and for each event_id it has not seen (with a survey: that the file gave), then follows
    the imported lines itself. `head` is the log position its reads started from: the import
    must find the log there still.

    With a `survey` of the file (its first pass), it keeps a summit's state only until the
    summit's last line and remembers only the event_ids that may repeat; without one, every
    summit and every event_id until the end.
    """

    def __init__(self, log: EventStore, survey: Survey | None = None) -> None:
        self._log = log
        self._survey = survey
        head = log.head()
        self.head = 0 if head is None else head.position
        self._summits: dict[str, Summit | None] = {}
        self._ids: dict[str, bytes] = {}  # the import's own events that may repeat, by fingerprint
        self.skipped = 0

    @property
    def open_summits(self) -> int:
        """How many summits' states the check holds now."""
        return len(self._summits)

    def check(self, line: int, new: NewEvent) -> Draft | None:
        """The draft to import, None for an event already in the log; ImportRejected if not."""
        draft = new.draft
        summit_id = draft.summit_id
        last = self._last_line(line, summit_id)
        known: bytes | Recorded | None = self._ids.get(draft.event_id)
        if known is None and self.head > 0 and self._may_be_logged(draft.event_id):
            known = self._log.find(draft.event_id)
        if known is not None:
            if not draft.same_content(known):
                raise ImportRejected(
                    line, f"event_id {draft.event_id} is already used by another event"
                )
            self.skipped += 1
            if line == last:
                self._summits.pop(summit_id, None)
            return None
        summit = self._state(summit_id)
        try:
            decide(summit, new.event, summit_id=summit_id)
        except (Refused, UnknownSummit, ScheduleError) as error:
            raise ImportRejected(line, str(error)) from None
        if line == last:
            self._summits.pop(summit_id, None)  # no later line needs it
        else:
            version = 1 if summit is None else summit.version + 1
            self._summits[summit_id] = evolve(
                summit, new.event, summit_id=summit_id, version=version, recorded_at=""
            )
        if self._survey is None or draft.event_id in self._survey.repeats:
            self._ids[draft.event_id] = fingerprint(draft)
        return draft

    def _last_line(self, line: int, summit_id: str) -> int:
        """The summit's last line by the survey (0 without one); ImportRejected if the survey
        saw none as late as this one (the file changed between the passes)."""
        if self._survey is None:
            return 0
        last = self._survey.last_line(summit_id)
        if last < line:
            raise ImportRejected(line, "the file changed while it was being imported")
        return last

    def _may_be_logged(self, event_id: str) -> bool:
        """Whether the log may hold this event_id: not if it was made up for a line that gave
        none (a fresh UUID), which the survey tells."""
        return self._survey is None or self._survey.may_give(event_id)

    def _state(self, summit_id: str) -> Summit | None:
        """The summit's state after the lines checked so far (read from the log at first)."""
        if summit_id not in self._summits:
            self._summits[summit_id] = (
                fold(self._log.read(summit_id=summit_id)) if self.head > 0 else None
            )
        return self._summits[summit_id]

    def drafts(self, lines: Iterable[tuple[int, NewEvent]]) -> Iterator[Draft]:
        """The drafts of checked lines, in order, leaving out events already in the log."""
        for line, new in lines:
            draft = self.check(line, new)
            if draft is not None:
                yield draft
