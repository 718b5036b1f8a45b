"""The orjson fast path writes exactly the bytes of the json module's canonical form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from events.record import data_json, load_data, plain_json
from events.schema import SummitNoted
from events.store import NewEvent

# Any code point, lone surrogates included, with the awkward ones drawn often.
_AWKWARD = '\x00\x08\x0c\x1f\x7f"\\/\u2028\u2029\ud800\udfff\ufeff\U0001f600é'
text = st.one_of(st.text(), st.text(alphabet=st.sampled_from(_AWKWARD)))
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(min_value=2**64, max_value=2**200),
    st.integers(max_value=-(2**63) - 1, min_value=-(2**200)),
)
values = st.recursive(
    st.none() | st.booleans() | numbers | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=30,
)


def reference(obj: Any) -> bytes:
    """The definition in CONTRACT section 2."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encodable(obj: Any) -> bool:
    try:
        reference(obj)
    except UnicodeEncodeError:
        return False
    return True


def in_64_bits(obj: Any) -> bool:
    if isinstance(obj, dict):
        return all(map(in_64_bits, obj.values()))
    if isinstance(obj, list):
        return all(map(in_64_bits, obj))
    if isinstance(obj, int) and not isinstance(obj, bool):
        return -(2**63) <= obj < 2**64
    return True


@given(values)
def test_plain_json_is_the_canonical_form_or_gives_up(obj: Any) -> None:
    fast = plain_json(obj)
    if fast is not None:
        assert fast == reference(obj)
    else:  # only for what orjson cannot write: lone surrogates, integers beyond 64 bits
        assert not encodable(obj) or not in_64_bits(obj)


@given(values)
def test_data_json_equals_the_reference_or_refuses_like_it(obj: Any) -> None:
    if encodable(obj):
        assert data_json(obj) == reference(obj).decode()
    else:
        with pytest.raises(UnicodeEncodeError):
            data_json(obj)


@given(st.dictionaries(st.text(), st.text(), max_size=8))
def test_plain_json_gives_up_on_nothing_encodable_of_strings(obj: dict[str, str]) -> None:
    assert (plain_json(obj) is None) == (not encodable(obj))


def test_plain_json_gives_up_on_subclasses_and_floats_stay_with_the_json_module() -> None:
    class Name(str):
        pass

    assert plain_json({"a": Name("x")}) is None
    assert data_json({"a": Name("x")}) == '{"a":"x"}'
    assert data_json({"big": 2**70}) == '{"big":1180591620717411303424}'


def test_new_event_refuses_a_lone_surrogate_as_a_validation_error() -> None:
    data = {"note": "said \ud800 here"}
    with pytest.raises(ValidationError):
        NewEvent.of("SummitNoted", data)


def test_new_event_keeps_the_canonical_text_of_its_data() -> None:
    data = {"note": "Zürich \u2028 talks 😀", "disputed": True}
    new = NewEvent.of("SummitNoted", data)
    assert new.data_json == reference(data).decode()
    assert NewEvent.from_event(new.event).data_json == reference(data).decode()


def test_from_event_refuses_text_utf8_cannot_hold() -> None:
    event = SummitNoted.model_construct(note="built in code \udfff")  # skips validation
    with pytest.raises(ValidationError, match="lone surrogates"):
        NewEvent.from_event(event)


@given(values)
def test_load_data_reads_what_the_json_module_reads(obj: Any) -> None:
    # As stored (non-ASCII as is) where UTF-8 can hold it, and escaped (lone surrogates as
    # \\udXXX, which orjson refuses and the json module reads) in every case.
    texts = [json.dumps(obj, ensure_ascii=True)]
    if encodable(obj):
        texts.append(reference(obj).decode())
    for text in texts:
        if in_64_bits(obj):
            assert load_data(text) == json.loads(text)
