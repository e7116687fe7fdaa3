"""The catalogue of named handlers: every guard and action a ``Registry`` holds, with its
docstring, what it touches (``engine.handler_fields``: case-data fields read and written,
payload fields, reference files, subjects, cases it opens) and the places in the workflow files
that name it (``file:line``, and the JSON path there). Handlers no workflow names are *unused*;
names a workflow uses that no handler registers are *unknown* (``qingliu validate`` refuses
such a workflow; the catalogue lists them so the two views agree).

Generic: it knows a ``Registry`` and the shape of a definition (``states.*.on_enter`` /
``on_exit``, ``transitions[*].guard`` / ``actions``), nothing of the outfall domain. The CLI
(``qingliu handlers``, uses in the workflow folder), ``docs/handlers.md`` (``qingliu handlers
--markdown``) and ``GET /api/v1/handlers`` (uses in the latest published versions) are views of
``HandlerCatalog``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.catalog import definition_files
from engine.definition.loader import Path as NodePath
from engine.definition.loader import json_path, load_yaml
from engine.errors import NotFound, Problem
from engine.handler_fields import Touches, touches
from engine.handlers import Registry

__all__ = ["Entry", "HandlerCatalog", "HandlerNotFound", "Use", "build_catalog"]

NO_DOC = "(no description)"


class HandlerNotFound(NotFound):
    status, kind, exit_code = 404, "handler-not-found", 3
    title = "No such guard or action"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no guard or action is named {name!r}")


@dataclass(frozen=True)
class Use:
    """One place in a workflow file that names a handler."""

    kind: str  # guard | action
    name: str
    workflow: str
    file: str
    line: int
    path: str  # JSON path in the file: $.transitions[3].guard

    def to_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "at": f"{self.file}:{self.line}", "path": self.path}


@dataclass(frozen=True)
class Entry:
    kind: str  # guard | action
    name: str
    function: str  # module.qualname
    source: str  # path/of/module.py:line
    doc: str
    touches: Touches
    uses: tuple[Use, ...] = ()

    @property
    def summary(self) -> str:
        """The docstring's first paragraph, on one line."""
        first = self.doc.split("\n\n", 1)[0] if self.doc else NO_DOC
        return " ".join(first.split())

    @property
    def workflows(self) -> list[str]:
        return sorted({u.workflow for u in self.uses})

    def to_json(self, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "function": self.function,
            "source": self.source,
            **self.touches.to_json(),
            "workflows": self.workflows,
            "used_at": [u.to_json() for u in self.uses],
        }
        if full:
            out["doc"] = self.doc
        return out


@dataclass(frozen=True)
class HandlerCatalog:
    entries: tuple[Entry, ...]
    unknown: tuple[Use, ...] = ()  # names a workflow uses that no handler registers
    problems: tuple[Problem, ...] = field(default=())  # workflow files that could not be read

    @property
    def unused(self) -> list[Entry]:
        return [e for e in self.entries if not e.uses]

    def entry(self, name: str) -> Entry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise HandlerNotFound(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "handlers": [e.to_json() for e in self.entries],
            "unused": [e.name for e in self.unused],
            "unknown": [{"kind": u.kind, "name": u.name, **u.to_json()} for u in self.unknown],
            "problems": [str(p) for p in self.problems],
        }


def build_catalog(
    registry: Registry,
    workflow_paths: Iterable[str | Path] = (),
    texts: Iterable[tuple[str, str]] = (),
) -> HandlerCatalog:
    """The catalogue of ``registry`` with the uses found in the workflow files or folders, and
    in ``texts``: (label, YAML text) pairs, such as published versions (``"rectification v3"``,
    so a use is shown as ``rectification v3:109``)."""
    uses: list[Use] = []
    problems: list[Problem] = []
    for path in definition_files(workflow_paths):
        found, trouble = _uses_in(path)
        uses.extend(found)
        problems.extend(trouble)
    for label, text in texts:
        found, trouble = _uses_in_text(text, label, label)
        uses.extend(found)
        problems.extend(trouble)
    known = {("guard", n) for n in registry.guards} | {("action", n) for n in registry.actions}
    entries = [
        _entry(kind, name, fn, [u for u in uses if (u.kind, u.name) == (kind, name)])
        for kind, table in (("guard", registry.guards), ("action", registry.actions))
        for name, fn in sorted(table.items())
    ]
    unknown = [u for u in uses if (u.kind, u.name) not in known]
    return HandlerCatalog(tuple(entries), tuple(unknown), tuple(problems))


def _entry(kind: str, name: str, fn: Callable[..., Any], uses: list[Use]) -> Entry:
    return Entry(
        kind=kind,
        name=name,
        function=f"{fn.__module__}.{fn.__qualname__}",
        source=_source(fn),
        doc=inspect.cleandoc(fn.__doc__ or ""),
        touches=touches(fn),
        uses=tuple(uses),
    )


def _source(fn: Callable[..., Any]) -> str:
    """``handlers/flows/x.py:12``: the module as a path from the package root, and the line."""
    module = str(fn.__module__).replace(".", "/") + ".py"
    code = getattr(fn, "__code__", None)
    return f"{module}:{code.co_firstlineno}" if code is not None else module


def _uses_in(path: Path) -> tuple[list[Use], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), 1, 1, f"cannot read: {exc}")]
    return _uses_in_text(text, str(path), path.stem)


def _uses_in_text(text: str, source: str, fallback: str) -> tuple[list[Use], list[Problem]]:
    doc, problems = load_yaml(text, source)
    if not isinstance(doc.value, dict):
        return [], problems
    name = doc.value.get("name")
    workflow = name if isinstance(name, str) else fallback
    uses = [
        Use(kind, handler, workflow, source, doc.mark(at)[0], json_path(at))
        for kind, handler, at in _names(doc.value)
    ]
    return uses, problems


def _names(value: dict[str, Any]) -> Iterator[tuple[str, str, NodePath]]:
    """(kind, name, path) of every handler name in a definition's raw value."""
    states = value.get("states")
    for state, body in (states if isinstance(states, dict) else {}).items():
        for hook in ("on_enter", "on_exit"):
            yield from _listed("action", body, hook, ("states", state, hook))
    transitions = value.get("transitions")
    for i, t in enumerate(transitions if isinstance(transitions, list) else []):
        yield from _listed("guard", t, "guard", ("transitions", i, "guard"))
        yield from _listed("action", t, "actions", ("transitions", i, "actions"))


def _listed(kind: str, body: Any, key: str, at: NodePath) -> Iterator[tuple[str, str, NodePath]]:
    raw = body.get(key) if isinstance(body, dict) else None
    if isinstance(raw, str):
        yield kind, raw, at
    elif isinstance(raw, list):
        for j, item in enumerate(raw):
            if isinstance(item, str):
                yield kind, item, (*at, j)
