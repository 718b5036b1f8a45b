"""The `diplocal` command line: one group, with the store chosen by --db or DIPLOCAL_DB."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from events import EventStore, open_store, system_clock


def default_db() -> str:
    """The embedded SQLite file used when neither --db nor DIPLOCAL_DB is given."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "diplocal" / "diplocal.sqlite3")


@dataclass
class Context:
    """What every subcommand shares: the store URL, opened on first use."""

    db: str
    _store: EventStore | None = field(default=None, repr=False)

    def store(self) -> EventStore:
        """Open the store (once)."""
        if self._store is None:
            self._store = open_store(self.db, system_clock)
        return self._store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="DIPLOCAL_DB",
    default=default_db,
    show_default="$XDG_DATA_HOME/diplocal/diplocal.sqlite3",
    help="Store URL: a SQLite path, sqlite:///PATH or postgresql://...",
)
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """diplocal: an event-sourced diplomatic calendar."""
    ctx.obj = Context(db)
    ctx.call_on_close(lambda: ctx.obj._store and ctx.obj._store.close())


def _register() -> None:
    from web.cli import log, replay, serve, tokens

    for module in (log, replay, serve, tokens):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
