"""Checks made inside pydantic-core (country, zone, URL, text) still name the field and the bad
value in words; participant problems carry their path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from events.schema import Location, Source, SummitAnnounced, field_errors, validate_event

PEOPLE = [
    {"name": "Person A", "country": "KR", "role": "President"},
    {"name": "Person B", "organization": "Some Org"},
]


def _announced(participants: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": "Message check summit",
        "kind": "bilateral_summit",
        "participants": participants,
        "location": {"city": "Seoul", "country": "KR", "timezone": "Asia/Seoul"},
        "schedule": {"start": "2031-05-01", "end": "2031-05-02"},
        "status": "confirmed",
    }


def test_country_and_zone_checks_name_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        Location(country="XX", timezone="Mars/Olympus")
    assert field_errors(caught.value) == [
        ("country", "'XX' is not an ISO 3166-1 alpha-2 country code (like 'KR')"),
        ("timezone", "'Mars/Olympus' is not an IANA time zone of a place (like 'Asia/Tokyo')"),
    ]
    assert Location(country="KR", timezone="Asia/Seoul").timezone == "Asia/Seoul"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "https://localhost/x",
        "https://a.b/" + "x" * 2040,
        "https://a.b/x y",
        "https://a.b/x\x00",
        "https://a.b/x\n",
    ],
)
def test_a_bad_url_is_refused_in_words(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Source(url=url)
    assert field_errors(caught.value) == [
        ("url", "must be an absolute http(s) URL without spaces or control characters")
    ]


def test_a_good_url_is_kept_as_written() -> None:
    assert Source(url="HTTPS://www.mofa.go.jp/a/b?c=1#d").url == "HTTPS://www.mofa.go.jp/a/b?c=1#d"


def test_participant_problems_carry_their_path() -> None:
    """A bad participant in a list is named by its index; an empty list is refused."""
    event = validate_event("SummitAnnounced", _announced(PEOPLE))
    assert isinstance(event, SummitAnnounced) and len(event.participants) == 2
    bad = [PEOPLE[0], {"name": "Person C", "country": "XX"}]
    with pytest.raises(ValidationError) as caught:
        validate_event("SummitAnnounced", _announced(bad))
    assert [field for field, _ in field_errors(caught.value)] == ["participants.1.country"]
    with pytest.raises(ValidationError) as caught:
        validate_event("SummitAnnounced", _announced([]))
    assert [field for field, _ in field_errors(caught.value)] == ["participants"]


def test_two_events_with_equal_participants_share_no_list() -> None:
    """Equal input gives equal, separate values (nothing is cached by value)."""
    first = validate_event("SummitAnnounced", _announced(PEOPLE))
    second = validate_event("SummitAnnounced", _announced(PEOPLE))
    assert isinstance(first, SummitAnnounced) and isinstance(second, SummitAnnounced)
    assert first.participants == second.participants
    assert first.participants is not second.participants
