"""The bundled demo log: a researched, sourced story of four 2025 summits, as JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

DEMO_FILE = "demo.jsonl"


def demo_lines() -> Iterator[str]:
    """Yield the non-empty lines of the demo log, each one event in the import form."""
    text = resources.files(__package__ or "calendar_core").joinpath(DEMO_FILE).read_text("utf-8")
    for line in text.splitlines():
        if line.strip():
            yield line
