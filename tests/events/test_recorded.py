"""A record read from a store behaves as the frozen Recorded dataclass it stands for."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from factories import announce

from events import FixedClock, Recorded
from events.sqlite import SQLiteEventStore


@pytest.fixture
def stored(tmp_path: Path, clock: FixedClock) -> Recorded:
    store = SQLiteEventStore(tmp_path / "log.sqlite3", clock)
    store.append("summit-a", [announce()])
    record = next(store.iter_log())
    store.close()
    return record


def test_a_stored_record_equals_the_recorded_of_its_fields(stored: Recorded) -> None:
    plain = Recorded(**stored.fields())
    assert stored == plain and plain == stored
    assert repr(stored).removeprefix("_Sealed") == repr(plain).removeprefix("Recorded")
    assert stored.computed_hash() == plain.computed_hash() == stored.hash


def test_a_stored_record_is_frozen_and_unhashable(stored: Recorded) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(stored)


def test_replace_and_pickle_work_on_a_stored_record(stored: Recorded) -> None:
    changed = dataclasses.replace(stored, version=2)
    assert type(changed) is Recorded
    assert changed.fields() == {**stored.fields(), "version": 2}
    copied = pickle.loads(pickle.dumps(stored))
    assert copied == stored and copied.event == stored.event
