"""`diplocal serve`: run the web app under gunicorn, optionally with the demo calendar."""

from __future__ import annotations

import os
from typing import Any

import click

from web.cli import Context


def _gunicorn(app_factory: Any, host: str, port: int, workers: int) -> None:
    """Serve with gunicorn's Python API; each worker builds its own app (own DB connection)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 5)

        def load(self) -> Any:
            return app_factory()

    Server().run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Load the bundled demo log if the store is empty.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def serve(obj: Context, host: str, port: int, demo: bool, workers: int) -> None:
    """Serve the calendar, its feeds and the API (gunicorn, several worker processes)."""
    from web import create_app
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
    db = obj.db

    def factory() -> Any:
        return create_app({"DB": db, "FEED_BASE_URL": base})

    _gunicorn(factory, host, port, workers)


COMMANDS: list[click.Command] = [serve]
