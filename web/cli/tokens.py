"""`diplocal token add|list|revoke`: API tokens, shown once and stored only as their SHA-256."""

from __future__ import annotations

import click

from events import Token, TokenError, TokenStore, format_stamp, system_clock, tokens_of
from web.auth import new_token, token_hash


def _tokens() -> TokenStore:
    return tokens_of(click.get_current_context().find_root().obj.store())


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("add")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="A token that may read but not append.")
def add(name: str, read_only: bool) -> None:
    """Print a new token for NAME; only its hash is stored, so keep it now."""
    if not name.isprintable() or not name.strip() or len(name) > 100:
        raise click.BadParameter("a name is 1-100 printable characters", param_hint="NAME")
    secret = new_token()
    made = Token(name, token_hash(secret), not read_only, format_stamp(system_clock()))
    try:
        _tokens().add(made)
    except TokenError as error:
        click.echo(f"error: {error}; revoke it first or pick another name", err=True)
        raise SystemExit(1) from None
    click.echo(secret)


@token.command("list")
def list_() -> None:
    """Show every token's name, rights and creation time (never the token)."""
    for known in _tokens().list():
        rights = "write" if known.can_write else "read-only"
        click.echo(f"{known.name}\t{rights}\t{known.created_at}")


@token.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke NAME's token: every server refuses it from its next request on."""
    if not _tokens().revoke(name):
        click.echo(f"error: no token named {name!r}", err=True)
        raise SystemExit(1)
    click.echo(f"revoked {name}")


COMMANDS: list[click.Command] = [token]
