"""Issue 10's targets as users feel them: whole `diplocal` processes and real HTTP, each row next
to a reference measured in the same run, at 10,000 / 100,000 / 1,000,000 events.

Run by hand (not a test): `.venv/bin/python bench/scale.py [--events 100000] [--quick]`.
The log (about ten events per summit, every event allowed by CONTRACT section 3, twenty IANA
zones, plus one long-running summit holding 5% of the events) is generated once as JSON Lines in
import form under --work-dir and reused by later runs. Only the public interface is used: the
`diplocal` command in .venv/bin (`--db`, `import`, `replay`, `export`, `verify`, `token add`,
`serve`), gunicorn `web:create_app()` with DIPLOCAL_DB as the README deploys it, and HTTP.
Raw references are plain-Python processes (bench/_scale_raw.py). Each row prints what, the
diplocal figure, the reference, their ratio, the issue's target and whether it is met; a row
that outlives --timeout prints "timeout", one that fails prints its error.
"""

from __future__ import annotations

import os.path
import sys

# bench/http.py would shadow the stdlib's http: keep this folder last on the import path.
_HERE = os.path.dirname(os.path.realpath(__file__))  # Python puts the resolved folder there
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack, closing  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402
from itertools import product  # noqa: E402
from pathlib import Path  # noqa: E402

from _scale_log import COUNTRIES, KINDS, STATUSES, LogFile, cached  # noqa: E402
from _scale_run import (  # noqa: E402
    Response,
    RowTimeout,
    Run,
    Sampler,
    Server,
    deadline,
    free_port,
    request,
    requests_per_second,
    run,
    serving,
    wait_for,
    wait_verified,
    worker_rss_mb,
)

PUBLIC_URL = "https://calendar.example.org"  # the servers' DIPLOCAL_BASE_URL
ROOT = Path(_HERE).parent
BIN = ROOT / ".venv" / "bin"
DIPLOCAL = str(BIN / "diplocal")
PYTHON = str(BIN / "python")
RAW = str(Path(_HERE) / "_scale_raw.py")
STEADY_MB = 32.0  # this script's reading of "steady": growth over cycles 11..N


@dataclass(frozen=True)
class Target:
    """A bound from the issue's Targets table: figure <= or >= value (unit x or MB)."""

    op: str
    value: float
    unit: str = "x"

    def met(self, figure: float) -> bool:
        """Whether the figure is within the bound."""
        return figure <= self.value if self.op == "<=" else figure >= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}{'x' if self.unit == 'x' else ' ' + self.unit}"


@dataclass
class Row:
    """One printed line: what, both figures, ratio, target, met (or a timeout/error note)."""

    what: str
    ours: str = ""
    reference: str = ""
    ratio: float | None = None
    target: Target | None = None
    measured: float | None = None  # what the target checks, when it is not the ratio
    note: str = ""

    def cells(self) -> list[str]:
        """The table cells."""
        if self.note:
            return [self.what, self.note, self.reference or "", "", str(self.target or "-"), "-"]
        figure = self.ratio if self.measured is None else self.measured
        met = "-"
        if self.target is not None and figure is not None:
            met = "met" if self.target.met(figure) else "NOT met"
        ratio = "-" if self.ratio is None else f"{self.ratio:.3g}x"
        return [self.what, self.ours, self.reference, ratio, str(self.target or "-"), met]


@dataclass
class Bench:
    """What the rows share: options, the log, the stores, the servers and the reference replay."""

    args: argparse.Namespace
    log: LogFile
    run_dir: Path
    env: dict[str, str]
    stack: ExitStack
    servers: dict[str, tuple[Server, ExitStack]] = field(default_factory=dict)
    replay_json: Run | None = None
    secret: str | None = None
    imported: bool = False

    @property
    def db(self) -> Path:
        """The diplocal SQLite file of this run."""
        return self.run_dir / "diplocal.sqlite3"

    @property
    def raw_db(self) -> Path:
        """The raw reference's SQLite file."""
        return self.run_dir / "raw.sqlite3"

    def diplocal(self, *args: str) -> list[str]:
        """A diplocal command line against this run's store."""
        return [DIPLOCAL, "--db", str(self.db), *args]

    def ensure_db(self) -> None:
        """Import the log (untimed) into a new store when the import row did not succeed."""
        if not self.imported:
            _fresh_file(self.db)
            run(self.diplocal("import", str(self.log.path)), env=self.env)
            self.imported = True

    def full_replay(self) -> Run:
        """`diplocal replay --format json`: the reference of the server rows."""
        if self.replay_json is None:
            self.ensure_db()
            self.replay_json = run(self.diplocal("replay", "--format", "json"), env=self.env)
        return self.replay_json

    def token(self) -> str:
        """A write token made with `diplocal token add` (once)."""
        if self.secret is None:
            self.ensure_db()
            out = subprocess.run(
                self.diplocal("token", "add", "bench"),
                env=self.env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            self.secret = out.stdout.strip()
        return self.secret

    def command(self, kind: str, port: int) -> list[str]:
        """The command line of a server kind."""
        if kind == "gunicorn":  # the README's deployment
            return [
                *(str(BIN / "gunicorn"), "-k", "gevent", "--worker-connections", "2048"),
                *("-w", "4", "-b", f"127.0.0.1:{port}", "web:create_app()"),
            ]
        workers = ["--workers", "1"] if kind in ("serve-1", "serve-1-cold") else []
        return self.diplocal("serve", "--port", str(port), "--no-access-log", *workers)

    def fresh(self, kind: str) -> Server:
        """Start a server of this kind now (stopping an earlier one)."""
        self.stop(kind)
        self.ensure_db()
        port = free_port()
        stack = ExitStack()
        # gunicorn's web:create_app() reads DIPLOCAL_DB; a public URL, as the README deploys
        env = dict(self.env, DIPLOCAL_DB=str(self.db), DIPLOCAL_BASE_URL=PUBLIC_URL)
        if kind == "serve-1-cold":  # no snapshots, so no kept VEVENTs: its first feed renders all
            env["DIPLOCAL_SNAPSHOT_EVERY"] = "0"
        server = stack.enter_context(serving(self.command(kind, port), port, env))
        self.servers[kind] = (server, stack)
        return server

    def server(self, kind: str) -> Server:
        """The running server of this kind, started and answering /healthz."""
        if kind not in self.servers:
            self.fresh(kind)
        server = self.servers[kind][0]
        wait_for(server, "/healthz", self.args.timeout)
        return server

    def stop(self, kind: str) -> None:
        """Stop the server of this kind, if one runs."""
        if kind in self.servers:
            self.servers.pop(kind)[1].close()

    def stop_all(self) -> None:
        """Stop every server."""
        for kind in list(self.servers):
            self.stop(kind)


def _ok(response: Response, what: str) -> Response:
    if response.status not in (200, 201):
        raise RuntimeError(f"{what}: HTTP {response.status} {response.body[:200]!r}")
    return response


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _fresh_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def row_import(b: Bench) -> list[Row]:
    """`diplocal import` vs parse + hash chain + executemany."""
    _fresh_file(b.db)
    _fresh_file(b.raw_db)
    raw = run([PYTHON, RAW, "import", str(b.log.path), str(b.raw_db)], env=b.env)
    ours = run(b.diplocal("import", str(b.log.path)), env=b.env)
    b.imported = True
    return [
        Row("`diplocal import`: speed vs raw", ours.show(), raw.show(), raw.wall / ours.wall,
            Target(">=", 0.5)),
        Row("`diplocal import`: peak RSS", f"{ours.peak_mb:.0f} MB", f"{raw.peak_mb:.0f} MB",
            None, Target("<=", 300, "MB"), measured=ours.peak_mb),
    ]  # fmt: skip


def row_replay_json(b: Bench) -> list[Row]:
    """`diplocal replay --format json` vs SELECT + json.loads."""
    b.ensure_db()
    if not b.raw_db.exists():
        run([PYTHON, RAW, "import", str(b.log.path), str(b.raw_db)], env=b.env)
    raw = run([PYTHON, RAW, "replay", str(b.raw_db)], env=b.env)
    b.replay_json = ours = run(b.diplocal("replay", "--format", "json"), env=b.env)
    return [
        Row("`replay --format json`: speed vs raw", ours.show(), raw.show(), raw.wall / ours.wall,
            Target(">=", 0.4)),
        Row("`replay --format json`: peak RSS", f"{ours.peak_mb:.0f} MB", f"{raw.peak_mb:.0f} MB",
            None, Target("<=", 400, "MB"), measured=ours.peak_mb),
    ]  # fmt: skip


def row_replay_ics(b: Bench) -> list[Row]:
    """`diplocal replay --format ics` vs the json replay."""
    json_run = b.full_replay()
    ours = run(b.diplocal("replay", "--format", "ics"), env=b.env)
    return [
        Row("`replay --format ics` vs the json replay", ours.show(),
            f"json: {json_run.show()}", ours.wall / json_run.wall, Target("<=", 1.5)),
    ]  # fmt: skip


def row_verify(b: Bench) -> list[Row]:
    """`diplocal verify` vs hashlib over the export (no target in the issue: time ratio)."""
    b.ensure_db()
    export = b.run_dir / "export.jsonl"
    run(b.diplocal("export"), stdout=export, env=b.env)
    raw = run([PYTHON, RAW, "verify", str(export)], env=b.env)
    ours = run(b.diplocal("verify"), env=b.env)
    return [
        Row("`diplocal verify` vs hashlib over the export (time ratio)", ours.show(), raw.show(),
            ours.wall / raw.wall),
    ]  # fmt: skip


def _start(b: Bench, kind: str, label: str) -> list[Row]:
    reference = b.full_replay()
    b.stop_all()  # a server left from an earlier row would still restore and check its chain
    server = b.fresh(kind)
    with Sampler(server.pid) as sampler:
        first = _ok(wait_for(server, "/calendar.ics", b.args.timeout), "first feed")
        spent = time.perf_counter() - server.started
    if b"BEGIN:VEVENT" not in first.body:
        raise RuntimeError(f"the first feed has no event ({len(first.body)} bytes): wrong store?")
    return [
        Row(f"{label}: start to first `/calendar.ics` vs a full replay",
            f"{spent:.2f} s ({len(first.body):,} bytes), worker {sampler.peak:.0f} MB peak",
            f"json replay {reference.wall:.2f} s", spent / reference.wall, Target("<=", 0.1)),
    ]  # fmt: skip


def row_start_serve(b: Bench) -> list[Row]:
    """`diplocal serve` (granian, 2 workers): start to first feed."""
    return _start(b, "serve", "`diplocal serve`")


def row_restart_serve(b: Bench) -> list[Row]:
    """`diplocal serve` started again on a log it has served: once with the whole feed kept at
    the log's head (served while the calendar is restored), once after a write since (the
    kept feed caught up: the written summit, the one with the most events, folded again)."""
    server = b.fresh("serve")
    _ok(wait_for(server, "/calendar.ics", b.args.timeout), "first start's feed")
    _wait_for_kept_feed(b)
    rows = _start(b, "serve", "`diplocal serve` restarted, its feed kept at the head")
    conn = b.servers["serve"][0].connect(b.args.timeout)
    try:
        headers = {"Authorization": f"Bearer {b.token()}", "Content-Type": "application/json"}
        body = json.dumps({"type": "DetailsAmended", "data": {"title": "Retitled"}}).encode()
        path = f"/api/summits/{b.log.hot_summit}/events"
        _ok(request(conn, "POST", path, body, headers), "write")
    finally:
        conn.close()
    return rows + _start(b, "serve", "`diplocal serve` restarted after a write since")


def _wait_for_kept_feed(b: Bench) -> None:
    """Until a worker has kept the whole feed at the log's head (written in the background
    after a render: README, "Deploying"), read from the store's `feeds` table."""
    deadline = time.monotonic() + b.args.timeout
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(f"file:{b.db}?mode=ro", uri=True)) as conn:
            kept, head = conn.execute(
                "SELECT (SELECT max(position) FROM feeds), (SELECT max(position) FROM events)"
            ).fetchone()
        if kept is not None and kept == head:
            return
        time.sleep(0.2)
    raise RuntimeError("no worker kept the whole feed")


def row_start_gunicorn(b: Bench) -> list[Row]:
    """gunicorn -w 4 'web:create_app()' as the README runs it: start to first feed."""
    try:
        return _start(b, "gunicorn", "gunicorn -w 4 `web:create_app()`")
    finally:
        b.stop("gunicorn")


def _instants(b: Bench, count: int, rng: random.Random) -> list[str]:
    span = (b.log.last_recorded - b.log.first_recorded).total_seconds()
    picks = {int(rng.uniform(0, span)) for _ in range(count * 2)}
    stamps = [b.log.first_recorded + timedelta(seconds=s) for s in sorted(picks)]
    rng.shuffle(stamps)
    return [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in stamps[:count]]


def _as_of_client(server: Server, instants: list[str], timeout: float, out: list[float]) -> None:
    conn = server.connect(timeout)
    try:
        for instant in instants:
            out.append(_ok(request(conn, "GET", f"/calendar.ics?as_of={instant}"), "as_of").seconds)
    finally:
        conn.close()


def row_as_of(b: Bench) -> list[Row]:
    """`/calendar.ics?as_of=<random instant>`: one client, then 4 concurrent; vs a full replay."""
    reference = b.full_replay()
    server = b.server("serve")
    count = b.args.as_of_requests
    instants = _instants(b, count * 2, random.Random(b.args.seed))
    alone: list[float] = []
    _as_of_client(server, instants[:count], b.args.timeout, alone)
    together: list[float] = []
    share = [instants[count + i :: 4] for i in range(4)]
    threads = [
        threading.Thread(
            target=_as_of_client, args=(server, part, b.args.timeout, together), daemon=True
        )
        for part in share
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(together) < count:
        raise RuntimeError(f"only {len(together)} of {count} concurrent as_of requests answered")
    median = statistics.median(alone)
    p99 = statistics.quantiles(together, n=100, method="inclusive")[98]
    return [
        Row(f"`as_of` feed, uncached, one client: median of {count}", _ms(median),
            f"json replay {reference.wall:.2f} s", median / reference.wall, Target("<=", 0.05)),
        Row(f"`as_of`, 4 concurrent clients: p99 of {count} vs the one-client median",
            f"p99 {_ms(p99)} (median {_ms(statistics.median(together))})",
            f"one client: median {_ms(median)}", p99 / median, Target("<=", 3)),
    ]  # fmt: skip


def row_audit(b: Bench) -> list[Row]:
    """Second `/api/audit/verify` vs the first, on a server just started (its first call
    waits for the start-up check of the whole chain); one keep-alive connection, one worker."""
    server = b.fresh("serve")
    wait_for(server, "/healthz", b.args.timeout)
    conn = server.connect(b.args.timeout)
    try:
        first = _ok(request(conn, "GET", "/api/audit/verify"), "audit")
        second = _ok(request(conn, "GET", "/api/audit/verify"), "audit")
    finally:
        conn.close()
    return [
        Row("second `/api/audit/verify` vs the first", _ms(second.seconds),
            f"first: {_ms(first.seconds)}", second.seconds / first.seconds, Target("<=", 0.01)),
    ]  # fmt: skip


NGINX_CONF = """worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    sendfile on;
    types {{ text/calendar ics; }}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{ listen 127.0.0.1:{port}; root {tmp}/www; location / {{ }} }}
}}
"""


def _static_command(tmp: Path, port: int) -> tuple[list[str], str]:
    """nginx (2 workers, keep-alive, no access log) if installed, else python -m http.server."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        return [nginx, "-p", str(tmp), "-c", str(conf)], "nginx, 2 workers"
    command = [PYTHON, "-m", "http.server", "-p", "HTTP/1.1", "-b", "127.0.0.1",
               "-d", str(tmp / "www"), str(port)]  # fmt: skip
    return command, "`python -m http.server` (nginx is not installed)"


def row_static(b: Bench) -> list[Row]:
    """Cached full feed req/s over keep-alive: `diplocal serve` vs a static server, same bytes."""
    server = b.server("serve")
    body = b""
    conns = [server.connect(b.args.timeout) for _ in range(4)]
    for _ in range(3):  # a few connections, so that both workers have rendered the feed
        for conn in conns:
            body = _ok(request(conn, "GET", "/calendar.ics"), "feed").body
    for conn in conns:
        conn.close()
    tmp = b.run_dir / "static"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "www").mkdir(parents=True)
    (tmp / "www" / "calendar.ics").write_bytes(body)
    port = free_port()
    command, label = _static_command(tmp, port)
    ours: list[float] = []
    theirs: list[float] = []
    with serving(command, port, b.env) as static:
        got = _ok(wait_for(static, "/calendar.ics", 30), "static").body
        if got != body:
            raise RuntimeError("the static server does not send the same bytes")
        for number in range(b.args.rounds):
            sides = [(server.port, ours), (static.port, theirs)]
            for port_, figures in sides if number % 2 == 0 else sides[::-1]:
                figures.append(requests_per_second(
                    port_, "/calendar.ics", len(body), b.args.clients, b.args.seconds))  # fmt: skip
    ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
    return [
        Row(f"cached full feed req/s, keep-alive, {b.args.clients} clients "
            f"({b.log.summits:,} summits, {len(body):,} bytes)",
            f"`diplocal serve` (2 workers) {statistics.median(ours):,.0f} req/s",
            f"{label}: {statistics.median(theirs):,.0f} req/s", ratio, Target(">=", 0.7)),
    ]  # fmt: skip


def _combos(count: int, seed: int) -> list[str]:
    combos = [f"country={c}&kind={k}&status={s}" for c, k, s in product(COUNTRIES, KINDS, STATUSES)]
    return random.Random(seed).sample(combos, min(count, len(combos)))


def row_filtered(b: Bench) -> list[Row]:
    """400 distinct filtered feeds: growth of the one worker's RSS."""
    server = b.server("serve-1")
    conn = server.connect(b.args.timeout)
    try:
        _ok(request(conn, "GET", "/calendar.ics"), "feed")
        before = worker_rss_mb(server.pid)
        started = time.perf_counter()
        queries = _combos(400, b.args.seed)
        for query in queries:
            _ok(request(conn, "GET", f"/calendar.ics?{query}"), "filtered feed")
        spent = time.perf_counter() - started
        after = worker_rss_mb(server.pid)
    finally:
        conn.close()
    growth = after - before
    return [
        Row(f"{len(queries)} distinct filtered feeds (country, kind, status): worker RSS growth",
            f"{growth:+.0f} MB ({before:.0f} -> {after:.0f} MB; {spent:.1f} s)",
            f"warm worker {before:.0f} MB", None, Target("<=", 64, "MB"), measured=growth),
    ]  # fmt: skip


def row_append(b: Bench) -> list[Row]:
    """POST an event to the long-running summit vs to a just-announced one (median of K each)."""
    server = b.server("serve-1")
    headers = {"Authorization": f"Bearer {b.token()}", "Content-Type": "application/json"}
    conn = server.connect(b.args.timeout)
    stamp = time.strftime("%Y%m%d%H%M%S")
    count = b.args.appends
    note = json.dumps({"type": "SummitNoted", "data": {"note": "Bench note."}}).encode()
    hot: list[float] = []
    new: list[float] = []
    try:
        for i in range(count):
            summit = f"bench-{stamp}-{i}"
            announce = {"type": "SummitAnnounced", "data": {
                "title": "Bench summit", "kind": "working_visit",
                "participants": [{"name": "Envoy", "country": "KR"}],
                "location": {"country": "KR", "timezone": "Asia/Seoul"},
                "schedule": {"start": "2026-05"}, "status": "tentative"}}  # fmt: skip
            path = f"/api/summits/{summit}/events"
            _ok(request(conn, "POST", path, json.dumps(announce).encode(), headers), "announce")
            new.append(_ok(request(conn, "POST", path, note, headers), "append new").seconds)
            path = f"/api/summits/{b.log.hot_summit}/events"
            hot.append(_ok(request(conn, "POST", path, note, headers), "append hot").seconds)
    finally:
        conn.close()
    mid_hot, mid_new = statistics.median(hot), statistics.median(new)
    return [
        Row(f"append to a summit with {b.log.hot_events:,} events vs to a new summit "
            f"(median of {count})", _ms(mid_hot), f"new summit: {_ms(mid_new)}",
            mid_hot / mid_new, Target("<=", 2)),
    ]  # fmt: skip


def row_cycles(b: Bench) -> list[Row]:
    """A fresh one-worker server: its first feed, then N write-and-read cycles (time, RSS);
    the reference is a full render: the first feed of a worker that keeps no VEVENTs."""
    cold = b.fresh("serve-1-cold")
    try:
        wait_verified(cold, b.args.timeout)  # the render alone, not beside the chain check
        full = _ok(wait_for(cold, "/calendar.ics", b.args.timeout), "full render")
    finally:
        b.stop("serve-1-cold")
    server = b.fresh("serve-1")
    wait_for(server, "/healthz", b.args.timeout)
    headers = {"Authorization": f"Bearer {b.token()}", "Content-Type": "application/json"}
    conn = server.connect(b.args.timeout)
    reads: list[float] = []
    rss: list[float] = []
    summits = b.log.sample_summits or [b.log.hot_summit]
    try:
        _ok(request(conn, "GET", "/calendar.ics"), "first feed")
        # the worker may serve its kept feed before its calendar is restored, and checks its
        # chain in the background: warm is once both are done
        _ok(request(conn, "GET", "/api/summits?limit=1"), "calendar restored")
        wait_verified(server, b.args.timeout)
        warm = worker_rss_mb(server.pid)
        for i in range(b.args.cycles):
            summit = summits[i % len(summits)]
            body = {"type": "DetailsAmended", "data": {"title": f"Retitled in cycle {i}"}}
            path = f"/api/summits/{summit}/events"
            _ok(request(conn, "POST", path, json.dumps(body).encode(), headers), "write")
            reads.append(_ok(request(conn, "GET", "/calendar.ics"), "feed").seconds)
            rss.append(worker_rss_mb(server.pid))
    finally:
        conn.close()
    settle = min(10, len(rss) - 1)
    growth = max(rss[settle:]) - rss[settle]
    worst = max(reads)
    cycles = b.args.cycles
    return [
        Row(f"next feed after one write, worst of {cycles} (median {_ms(statistics.median(reads))})"
            f", {b.log.summits:,} summits", _ms(worst),
            f"a full render (first feed, no kept VEVENTs): {_ms(full.seconds)}",
            worst / full.seconds, Target("<=", 0.05)),
        Row("warm worker RSS (calendar restored, chain checked)", f"{warm:.0f} MB", "-", None,
            Target("<=", 600, "MB"), measured=warm),
        Row(f"worker RSS over {cycles} write-and-read cycles (growth after cycle {settle})",
            f"{growth:+.0f} MB ({rss[0]:.0f} -> {rss[-1]:.0f} MB, max {max(rss):.0f})",
            f"warm {warm:.0f} MB", None, Target("<=", STEADY_MB, "MB"), measured=growth),
    ]  # fmt: skip


ROWS: dict[str, tuple[Callable[[Bench], list[Row]], str]] = {
    "import": (row_import, "`diplocal import`"),
    "replay-json": (row_replay_json, "`replay --format json`"),
    "replay-ics": (row_replay_ics, "`replay --format ics` vs the json replay"),
    "verify": (row_verify, "`diplocal verify` vs hashlib over the export"),
    "start-serve": (row_start_serve, "`diplocal serve`: start to first feed"),
    "restart-serve": (row_restart_serve, "`diplocal serve` restarted: start to first feed"),
    "as-of": (row_as_of, "`as_of` feed, uncached"),
    "audit": (row_audit, "second `/api/audit/verify` vs the first"),
    "static": (row_static, "cached full feed req/s vs a static server"),
    "start-gunicorn": (row_start_gunicorn, "gunicorn `web:create_app()`: start to first feed"),
    "filtered": (row_filtered, "400 distinct filtered feeds: worker RSS growth"),
    "append": (row_append, "append to the long-running summit vs to a new one"),
    "cycles": (row_cycles, "next feed after one write; warm worker RSS; RSS over the cycles"),
}


def attempt(b: Bench, name: str) -> list[Row]:
    """Run one row function under its deadline; a timeout or failure becomes a row."""
    function, what = ROWS[name]
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        with deadline(b.args.timeout):
            rows = function(b)
    except RowTimeout:
        rows = [Row(what, note=f"timeout (> {b.args.timeout:g} s)")]
    except Exception as error:  # a failing row must not end the run
        rows = [Row(what, note=f"error: {error}"[:300])]
    spent = time.perf_counter() - started
    for row in rows:
        print(f"    {' | '.join(row.cells())}   ({spent:.0f} s)", file=sys.stderr, flush=True)
    return rows


def machine() -> str:
    """nproc, RAM, load average, Python: the line printed above the table."""
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {int(mem) / 1024**2:.1f} GiB RAM, load average {load}, "
        f"Python {platform.python_version()}, {platform.platform(terse=True)}"
    )


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| what | diplocal | reference | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def options() -> argparse.Namespace:
    """Command-line options (--quick: 10,000 events and shorter loops)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="10000, 100000, 1000000")
    parser.add_argument("--quick", action="store_true", help="10,000 events, short loops")
    parser.add_argument("--generate-only", action="store_true", help="make the log and stop")
    parser.add_argument("--work-dir", type=Path, default=Path("/var/tmp/diplocal-scale"))
    parser.add_argument("--only", default="", help=f"comma-separated rows of: {', '.join(ROWS)}")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per row")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--as-of-requests", type=int, default=20)
    parser.add_argument("--appends", type=int, default=20, help="appends per side")
    parser.add_argument("--cycles", type=int, default=100, help="write-and-read cycles")
    parser.add_argument("--clients", type=int, default=4, help="keep-alive clients (req/s)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per req/s round")
    parser.add_argument("--rounds", type=int, default=3, help="req/s rounds, alternating")
    args = parser.parse_args()
    if args.quick:
        args.events, args.as_of_requests, args.rounds, args.seconds = 10_000, 8, 1, 3.0
    unknown = set(filter(None, args.only.split(","))) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = options()
    started = time.perf_counter()
    log, reused = cached(args.work_dir, args.events)
    made = "reused" if reused else f"generated in {time.perf_counter() - started:.1f} s"
    print(
        f"log: {log.events:,} events, {log.summits:,} summits (one with {log.hot_events:,}), "
        f"{log.size / 1e6:,.1f} MB, {made}: {log.path}",
        file=sys.stderr,
    )
    if args.generate_only:
        return
    run_dir = args.work_dir / f"run-{args.events}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOCAL_")}
    before = machine()
    chosen = [n for n in ROWS if not args.only or n in args.only.split(",")]
    rows: list[Row] = []
    with ExitStack() as stack:
        b = Bench(args, log, run_dir, env, stack)
        stack.callback(b.stop_all)
        for name in chosen:
            rows += attempt(b, name)
            if name == "static" or (name == "audit" and "static" not in chosen):
                b.stop("serve")
    print(f"\nCommand: .venv/bin/python bench/scale.py {' '.join(sys.argv[1:])}")
    print(
        f"Log: {log.events:,} events, {log.summits:,} summits (one with {log.hot_events:,} "
        f"events), {log.size / 1e6:,.1f} MB of JSON Lines"
    )
    print(f"Machine at start: {before}")
    print(f"Machine at end:   {machine()}; run took {time.perf_counter() - started:,.0f} s\n")
    print(table(rows))


if __name__ == "__main__":
    main()
