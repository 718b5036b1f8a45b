"""The record's canonical JSON built around pre-encoded data equals plain canonical JSON."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import canonical_json
from events.record import record_json

texts = st.text()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)


@given(
    data=st.dictionaries(texts, json_values, max_size=4),
    event_id=texts,
    summit_id=texts,
    event_type=texts,
    recorded_by=st.none() | texts,
    numbers=st.tuples(st.integers(1, 10**12), st.integers(0, 10**6), st.integers(0, 5)),
)
def test_record_json_matches_canonical_json(
    data: dict[str, object],
    event_id: str,
    summit_id: str,
    event_type: str,
    recorded_by: str | None,
    numbers: tuple[int, int, int],
) -> None:
    """Any strings (quotes, controls, non-ASCII) and numbers give the same bytes both ways."""
    position, version, schema_version = numbers
    fields = {
        "position": position,
        "event_id": event_id,
        "summit_id": summit_id,
        "version": version,
        "type": event_type,
        "schema_version": schema_version,
        "recorded_at": "2025-06-01T00:00:00.000001Z",
        "recorded_by": recorded_by,
        "data": data,
        "prev_hash": "0" * 64,
    }
    fast = record_json(
        **{k: v for k, v in fields.items() if k != "data"},  # type: ignore[arg-type]
        data_json=canonical_json(data).decode(),
    )
    assert fast == canonical_json(fields)


def test_text_utf8_cannot_hold_fails_as_the_json_module_form_does() -> None:
    """A lone surrogate (which orjson refuses) fails with the UnicodeEncodeError it always did."""
    with pytest.raises(UnicodeEncodeError):
        record_json(
            position=1,
            event_id="e-1",
            summit_id="summit-\ud800",
            version=1,
            type="SummitAnnounced",
            schema_version=1,
            recorded_at="2025-06-01T00:00:00Z",
            recorded_by=None,
            data_json="{}",
            prev_hash="0" * 64,
        )
