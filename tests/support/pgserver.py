"""A throwaway PostgreSQL 15 server on 127.0.0.1 for the tests: initdb and pg_ctl in a temp dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support.servers import free_port

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")


def _tool(name: str) -> str:
    """A PostgreSQL program: Debian's version 15 first, then any other Debian version, then PATH."""
    others = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in (*PG_BIN_DIRS, *others):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed; the store tests need it")
    return found


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, yield its URL, stop it and remove its files."""
    root = Path(tempfile.mkdtemp(prefix="diplocal-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    # UTF8 whatever the machine's default locale says (the store keeps non-ASCII text as is).
    subprocess.run(
        _as_owner(
            [_tool("initdb"), "-D", str(data), "-U", "diplocal", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=on"
    subprocess.run(
        _as_owner(
            [_tool("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", f"{root}/log", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://diplocal@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([_tool("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
