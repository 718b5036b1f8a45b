"""Slow clients: real servers keep answering /healthz while 1,000 connections hold half-sent
requests and 8 clients trickle theirs in a byte at a time.

Run against `diplocal serve` (granian, the default), `diplocal serve --server gunicorn`, and the
gunicorn command the README documents for deployments (gevent workers)."""

from __future__ import annotations

import resource
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from events import open_store

pytestmark = pytest.mark.slow

IDLE = 1000
TRICKLING = 8
CHECKS = 20
BIN = Path(sys.executable).parent

COMMANDS: dict[str, Callable[[int], list[str]]] = {
    "serve-granian": lambda port: [str(BIN / "diplocal"), "serve", "--port", str(port),
                                   "--workers", "2", "--no-access-log"],
    "serve-gunicorn": lambda port: [str(BIN / "diplocal"), "serve", "--server", "gunicorn",
                                    "--port", str(port), "--workers", "2", "--no-access-log"],
    # the README's deployment command (with -w 2 on a small test machine)
    "gunicorn-gevent": lambda port: [str(BIN / "gunicorn"), "-k", "gevent",
                                     "--worker-connections", "2048", "-w", "2",
                                     "-b", f"127.0.0.1:{port}", "web:create_app()"],
}  # fmt: skip


@pytest.fixture(autouse=True)
def enough_descriptors() -> None:
    """Room for a thousand sockets here and in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * IDLE
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {wanted}: raise it (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def half_sent(port: int) -> socket.socket:
    """A connection whose request stops in the middle of a header line (left non-blocking)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Unfinished: ")
    sock.setblocking(False)
    return sock


def closed(sock: socket.socket) -> bool:
    """True once the server has closed (or reset) a half-sent connection."""
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class Idle(threading.Thread):
    """IDLE half-sent requests, each opened again whenever the server drops it (as a client
    holding connections on purpose does): the server never gets rid of them."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.sockets = [half_sent(port) for _ in range(IDLE)]
        self.reopened = 0

    def run(self) -> None:
        while not self.stop.wait(0.1):  # how often the client looks, not a timing assertion
            for n, sock in enumerate(self.sockets):
                if closed(sock):
                    sock.close()
                    self.sockets[n] = half_sent(self.port)
                    self.reopened += 1

    def close(self) -> None:
        self.join(timeout=30)
        for sock in self.sockets:
            sock.close()


class Trickler(threading.Thread):
    """A client sending a long request a byte at a time (again when dropped), until stopped."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.sent = 0
        self.sending = threading.Event()

    def run(self) -> None:
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 100_000
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                    for byte in request:
                        sock.sendall(bytes([byte]))
                        self.sent += 1
                        self.sending.set()
                        if self.stop.wait(0.05):  # a slow client's pace, not a timing assertion
                            return
            except OSError:
                continue  # dropped by the server: come back


@contextmanager
def slow_clients(port: int) -> Iterator[Idle]:
    """IDLE half-sent requests and TRICKLING trickling ones, kept up for the block."""
    stop = threading.Event()
    idle = Idle(port, stop)
    tricklers = [Trickler(port, stop) for _ in range(TRICKLING)]
    try:
        idle.start()
        for trickler in tricklers:
            trickler.start()
            assert trickler.sending.wait(30)
        yield idle
        assert all(t.is_alive() for t in tricklers)  # still trickling when the checks ended
    finally:
        stop.set()
        idle.close()
        for trickler in tricklers:
            trickler.join(timeout=30)


def get_health(url: str) -> int:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        status: int = response.status
        response.read()
    return status


@pytest.mark.parametrize("server", list(COMMANDS))
def test_health_is_answered_with_slow_clients_open(
    server: str, tmp_path: Path, helpers: Any
) -> None:
    db = str(tmp_path / "served.sqlite3")
    open_store(db).close()
    with helpers.running(COMMANDS[server], db) as running:
        port = int(running.url.rsplit(":", 1)[1])
        with slow_clients(port) as idle:
            answers = []
            for _ in range(CHECKS):
                answers.append(get_health(running.url))
                idle.stop.wait(0.2)  # spread the checks over a few seconds of the attack
            assert answers == [200] * CHECKS
