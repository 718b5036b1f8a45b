"""`diplocal serve`: run the web app under granian or gunicorn, optionally with the demo log."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

import click

from web.cli import Context

SERVERS = ("granian", "gunicorn")
# Connections one worker holds open at once, idle or slow ones included: a thousand clients
# that never finish their request must not keep /healthz from being answered.
CONNECTIONS = 2048
# Set by `serve` for the worker processes, which each build their own app from it.
_DB_VARIABLE = "DIPLOCAL_SERVE_DB"


def served_app() -> Any:
    """The app a worker process of `diplocal serve` builds (own store connection, own caches)."""
    from web import create_app

    return create_app({"DB": os.environ[_DB_VARIABLE]})


def _granian(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve with granian: a Rust HTTP server, each worker running the app in one Python thread.

    One blocking thread per worker keeps requests inside a process one at a time (like a
    gunicorn sync worker); the HTTP work (accept, parsing, writing the body) stays in Rust,
    where idle and slow connections wait without holding the thread (up to CONNECTIONS).
    """
    from granian import Granian
    from granian.constants import Interfaces, RuntimeModes

    Granian(
        f"{__name__}:served_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=1,
        backpressure=CONNECTIONS,
        runtime_mode=RuntimeModes.st,
        websockets=False,
        log_access=access_log,
        workers_kill_timeout=5,
        factory=True,
    ).serve()


def _gunicorn(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve with gunicorn's Python API on gevent workers; each worker builds its own app.

    A sync worker is held by one slow client and a gthread worker by as many as it has
    threads; a gevent worker reads requests without tying up anything while they trickle in.
    """
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gevent")
            self.cfg.set("worker_connections", CONNECTIONS)
            self.cfg.set("accesslog", "-" if access_log else None)
            self.cfg.set("graceful_timeout", 5)

        def load(self) -> Any:
            return served_app()

    Server().run()


WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost6", "ip6-localhost", "ip6-loopback"})


def _url_host(host: str) -> str:
    """A host as it goes into a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host


def machine_name() -> str | None:
    """This machine's name as others on the network may reach it (None if only `localhost`)."""
    for name in (socket.getfqdn(), socket.gethostname()):
        if name and name.split(".")[0].lower() not in _LOOPBACK_NAMES:
            return name
    return None


def check_port_free(host: str, port: int) -> None:
    """Refuse an address another server listens on, naming the port (exit 1).

    granian's workers each bind with SO_REUSEPORT, so a second server on a busy port would
    start anyway and the kernel would split the connections between the two. A plain bind
    (SO_REUSEADDR only, so a port left in TIME_WAIT by a stopped server still counts as free)
    fails while any socket listens there.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise click.BadParameter(
            f"cannot listen on {host!r}: {error.strerror}", param_hint="--host"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            where = f"{_url_host(host)}:{port}"
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} is already in use ({where}): another server listens there "
                    "(a diplocal serve already running?). Stop it, or choose another --port."
                ) from None
            raise click.ClickException(
                f"cannot listen on port {port} ({where}): {error.strerror or error}"
            ) from None


def _store_line(obj: Context) -> str:
    """Which store is served: its URL (password masked; a SQLite path made absolute)."""
    address = obj.address()
    if address.kind == "sqlite":
        return f"{Path(address.target).resolve()} (SQLite)"
    return address.shown()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on (refused if in use).",
)
@click.option("--demo", is_flag=True, help="Load the bundled demo log if the store is empty.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default="granian",
    show_default=True,
    help="HTTP server running the workers.",
)
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="Log each request."
)
@click.option(
    "--change-uid-domain",
    is_flag=True,
    help="Record a UID domain that differs from the one stored with the log "
    "(every subscriber then sees every summit as a new event).",
)
@click.pass_obj
def serve(
    obj: Context,
    host: str,
    port: int,
    demo: bool,
    workers: int,
    server: str,
    access_log: bool,
    change_uid_domain: bool,
) -> None:
    """Serve the calendar, its feeds and the API (several worker processes).

    Links inside the feed use DIPLOCAL_BASE_URL when set (set it to the address subscribers
    use, e.g. behind a proxy); otherwise the scheme and host each request was made to.
    Event UIDs end in DIPLOCAL_UID_DOMAIN, else DIPLOCAL_BASE_URL's host; the domain is
    stored with the log, and a different one is refused unless --change-uid-domain.
    """
    from web.config import change_warning, from_os, settle_uid_domain
    from web.demo import load_demo

    check_port_free(host, port)
    store = obj.store(create=True)
    try:
        settings = from_os({"UID_DOMAIN_CHANGE": True} if change_uid_domain else None)
        uid_domain = settle_uid_domain(store, settings)
    except ValueError as error:  # UidDomainError, or a setting that is not one
        store.close()
        obj._store = None
        raise click.ClickException(str(error)) from None
    if uid_domain.replaced is not None:
        how = "--change-uid-domain" if change_uid_domain else "DIPLOCAL_UID_DOMAIN_CHANGE"
        click.echo(change_warning(uid_domain, how))
    if demo:
        added = load_demo(store)
        click.echo(
            f"Loaded {added} demo events." if added else "The store is not empty: demo not loaded."
        )
    head = store.head()
    store.close()
    obj._store = None
    click.echo(f"Store:     {_store_line(obj)}, {0 if head is None else head.position} events")
    configured = (os.environ.get("DIPLOCAL_BASE_URL") or "").rstrip("/")
    if host in WILDCARDS:
        local = f"http://{'[::1]' if host == '::' else '127.0.0.1'}:{port}"
        name = machine_name()
        network = f"http://{_url_host(name)}:{port}" if name else None
    else:
        local = f"http://{_url_host(host)}:{port}"
        network = None
    base = configured or network or local
    click.echo(f"Open:      {local}/" + (f"  (from other machines: {network}/)" if network else ""))
    if configured and configured != local:
        click.echo(f"Public:    {configured}/ (DIPLOCAL_BASE_URL)")
    click.echo(f"Feed:      {base}/calendar.ics")
    if host in WILDCARDS and not configured:
        click.echo(
            "           (links in the feed use the address each subscriber used; behind a\n"
            "           proxy set DIPLOCAL_BASE_URL, e.g. https://calendar.example.org)"
        )
    click.echo(f"UIDs:      <summit id>@{uid_domain.domain} (stored with the log)")
    click.echo(
        "Subscribe: Apple Calendar: File > New Calendar Subscription, paste the feed URL.\n"
        "           Google Calendar: Other calendars > From URL. Outlook.com: Add calendar >\n"
        "           Subscribe from web. The web page has one-click links for all three."
    )
    os.environ[_DB_VARIABLE] = obj.db
    run = _granian if server == "granian" else _gunicorn
    run(host, port, workers, access_log)


COMMANDS: list[click.Command] = [serve]
