"""Helpers for the servers the tests start: a free loopback port, waiting for /healthz, and
stopping them."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process we started (killed if it does not stop within 15 s) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], printed: Callable[[], str], timeout: float = 30
) -> None:
    """Poll /healthz until it answers 200; fail with what the server printed if it dies or
    time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{printed()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)  # polling interval of a bounded readiness loop, not a timing assertion
    raise AssertionError(f"{url} did not become healthy within {timeout} s:\n{printed()}")


def post_event(url: str, summit_id: str, body: dict[str, Any], token: str) -> int:
    """POST one event to a running server's API; its status."""
    request = urllib.request.Request(
        f"{url}/api/summits/{summit_id}/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
