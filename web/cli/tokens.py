"""`diplocal token add NAME`: API tokens, shown once and stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

import click

from events import EventStore, LogError


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("add")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="A token that may read but not append.")
def add(name: str, read_only: bool) -> None:
    """Print a new token for NAME; only its hash is stored, so keep it now."""
    store: EventStore = click.get_current_context().find_root().obj.store()
    secret = secrets.token_urlsafe(32)
    try:
        store.add_token(name, hashlib.sha256(secret.encode()).hexdigest(), can_write=not read_only)
    except LogError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(secret)


COMMANDS: list[click.Command] = [token]
