"""`diplocal init`: create an empty store where --db / DIPLOCAL_DB points."""

from __future__ import annotations

import click

from web.cli import Context, MissingStore


@click.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Create the store (an empty log) if it is not there yet; say which one it is."""
    try:
        existing = obj.store(create=False)
    except MissingStore:
        existing = None
    if existing is not None:
        head = existing.head()
        count = 0 if head is None else head.position
        click.echo(f"Store {obj.shown()} already exists ({count} events); nothing changed.")
        return
    obj.store(create=True)
    click.echo(f"Created an empty store at {obj.shown()}.")


COMMANDS: list[click.Command] = [init]
