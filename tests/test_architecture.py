"""Imports point one way, web -> calendar_core -> events, and the core never reads the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
