"""`diplocal serve`: run the web app under granian or gunicorn, optionally with the demo log."""

from __future__ import annotations

import os
from typing import Any

import click

from web.cli import Context

SERVERS = ("granian", "gunicorn")
# Set by `serve` for the worker processes, which each build their own app from them.
_DB_VARIABLE = "DIPLOCAL_SERVE_DB"
_BASE_VARIABLE = "DIPLOCAL_SERVE_FEED_BASE_URL"


def served_app() -> Any:
    """The app a worker process of `diplocal serve` builds (own store connection, own caches)."""
    from web import create_app

    return create_app({"DB": os.environ[_DB_VARIABLE], "FEED_BASE_URL": os.environ[_BASE_VARIABLE]})


def _granian(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve with granian: a Rust HTTP server, each worker running the app in one Python thread.

    One blocking thread per worker keeps requests inside a process one at a time (like a
    gunicorn sync worker); the HTTP work (accept, parsing, writing the body) stays in Rust.
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
        runtime_mode=RuntimeModes.st,
        websockets=False,
        log_access=access_log,
        workers_kill_timeout=5,
        factory=True,
    ).serve()


def _gunicorn(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve with gunicorn's Python API (sync workers); each worker builds its own app."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-" if access_log else None)
            self.cfg.set("graceful_timeout", 5)

        def load(self) -> Any:
            return served_app()

    Server().run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
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
@click.pass_obj
def serve(
    obj: Context, host: str, port: int, demo: bool, workers: int, server: str, access_log: bool
) -> None:
    """Serve the calendar, its feeds and the API (several worker processes)."""
    from web.demo import load_demo

    store = obj.store()
    if demo:
        added = load_demo(store)
        click.echo(
            f"Loaded {added} demo events." if added else "The store is not empty: demo not loaded."
        )
    store.close()
    obj._store = None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = os.environ.get("DIPLOCAL_BASE_URL") or f"http://{shown}:{port}"
    click.echo(f"Web page:  {base}/")
    click.echo(f"Feed:      {base}/calendar.ics")
    click.echo(
        "Subscribe: Apple Calendar: File > New Calendar Subscription, paste the feed URL.\n"
        "           Google Calendar: Other calendars > From URL. Outlook.com: Add calendar >\n"
        "           Subscribe from web. The web page has one-click links for all three."
    )
    os.environ[_DB_VARIABLE] = obj.db
    os.environ[_BASE_VARIABLE] = base
    run = _granian if server == "granian" else _gunicorn
    run(host, port, workers, access_log)


COMMANDS: list[click.Command] = [serve]
