"""Sealing hashes a record with the fast encoder; the reference encoder (which verify uses)
gives the same hash, and the data text stored is the reference canonical JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.chain import Tip, verify_chain
from events.record import RECORD_FIELDS, Draft, canonical_json

texts = st.text()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
NOW = datetime(2025, 6, 1, 12, 0, 0, 250, tzinfo=UTC)


@given(
    data=st.dictionaries(texts, json_values, max_size=4),
    event_id=texts,
    summit_id=texts,
    event_type=texts.filter(lambda t: t != "SummitAnnounced"),
    recorded_by=st.none() | texts,
    numbers=st.tuples(st.integers(2, 10**6), st.integers(0, 5)),
)
def test_a_sealed_records_hash_is_the_reference_hash(
    data: dict[str, Any],
    event_id: str,
    summit_id: str,
    event_type: str,
    recorded_by: str | None,
    numbers: tuple[int, int],
) -> None:
    """Any strings (quotes, controls, non-ASCII, lone surrogates) and numbers: the seal's hash
    equals the reference's, or both encoders refuse the record as text UTF-8 cannot hold."""
    version, schema_version = numbers
    draft = Draft(summit_id, event_type, data, event_id, schema_version, recorded_by)
    fields = {
        "position": 1,
        "event_id": event_id,
        "summit_id": summit_id,
        "version": version,
        "type": event_type,
        "schema_version": schema_version,
        "recorded_at": "2025-06-01T12:00:00.000250Z",
        "recorded_by": recorded_by,
        "data": data,
        "prev_hash": "0" * 64,
    }
    try:
        canonical_json(fields)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            Tip(None).seal(draft, version, NOW)
        return
    record, text = Tip(None).seal(draft, version, NOW)
    assert record.fields() == {**fields, "hash": record.hash}
    assert record.computed_hash() == record.hash
    assert text == canonical_json(data).decode()


def test_a_chain_sealed_fast_verifies_with_the_reference() -> None:
    """Records sealed one after another link up and pass verify_chain."""
    tip = Tip(None)
    first, _ = tip.seal(Draft("summit-a", "SummitAnnounced", {"t": "é"}), 1, NOW)
    second, _ = tip.seal(Draft("summit-a", "SummitNoted", {"note": "\u2028"}), 2, NOW)
    assert second.prev_hash == first.hash and second.position == 2
    report = verify_chain([first, second])
    assert (report.ok, report.checked) == (True, 2)


def test_text_utf8_cannot_hold_fails_as_the_json_module_form_does() -> None:
    """A lone surrogate (which orjson refuses) fails with the UnicodeEncodeError it always did."""
    draft = Draft("summit-\ud800", "SummitAnnounced", {})
    with pytest.raises(UnicodeEncodeError):
        Tip(None).seal(draft, 1, NOW)


def test_a_row_is_the_sealed_record_as_the_table_holds_it() -> None:
    """`Tip.row` (imports) gives the columns `seal` gives, data as the hashed text, and moves
    the tip the same way."""
    drafts = [
        Draft("summit-a", "SummitAnnounced", {"t": "é", "n": [1, {"b": None}]}),
        Draft("summit-a", "SummitNoted", {"note": "\u2028"}, recorded_by="desk"),
    ]
    sealing, rowing = Tip(None), Tip(None)
    for version, draft in enumerate(drafts, start=1):
        record, text = sealing.seal(draft, version, NOW)
        expected = {**record.fields(), "data": text}
        assert rowing.row(draft, version, NOW) == tuple(expected[name] for name in RECORD_FIELDS)
        assert (rowing.position, rowing.hash) == (sealing.position, sealing.hash)
