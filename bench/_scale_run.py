"""Whole processes and real HTTP for bench/scale.py: timing, peak RSS, servers, clients, deadlines.

Linux only: peak RSS of a command comes from wait4's rusage, a server's RSS from /proc.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from types import FrameType


class RowTimeout(Exception):
    """A row ran past its deadline."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise RowTimeout in the main thread once `seconds` have passed (SIGALRM)."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise RowTimeout(f"no result within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Run:
    """One finished command: wall and CPU seconds, peak RSS in MB."""

    wall: float
    cpu: float
    peak_mb: float

    def show(self) -> str:
        """As printed in the table."""
        return f"{self.wall:.2f} s, {self.peak_mb:.0f} MB peak"


def run(
    command: Sequence[str], *, stdout: Path | None = None, env: Mapping[str, str] | None = None
) -> Run:
    """Run a command to its end (stdout to a file or nowhere); its wall time and peak RSS."""
    with (
        open(stdout or os.devnull, "wb") as out,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            tail = err.read()[-600:].decode(errors="replace").strip()
            raise RuntimeError(f"{Path(command[0]).name} exited {process.returncode}: {tail}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """A process and its descendants, the process first (Linux /proc)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += tree(int(child))
    except OSError:
        pass
    return pids


def rss_mb(pid: int) -> float:
    """Resident set size of one process, MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_rss_mb(pid: int) -> float:
    """The largest RSS among a server's descendants (its workers), or the server's own."""
    pids = tree(pid)
    return max((rss_mb(p) for p in pids[1:]), default=rss_mb(pid)) or rss_mb(pid)


class Sampler:
    """Polls a server's largest worker RSS in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, worker_rss_mb(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Server:
    """A started server process group: its pid, port and when it was launched."""

    pid: int
    port: int
    started: float

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """A keep-alive connection (all its requests go to one worker)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


@contextmanager
def serving(command: Sequence[str], port: int, env: Mapping[str, str]) -> Iterator[Server]:
    """Start a server in its own process group; stop that group afterwards."""
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield Server(process.pid, port, time.perf_counter())
    finally:
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


@dataclass(frozen=True)
class Response:
    """Status, body and seconds of one HTTP exchange."""

    status: int
    body: bytes
    seconds: float
    headers: dict[str, str]


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One request on a (kept-alive) connection, reconnecting if the server closed it."""
    started = time.perf_counter()
    for attempt in (1, 2):
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            reply = conn.getresponse()
            data = reply.read()
            return Response(
                reply.status, data, time.perf_counter() - started, dict(reply.getheaders())
            )
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def wait_for(server: Server, path: str, timeout: float) -> Response:
    """Poll until the server answers `path` (connection refused: retry); its first answer."""
    limit = time.monotonic() + timeout
    while True:
        conn = server.connect(timeout)
        try:
            return request(conn, "GET", path)
        except ConnectionRefusedError:
            if time.monotonic() > limit:
                raise RowTimeout(f"port {server.port} never opened") from None
            time.sleep(0.02)
        finally:
            conn.close()


def wait_verified(server: Server, timeout: float) -> None:
    """Poll `/healthz` until the worker has checked its chain (status "ok"): what it does after
    a start, in the background, would otherwise be measured with what comes next."""
    limit = time.monotonic() + timeout
    while True:
        health = json.loads(wait_for(server, "/healthz", timeout).body)
        if health["status"] == "ok":
            return
        if health["status"] != "verifying" or time.monotonic() > limit:
            raise RuntimeError(f"the server's chain check: {health}")
        time.sleep(0.2)


def _hammer(port: int, path: str, length: int, seconds: float, start_at: float) -> int:
    """Requests one keep-alive client completes in `seconds` (each body checked by length)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.time() < start_at:
        time.sleep(0.001)
    done, stop = 0, time.time() + seconds
    while time.time() < stop:
        conn.request("GET", path)
        reply = conn.getresponse()
        body = reply.read()
        if reply.status != 200 or len(body) != length:
            raise RuntimeError(f"status {reply.status}, {len(body)} bytes")
        done += 1
    conn.close()
    return done


def requests_per_second(port: int, path: str, length: int, clients: int, seconds: float) -> float:
    """Keep-alive GETs per second from `clients` client processes for `seconds`."""
    start_at = time.time() + 0.5
    with get_context("fork").Pool(clients) as pool:
        counts = pool.starmap(_hammer, [(port, path, length, seconds, start_at)] * clients)
    return sum(counts) / seconds
