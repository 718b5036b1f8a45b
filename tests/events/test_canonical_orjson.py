"""`fast_canonical_json` (orjson, for sealing) writes exactly the bytes of the reference
`canonical_json` (the json module, CONTRACT section 2), or fails as it does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from events.record import canonical_json, fast_canonical_json
from events.schema import field_errors
from events.store import NewEvent

# Any code point, lone surrogates included, with the awkward ones drawn often.
_AWKWARD = '\x00\x08\x0c\x1f\x7f"\\/\u2028\u2029\ud800\udfff\ufeff\U0001f600é'
text = st.one_of(st.text(), st.text(alphabet=st.sampled_from(_AWKWARD)))
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(min_value=2**64, max_value=2**200),
    st.integers(max_value=-(2**63) - 1, min_value=-(2**200)),
)
floats = st.floats(allow_nan=True, allow_infinity=True)
# What records hold: JSON values without floats (validation refuses floats; see below).
values = st.recursive(
    st.none() | st.booleans() | numbers | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=30,
)


def contract(obj: Any) -> bytes:
    """The definition in CONTRACT section 2, written out here."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _outcome(encode: Any, obj: Any) -> bytes | type[Exception]:
    try:
        result: bytes = encode(obj)
    except (UnicodeEncodeError, TypeError, ValueError) as error:
        return type(error)
    return result


@given(values)
def test_the_reference_is_the_contracts_definition(obj: Any) -> None:
    assert _outcome(canonical_json, obj) == _outcome(contract, obj)


@given(values)
def test_the_fast_encoder_writes_the_references_bytes_or_fails_like_it(obj: Any) -> None:
    """Same bytes for any JSON value a record can hold (big integers go to the reference); text
    UTF-8 cannot hold (a lone surrogate) is a UnicodeEncodeError from both."""
    assert _outcome(fast_canonical_json, obj) == _outcome(canonical_json, obj)


@given(st.dictionaries(st.text(), st.text() | st.booleans() | st.none(), max_size=8))
def test_records_data_of_strings_is_the_same_both_ways(obj: dict[str, Any]) -> None:
    assert _outcome(fast_canonical_json, obj) == _outcome(canonical_json, obj)


def test_subclasses_and_values_orjson_would_write_differently_take_the_reference() -> None:
    """A str or int subclass and a big integer are written as the json module does;
    what it cannot write (a datetime) is refused, not written in orjson's own way."""

    class Name(str):
        pass

    class Count(int):
        pass

    assert fast_canonical_json({"a": Name("x")}) == b'{"a":"x"}'
    assert fast_canonical_json({"n": Count(3)}) == b'{"n":3}'
    assert fast_canonical_json({"big": 2**70}) == b'{"big":1180591620717411303424}'
    with pytest.raises(TypeError):
        fast_canonical_json({"at": datetime(2025, 6, 1, tzinfo=UTC)})
    assert fast_canonical_json({"b": 1, "a": [True, None, "é\u2028"]}) == (
        '{"a":[true,null,"é\u2028"],"b":1}'.encode()
    )


def test_new_event_refuses_a_lone_surrogate_as_a_validation_error() -> None:
    """Text the log could not encode is refused where events are made, naming the problem."""
    with pytest.raises(ValidationError) as caught:
        NewEvent.of("summit-a", "SummitNoted", {"note": "said \ud800 here"})
    assert [field for field, _ in field_errors(caught.value)] == ["note"]


@given(floats, st.sampled_from(["note", "disputed", "title", "reason", "outcome"]))
def test_floats_never_reach_the_seal(number: float, field: str) -> None:
    """The fast encoder writes floats unlike the reference, so no float may pass validation:
    not where text, a flag or a list is expected, nor as an unknown field."""
    data: dict[str, Any] = {"note": "Reported."} if field != "note" else {}
    data[field] = number
    with pytest.raises(ValidationError):
        NewEvent.of("kr-jp-2025", "SummitNoted", data)
    with pytest.raises(ValidationError):
        NewEvent.of("kr-jp-2025", "SummitCompleted", {"documents": [number]})
