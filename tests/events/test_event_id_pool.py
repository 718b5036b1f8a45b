"""Event ids come from a pool of pre-made ids: never the same one twice, across threads or forks."""

from __future__ import annotations

import os
import threading

from events.store import new_event_id


def test_threads_drawing_at_once_never_share_an_id() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(len(drawn))

    def draw(into: list[str]) -> None:
        start.wait()
        into.extend(new_event_id() for _ in range(3000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [event_id for into in drawn for event_id in into]
    assert len(set(every)) == len(every) == 12_000


def test_a_forked_child_does_not_reuse_its_parents_spare_ids() -> None:
    new_event_id()  # the pool now holds spare ids made before the fork
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, " ".join(new_event_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        child_ids = set(pipe.read().split())
    os.waitpid(child, 0)
    parent_ids = {new_event_id() for _ in range(10)}
    assert len(child_ids) == 10
    assert not child_ids & parent_ids
