"""A record read from a store is a plain frozen Recorded; a Draft knows when it holds the same
event as a record or another draft."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from factories import announce, note

from events import Draft, FixedClock, Recorded
from events.record import RECORD_FIELDS
from events.schema import SummitAnnounced
from events.sqlite import SQLiteEventStore


@pytest.fixture
def stored(tmp_path: Path, clock: FixedClock) -> Recorded:
    """A record as a SQLite store reads it back."""
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    store.append([announce("summit-a", recorded_by="desk").draft])
    record = next(store.read())
    store.close()
    return record


def test_a_stored_record_equals_the_recorded_of_its_fields(stored: Recorded) -> None:
    """A read record is a Recorded like any other: same fields, repr, hash computation."""
    assert type(stored) is Recorded
    plain = Recorded(**stored.fields())
    assert stored == plain and plain == stored
    assert repr(stored) == repr(plain)
    assert list(stored.fields()) == list(RECORD_FIELDS)
    assert stored.computed_hash() == plain.computed_hash() == stored.hash
    assert stored.fields()["recorded_by"] == "desk"


def test_a_stored_record_is_frozen_and_unhashable(stored: Recorded) -> None:
    """No field can be set; a record holding a dict is not a set member."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(stored)


def test_replace_and_pickle_work_on_a_stored_record(stored: Recorded) -> None:
    """dataclasses.replace gives a Recorded whose computed hash no longer matches."""
    changed = dataclasses.replace(stored, version=2)
    assert type(changed) is Recorded
    assert changed.fields() == {**stored.fields(), "version": 2}
    assert changed.computed_hash() != changed.hash
    copied = pickle.loads(pickle.dumps(stored))
    assert copied == stored and copied.event() == stored.event()


def test_a_record_gives_its_typed_event_and_instant(stored: Recorded) -> None:
    """`event()` validates the stored data into its model; `instant` reads recorded_at."""
    event = stored.event()
    assert isinstance(event, SummitAnnounced)
    assert event.title == stored.data["title"]
    assert stored.instant.isoformat() == "2025-06-01T00:00:00+00:00"


def test_same_content_compares_summit_type_schema_version_and_data(stored: Recorded) -> None:
    """The one idempotency comparison: event_id, writer and time do not matter, content does."""
    draft = Draft(stored.summit_id, stored.type, dict(stored.data), event_id="other-id")
    assert draft.same_content(stored)
    assert Draft(stored.summit_id, stored.type, dict(stored.data), recorded_by="x").same_content(
        draft
    )
    assert not dataclasses.replace(draft, summit_id="summit-b").same_content(stored)
    assert not dataclasses.replace(draft, type="SummitNoted").same_content(stored)
    assert not dataclasses.replace(draft, schema_version=2).same_content(stored)
    assert not dataclasses.replace(draft, data={**stored.data, "title": "T"}).same_content(stored)
    assert not note(summit_id="summit-a").draft.same_content(stored)
