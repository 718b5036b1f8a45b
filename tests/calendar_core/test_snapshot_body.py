"""A snapshot's body is read a block at a time: its lines come back whole, whatever the block."""

from __future__ import annotations

import zlib

from hypothesis import given
from hypothesis import strategies as st

from calendar_core.snapshot import _lines

LINE = st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\n", b" "))


@given(st.lists(LINE, max_size=40), st.integers(min_value=1, max_value=5000))
def test_lines_come_back_whole_whatever_the_block(lines: list[bytes], block: int) -> None:
    body = zlib.compressobj(1)
    packed = b"".join(body.compress(line + b"\n") for line in lines) + body.flush()
    assert list(_lines(packed, block)) == lines
