"""HTTP speed of the cached feed: `diplocal serve` and gunicorn next to nginx, same bytes.

Run by hand: `.venv/bin/python bench/http.py [--summits 1000] [--seconds 3]`. Needs wrk and nginx
(Debian packages wrk, nginx-light). Every server gets `Connection: close` requests from wrk on
loopback, has as many workers and writes no access log; nginx serves the exact bytes the app
produced, as a static file, once with sendfile on (the target's reference) and once with it off.
"""

from __future__ import annotations

import os.path
import sys

# This file is named http.py: keep its folder off the import path so that `http` is the stdlib's.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from events import FixedClock, NewEvent, open_store  # noqa: E402

ZONES = [
    ("JP", "Asia/Tokyo"),
    ("FR", "Europe/Paris"),
    ("US", "America/New_York"),
    ("BR", "America/Sao_Paulo"),
    ("IN", "Asia/Kolkata"),
    ("ZA", "Africa/Johannesburg"),
]
TARGETS = {"feed vs nginx": 0.7, "304 vs 200": 2.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def announce(n: int) -> dict[str, Any]:
    country, zone = ZONES[n % len(ZONES)]
    day = datetime(2026, 1, 1) + timedelta(days=n % 700)
    minute = n % 3 != 0
    start = day.strftime("%Y-%m-%dT10:30" if minute else "%Y-%m-%d")
    end = day.strftime("%Y-%m-%dT12:00" if minute else "%Y-%m-%d")
    return {
        "title": f"Summit {n}",
        "kind": "bilateral_summit",
        "participants": [
            {"name": "Premier", "country": country, "role": "Prime Minister"},
            {"name": "President", "country": "KR", "role": "President"},
        ],
        "location": {"city": "Capital", "country": country, "timezone": zone},
        "schedule": {"start": start, "end": end},
        "status": "confirmed" if n % 2 else "tentative",
        "source": {"url": f"https://example.org/news/{n}"},
    }


def seed(db: str, summits: int) -> None:
    store = open_store(db, FixedClock(datetime(2025, 6, 1, tzinfo=UTC), tick=timedelta(seconds=1)))
    drafts = (
        NewEvent.of(f"summit-{n:05d}", "SummitAnnounced", announce(n)).draft for n in range(summits)
    )
    store.import_events(drafts, expected_head=0)
    store.close()


def wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def running(command: list[str], url: str, env: dict[str, str] | None = None) -> Iterator[int]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait(url, process)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


NGINX_CONF = """
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_timeout 0;
    sendfile on;
    types {{ text/calendar ics; }}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        location / {{ }}
    }}
}}
"""


def tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids += tree(int(child))
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process tree (live processes only)."""
    ticks = 0
    for each in tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, headers: list[str], pid: int) -> tuple[float, float]:
    """Requests per second, and server CPU microseconds per request (all its processes)."""
    before = cpu_seconds(pid)
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", "Connection: close"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors[1]} error responses:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    if match is None or done is None:
        raise SystemExit(out)
    return float(match[1]), used / int(done[1]) * 1e6


def in_process(db: str, repeat: int = 2000) -> dict[str, float]:
    """Microseconds per cached feed request inside one process (no server, no socket)."""
    from web import create_app

    app = create_app({"DB": db})
    client = app.test_client()
    head = client.get("/healthz").get_json()["position"]
    client.get("/calendar.ics")
    client.get(f"/calendar.ics?at_position={head}")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/calendar.ics",
        "QUERY_STRING": "",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
        assert status.startswith("200")

    started = time.perf_counter()
    for _ in range(repeat):
        app.wsgi_app(environ, start_response)
    fast = (time.perf_counter() - started) / repeat * 1e6
    started = time.perf_counter()
    for _ in range(repeat // 10):
        client.get(f"/calendar.ics?at_position={head}")
    flask = (time.perf_counter() - started) / (repeat // 10) * 1e6
    app.extensions["diplocal"].store.close()
    return {"cached feed, WSGI fast path": fast, "cached feed through Flask": flask}


def servers(
    db: str, workers: int, gunicorn_args: list[str]
) -> dict[str, tuple[list[str], int, dict[str, str]]]:
    """Command, port and environment of each app server (no access log for any of them)."""
    env = dict(os.environ, DIPLOCAL_DB=db)
    env.pop("DIPLOCAL_BASE_URL", None)
    diplocal = str(Path(sys.executable).parent / "diplocal")
    port = free_port()
    serve = [diplocal, "--db", db, "serve", "--port", str(port), "--workers", str(workers),
             "--no-access-log"]  # fmt: skip
    gport = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", str(workers), *gunicorn_args,
                "-b", f"127.0.0.1:{gport}", "--log-level", "warning",
                f"web:create_app({{'FEED_BASE_URL': 'http://127.0.0.1:{port}'}})"]  # fmt: skip
    return {"diplocal serve": (serve, port, env), "gunicorn": (gunicorn, gport, env)}


def nginx_conf(tmp: Path, port: int, sendfile: bool) -> Path:
    """An nginx configuration serving tmp/www on a port, sendfile on or off."""
    conf = tmp / f"nginx-{port}.conf"
    text = NGINX_CONF.format(tmp=tmp, port=port).replace(
        "sendfile on;", f"sendfile {'on' if sendfile else 'off'};"
    )
    conf.write_text(text.replace(f"pid {tmp}/nginx.pid;", f"pid {tmp}/nginx-{port}.pid;"))
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summits", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("gunicorn_args", nargs="*", help="extra gunicorn options (after --)")
    parser.add_argument("--workers", type=int, default=2, help="workers of each server")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="diplocal-http-"))
    tmp.chmod(0o755)
    (tmp / "www").mkdir()
    db = str(tmp / "bench.sqlite3")
    seed(db, args.summits)

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    apps = servers(db, args.workers, args.gunicorn_args)
    with ExitStack() as stack:
        urls: dict[str, str] = {}
        pids: dict[str, int] = {}
        for name, (command, port, env) in apps.items():
            pids[name] = stack.enter_context(
                running(command, f"http://127.0.0.1:{port}/healthz", env)
            )
            urls[name] = f"http://127.0.0.1:{port}/calendar.ics"
        bodies = {}
        for name, url in urls.items():
            with urllib.request.urlopen(url) as response:
                bodies[name], etag = response.read(), response.headers["ETag"]
        body = bodies["diplocal serve"]
        assert set(bodies.values()) == {body}, "both app servers must send the same bytes"
        (tmp / "www" / "calendar.ics").write_bytes(body)
        (tmp / "www").chmod(0o755)
        (tmp / "www" / "calendar.ics").chmod(0o644)
        for sendfile in (True, False):
            port = free_port()
            conf = nginx_conf(tmp, port, sendfile)
            url = f"http://127.0.0.1:{port}/calendar.ics"
            name = f"nginx sendfile {'on' if sendfile else 'off'}"
            pids[name] = stack.enter_context(running([nginx, "-p", str(tmp), "-c", str(conf)], url))
            urls[name] = url
            with urllib.request.urlopen(url) as response:
                assert response.read() == body, "nginx must serve the same bytes"
        for name in apps:  # warm every worker's cache
            for _ in range(20):
                urllib.request.urlopen(urls[name]).read()
        rounds: list[dict[str, float]] = []
        cpu: list[dict[str, float]] = []
        names = list(urls)
        for number in range(args.rounds):  # interleaved, so that a busy moment hits every side
            rate: dict[str, float] = {}
            micros: dict[str, float] = {}
            turn = number % len(names)  # and each round starts with another server
            for name in names[turn:] + names[:turn]:
                url = urls[name]
                conditions = {"200": []} if name not in apps else {
                    "200": [], "304": [f"If-None-Match: {etag}"]}  # fmt: skip
                for status, headers in conditions.items():
                    key = f"{name} {status}"
                    rate[key], micros[key] = wrk(url, args.seconds, headers, pids[name])
            rounds.append(rate)
            cpu.append(micros)
            shown = ", ".join(f"{k} {rate[k]:,.0f}" for k in sorted(rate))
            print(f"  round {number + 1}: {shown}", flush=True)

    def ratio(a: str, b: str) -> float:
        return statistics.median(r[a] / r[b] for r in rounds)

    results = {name: statistics.median(r[name] for r in rounds) for name in sorted(rounds[0])}
    ratios = {
        "feed vs nginx": ratio("diplocal serve 200", "nginx sendfile on 200"),
        "304 vs 200": ratio("diplocal serve 304", "diplocal serve 200"),
    }
    others = {
        "serve vs nginx sendfile off": ratio("diplocal serve 200", "nginx sendfile off 200"),
        "gunicorn vs nginx": ratio("gunicorn 200", "nginx sendfile on 200"),
        "gunicorn 304 vs 200": ratio("gunicorn 304", "gunicorn 200"),
    }
    print(
        f"feed: {args.summits} summits, {len(body):,} bytes; {args.workers} workers each; "
        f"wrk -t2 -c16 -d{args.seconds}s -H 'Connection: close'; median of {args.rounds} rounds"
    )
    for name, rate_ in results.items():
        used = statistics.median(c[name] for c in cpu)
        print(f"  {name:<24} {rate_:>10,.0f} req/s  {used:>6,.0f} us server CPU/request")
    for name, spent in in_process(db).items():
        print(f"  {name:<28} {spent:>8,.0f} us/request in process")
    for name, value in others.items():
        print(f"  {name:<28} {value:>6.2f}x")
    for name, value in ratios.items():
        verdict = "ok" if value >= TARGETS[name] else "BELOW TARGET"
        print(f"  {name:<28} {value:>6.2f}x  (target >= {TARGETS[name]}x: {verdict})")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
