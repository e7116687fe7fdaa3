"""The house rules a newcomer relies on: no import cycle in engine/ or handlers/ (counting the
imports inside functions and under TYPE_CHECKING too), no module over 400 lines, and a
deliberate public surface of the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import engine
from engine import errors
from tests.conftest import ROOT

PACKAGES = ("engine", "handlers")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # Alembic's revision scripts, loaded by Alembic
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in its text. ``from pkg import module``
    depends on ``pkg.module``; on ``pkg`` itself only for names that are not modules (every
    module depends on its package's ``__init__`` anyway, as Python runs it first)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                module = f"{base}.{alias.name}"
                out.add(module if module in known else base)
    return {m for m in out if m in known and m != name}


def _reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules of each cycle: those that reach each other through their imports."""
    reached = {node: _reached(graph, node) for node in graph}
    groups = {
        frozenset(m for m in reached[node] if node in reached[m])
        for node in graph
        if node in reached[node]
    }
    return sorted(sorted(group) for group in groups)


def test_no_import_cycle_in_engine_or_handlers() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    assert graph["engine.cli"] >= {"engine.cli.cases", "engine.cli.base"}  # the walk sees them
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_400_lines(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_engine_package_face_exports_its_public_names() -> None:
    exported = set(engine.__all__)
    assert {"Engine", "Actor", "Context", "Registry", "Domain", "Scope"} <= exported
    errors_classes = {n for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    assert errors_classes <= exported  # the whole error tree, and its FieldError and Problem
    assert all(hasattr(engine, name) for name in exported)  # what `from engine import *` gives
    assert engine.Engine.__module__ == "engine.runtime"
