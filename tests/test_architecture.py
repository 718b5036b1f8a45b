"""Imports point one way, web -> calendar_core -> events; the core never reads the clock; the
event log's port is narrow; no interpreter tricks stand in for types."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from events.store import EventStore
from events.tokens import TokenStore

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "events": {"calendar_core", "web", "flask"},
    "calendar_core": {
        "web",
        "flask",
        "werkzeug",
        "sqlite3",
        "psycopg",
        "events.sqlite",
        "events.memory",
        "events.postgres",
    },
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    """No module of a lower layer imports a higher layer or a concrete adapter."""
    bad = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        for banned in FORBIDDEN[package]
        if name == banned or name.startswith(banned + ".")
    }
    assert not bad, sorted(bad)


def test_the_calendar_core_never_reads_the_clock() -> None:
    """Time comes into the domain as an argument, never from now()/today()/time()."""
    calls = []
    for path in _modules("calendar_core"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"now", "today", "utcnow", "time", "local_timezone"}
            ):
                calls.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
    assert not calls, calls


def test_the_layers_exist() -> None:
    """The check above is not vacuous: every layer has modules to look at."""
    for package in ("events", "calendar_core", "web"):
        assert len(_modules(package)) >= 2, package


def test_the_event_log_port_holds_only_what_a_log_does() -> None:
    """append, import, read, find, head, verify and close; tokens have a store of their own."""
    assert _methods(EventStore) == {
        "append",
        "import_events",
        "read",
        "find",
        "head",
        "verify",
        "close",
    }
    assert _methods(TokenStore) == {"add", "find", "list", "revoke"}


def _methods(protocol: type) -> set[str]:
    return {
        name
        for name, member in vars(protocol).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


# Names that only a trick uses: building objects behind their constructors, writing instance
# dicts, pausing the garbage collector, or bending the interpreter's thread switching.
TRICKS = {"__new__", "__dict__", "setswitchinterval", "getswitchinterval"}


def test_no_interpreter_tricks_stand_in_for_types() -> None:
    """No object.__new__, no __dict__ writes, no gc or GIL tuning in any layer."""
    found = []
    for package in ("events", "calendar_core", "web"):
        for path in _modules(package):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in TRICKS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            found.extend(
                f"{path.relative_to(ROOT)} imports gc" for n in _imports(path) if n == "gc"
            )
    assert not found, found
