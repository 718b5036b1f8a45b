"""The by-value caches of event validation give the same answers as validating afresh."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from events.schema import SummitAnnounced, field_errors, validate_event


def _announced(participants: list[dict[str, Any]], start: str, end: str) -> dict[str, Any]:
    return {
        "title": "Cache check summit",
        "kind": "bilateral_summit",
        "participants": participants,
        "location": {"city": "Seoul", "country": "KR", "timezone": "Asia/Seoul"},
        "schedule": {"start": start, "end": end},
        "status": "confirmed",
    }


PEOPLE = [
    {"name": "Cache Person A", "country": "KR", "role": "President"},
    {"name": "Cache Person B", "organization": "Cache Org"},
]


def test_a_repeated_participant_list_gives_equal_but_separate_lists() -> None:
    first = validate_event("SummitAnnounced", _announced(PEOPLE, "2031-05-01", "2031-05-02"))
    second = validate_event("SummitAnnounced", _announced(PEOPLE, "2031-05-03", "2031-05-04"))
    assert isinstance(first, SummitAnnounced) and isinstance(second, SummitAnnounced)
    assert first.participants == second.participants
    assert first.participants is not second.participants
    first.participants.append(first.participants[0])
    assert len(second.participants) == 2


def test_a_bad_participant_is_refused_with_its_path_after_a_good_list_was_cached() -> None:
    validate_event("SummitAnnounced", _announced(PEOPLE, "2031-06-01", "2031-06-02"))
    bad = [PEOPLE[0], {"name": "Cache Person C", "country": "XX"}]
    with pytest.raises(ValidationError) as caught:
        validate_event("SummitAnnounced", _announced(bad, "2031-06-01", "2031-06-02"))
    fields = [field for field, _ in field_errors(caught.value)]
    assert fields == ["participants.1.country"]


def test_an_empty_participant_list_stays_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_event("SummitAnnounced", _announced([], "2031-07-01", "2031-07-02"))
    assert [field for field, _ in field_errors(caught.value)] == ["participants"]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2031-08-02", "2031-08-01", "end is before start"),
        ("2031-08-02T10:00", "2031-08-02T10:00", "end equals start"),
        ("2031-08", "2031-08-02", "end must have the same precision as start"),
    ],
)
def test_schedule_order_problems_stay_reported(start: str, end: str, message: str) -> None:
    for _ in range(2):  # the second time, the participants and the place come from the caches
        with pytest.raises(ValidationError) as caught:
            validate_event("SummitAnnounced", _announced(PEOPLE, start, end))
        assert field_errors(caught.value) == [("schedule", message)]
