"""The `diplocal` command line: one group, with the store chosen by --db or DIPLOCAL_DB."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from events import (
    EventStore,
    StoreAddress,
    StoreError,
    StoreMissing,
    StoreURLError,
    open_store,
    system_clock,
)

# The commands that write to the log, and so may create a missing store; every other command
# (verify, export, replay, token list...) refuses a store that is not there.
CREATING_COMMANDS = frozenset({"import", "serve", "init", "token add"})
DB_OPTION = "--db / DIPLOCAL_DB"


def default_db() -> str:
    """The embedded SQLite file used when neither --db nor DIPLOCAL_DB is given."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "diplocal" / "diplocal.sqlite3")


def _running_command() -> str:
    """The subcommand being run, as typed after `diplocal` ("verify", "token add")."""
    context = click.get_current_context(silent=True)
    if context is None:
        return ""
    return " ".join(context.command_path.split()[1:])


class MissingStore(click.ClickException):
    """No store where --db points, for a command that may not create one (exit 1)."""


@dataclass
class Context:
    """What every subcommand shares: the store URL, opened on first use."""

    db: str
    _store: EventStore | None = field(default=None, repr=False)

    def address(self) -> StoreAddress:
        """The parsed store URL; a usage error (exit 2) naming the forms when it is not one."""
        try:
            return StoreAddress.parse(self.db)
        except StoreURLError as error:
            raise click.BadParameter(str(error), param_hint=DB_OPTION) from None

    def shown(self) -> str:
        """The store URL for messages: any password masked."""
        return self.address().shown()

    def store(self, create: bool | None = None) -> EventStore:
        """Open the store (once). Unless `create` (default: the command writes), a missing one
        is refused; every failure is a message and exit 1 (2 for a URL that is not one)."""
        if self._store is None:
            self.address()
            if create is None:
                create = _running_command() in CREATING_COMMANDS
            try:
                self._store = open_store(self.db, system_clock, create=create)
            except StoreMissing as error:
                raise MissingStore(
                    f"{error}. Nothing to read: `diplocal init` creates an empty store, "
                    "`diplocal import FILE` a filled one (or check --db / DIPLOCAL_DB)."
                ) from None
            except StoreError as error:
                raise click.ClickException(str(error)) from None
        return self._store


def _checked_db(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--db / DIPLOCAL_DB: a usage error (exit 2) when it is no store URL diplocal knows."""
    Context(value).address()
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="DIPLOCAL_DB",
    default=default_db,
    callback=_checked_db,
    show_default="$XDG_DATA_HOME/diplocal/diplocal.sqlite3",
    help="Store URL: a SQLite path, sqlite:///PATH or postgresql://...",
)
@click.version_option(package_name="diplocal", prog_name="diplocal")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """diplocal: an event-sourced diplomatic calendar."""
    ctx.obj = Context(db)
    ctx.call_on_close(lambda: ctx.obj._store and ctx.obj._store.close())


def _register() -> None:
    from web.cli import log, replay, serve, store, tokens

    for module in (log, replay, serve, store, tokens):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
