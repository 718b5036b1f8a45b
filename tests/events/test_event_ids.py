"""New events get random version-4 UUIDs as their event_id."""

from __future__ import annotations

import uuid

from factories import note

from events import Draft
from events.record import new_event_id


def test_new_event_ids_are_distinct_version_4_uuids() -> None:
    """Each id parses as an RFC 4122 version-4 UUID written in its canonical form."""
    ids = [new_event_id() for _ in range(2000)]
    ids += [note().draft.event_id for _ in range(50)]
    ids += [Draft("summit-a", "SummitConfirmed", {}).event_id for _ in range(50)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_a_given_event_id_is_kept() -> None:
    """A client's own event_id is the draft's."""
    assert note(event_id="client-id-1").draft.event_id == "client-id-1"
