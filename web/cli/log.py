"""Placeholder: log commands (being written)."""

import click

COMMANDS: list[click.Command] = []
