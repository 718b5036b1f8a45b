"""Older schema versions of stored events, upgraded on read, keyed by (type, version)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.schema import EVENT_TYPES, Event, validate_event

CURRENT_SCHEMA_VERSION = 1

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (type, version) -> function turning that version's data into version + 1's.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that upgrades `event_type` data from `version` to `version + 1`."""

    def register(function: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, version)] = function
        return function

    return register


def upcast(event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring stored data of any known past version up to the current schema."""
    if event_type not in EVENT_TYPES:
        raise UnknownSchema(f"unknown event type {event_type!r}")
    if schema_version > CURRENT_SCHEMA_VERSION:
        raise UnknownSchema(f"{event_type} schema_version {schema_version} is newer than this code")
    while schema_version < CURRENT_SCHEMA_VERSION:
        step = UPCASTERS.get((event_type, schema_version))
        if step is None:
            raise UnknownSchema(f"no upcaster for {event_type} schema_version {schema_version}")
        data = step(data)
        schema_version += 1
    return data


def load_event(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """Upcast and validate stored event data."""
    return validate_event(event_type, upcast(event_type, schema_version, data))


class UnknownSchema(ValueError):
    """An event type or schema version this code cannot read."""
