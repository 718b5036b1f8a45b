"""Placeholder: serve commands (being written)."""

import click

COMMANDS: list[click.Command] = []
