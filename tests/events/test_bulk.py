"""The writer thread of bulk imports: one call at a time, in order, its errors never lost."""

from __future__ import annotations

import threading

import pytest

from events.bulk import Behind


def test_calls_run_one_at_a_time_in_the_order_given() -> None:
    """Each call ends before the next one starts, and all run off the caller's thread."""
    marks: list[tuple[str, int]] = []
    threads: set[int] = set()

    def work(item: int) -> None:
        marks.append(("start", item))
        threads.add(threading.get_ident())
        sum(range(20_000))  # long enough for a second call to overlap, were one allowed
        marks.append(("end", item))

    behind: Behind[int] = Behind(work)
    for item in range(20):
        behind.submit(item)
    behind.close()
    assert marks == [(mark, item) for item in range(20) for mark in ("start", "end")]
    assert threading.get_ident() not in threads


def test_an_error_comes_back_at_the_next_wait_or_submit() -> None:
    """What a call raised is raised to the caller, once; later calls do not run over it."""
    ran: list[int] = []

    def work(item: int) -> None:
        if item == 1:
            raise ValueError("chunk 1 refused")
        ran.append(item)

    behind: Behind[int] = Behind(work)
    behind.submit(0)
    behind.submit(1)
    with pytest.raises(ValueError, match="chunk 1 refused"):
        behind.submit(2)
    behind.wait()
    behind.close()
    assert ran == [0]


def test_closing_while_failing_keeps_the_callers_error() -> None:
    """`close(failing=True)` waits for the call in flight and drops its error; `close()`
    raises it."""

    def work(item: int) -> None:
        raise ValueError(f"refused {item}")

    failing: Behind[int] = Behind(work)
    failing.submit(1)
    failing.close(failing=True)
    plain: Behind[int] = Behind(work)
    plain.submit(2)
    with pytest.raises(ValueError, match="refused 2"):
        plain.close()
