"""The response cache: bounded in bytes, the newest position of a query replacing the older,
least recently used out first (no process memory measured: the cache counts its own bytes)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from web.cache import Rendered, ResponseCache

QUERY = (("FR",), (), ())
OTHER = ((), ("summit",), ())
Poster = Callable[..., Any]


def body(size: int, tag: str = "") -> Rendered:
    """A rendered response of `size` body bytes (the tag keeps bodies apart)."""
    text = (tag + "x" * size)[:size].encode()
    return Rendered.of(text, None)


def test_the_newest_position_of_a_query_replaces_the_older() -> None:
    cache = ResponseCache(max_bytes=1 << 20)
    first, second = body(100, "a"), body(120, "b")
    cache.put((7, QUERY), first)
    cache.put((8, QUERY), second)
    assert cache.get((8, QUERY)) is second
    assert cache.get((7, QUERY)) is None
    assert len(cache) == 1
    assert cache.bytes == second.size


def test_queries_are_kept_apart() -> None:
    cache = ResponseCache(max_bytes=1 << 20)
    mine, theirs = body(10, "m"), body(10, "t")
    cache.put((3, QUERY), mine)
    cache.put((4, OTHER), theirs)
    assert cache.get((3, QUERY)) is mine
    assert cache.get((4, OTHER)) is theirs
    assert cache.get((4, QUERY)) is None


def test_an_older_position_asked_for_later_is_kept_beside_the_newest() -> None:
    cache = ResponseCache(max_bytes=1 << 20)
    newest, older = body(10, "n"), body(10, "o")
    cache.put((9, QUERY), newest)
    cache.put((4, QUERY), older)  # an at_position view
    assert cache.get((9, QUERY)) is newest
    assert cache.get((4, QUERY)) is older
    newer = body(10, "w")
    cache.put((10, QUERY), newer)  # the log moved on: position 9 goes, position 4 stays
    assert cache.get((9, QUERY)) is None
    assert cache.get((4, QUERY)) is older
    assert cache.get((10, QUERY)) is newer
    assert cache.bytes == older.size + newer.size


def test_other_keys_are_plain_entries() -> None:
    cache = ResponseCache(max_bytes=1 << 20)
    one, two = body(10, "1"), body(10, "2")
    cache.put(("single", "kr-jp-2025", 3), one)
    cache.put(("single", "kr-jp-2025", 4), two)
    assert cache.get(("single", "kr-jp-2025", 3)) is one
    assert cache.get(("single", "kr-jp-2025", 4)) is two


def test_least_recently_used_goes_first() -> None:
    size = body(100).size
    cache = ResponseCache(max_bytes=3 * size)
    items = {name: body(100, name) for name in "abcd"}
    for name in "abc":
        cache.put(name, items[name])
    assert cache.get("a") is items["a"]  # a is now the most recently used; b the least
    cache.put("d", items["d"])
    assert cache.get("b") is None
    assert [cache.get(name) for name in "acd"] == [items[name] for name in "acd"]
    assert cache.bytes == 3 * size


def test_a_live_entry_is_used_like_any_other() -> None:
    size = body(100).size
    cache = ResponseCache(max_bytes=2 * size)
    live, plain = body(100, "l"), body(100, "p")
    cache.put((5, QUERY), live)
    cache.put("plain", plain)
    assert cache.get((5, QUERY)) is live  # used: "plain" is now the least recently used
    cache.put("third", body(100, "t"))
    assert cache.get("plain") is None
    assert cache.get((5, QUERY)) is live


def test_the_entry_bound_holds_too() -> None:
    cache = ResponseCache(2, max_bytes=1 << 20)
    for name in "abc":
        cache.put(name, body(1, name))
    assert len(cache) == 2
    assert cache.get("a") is None


def test_one_response_over_the_bound_is_kept_alone() -> None:
    cache = ResponseCache(max_bytes=1000)
    cache.put("small", body(100))
    big = body(5000, "big")
    cache.put((1, QUERY), big)
    assert cache.get((1, QUERY)) is big
    assert cache.get("small") is None
    assert len(cache) == 1


keys = st.one_of(
    st.tuples(st.integers(0, 6), st.sampled_from([QUERY, OTHER])),
    st.sampled_from(["a", "b", "c", ("single", "x", 1), ("single", "x", 2)]),
)


@given(
    bound=st.integers(200, 3000),
    puts=st.lists(st.tuples(keys, st.integers(0, 900)), min_size=1, max_size=40),
)
def test_bytes_stay_within_the_bound_and_add_up(
    bound: int, puts: list[tuple[Hashable, int]]
) -> None:
    cache = ResponseCache(max_bytes=bound)
    seen: list[Hashable] = []
    for n, (key, size) in enumerate(puts):
        value = body(size, str(n))
        cache.put(key, value)
        seen.append(key)
        assert cache.bytes <= bound or len(cache) == 1
        assert cache.get(key) is value  # what was stored last is always there
    held = {id(found): found for key in seen if (found := cache.get(key)) is not None}
    assert len(held) == len(cache)
    assert cache.bytes == sum(found.size for found in held.values())


@given(positions=st.lists(st.integers(0, 50), min_size=1, max_size=30).map(sorted))
def test_a_query_followed_as_the_log_grows_holds_one_entry(positions: list[int]) -> None:
    cache = ResponseCache(max_bytes=1 << 20)
    for n, position in enumerate(positions):
        value = body(100 + n, str(n))
        cache.put((position, QUERY), value)
        assert len(cache) == 1
        assert cache.bytes == value.size
        assert cache.get((position, QUERY)) is value


def test_write_and_read_cycles_keep_the_app_cache_flat(app: Flask, seeded: Poster) -> None:
    """100 writes, each followed by the live feed, a filtered feed and a fixed position: the
    cache holds one body per query (the newest) and the fixed one, and never grows."""
    client = app.test_client()
    feeds = app.extensions["diplocal"].feeds
    urls = ["/calendar.ics", "/calendar.ics?country=FR", "/calendar.ics?at_position=1"]
    sizes = []
    for n in range(100):
        note = {"note": f"Cycle {n}: still expected."}
        assert seeded("kr-jp-2025-tokyo", "SummitNoted", note).status_code == 201
        bodies = [client.get(url) for url in urls]
        assert all(response.status_code == 200 for response in bodies)
        assert len(feeds) == len(urls)
        sizes.append(feeds.bytes)
    # the bodies change with each note, their sizes hardly; nothing accumulates
    assert max(sizes) - min(sizes) < min(sizes) // 10
