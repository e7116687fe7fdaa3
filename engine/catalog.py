"""Definitions on disk and in the database: checking files, publishing versions, and the cache of
compiled machines (one per definition version, built on first use and kept).

The database holds the versions; a folder is an import (as a Camunda deployment is). Each
version records its origin: ``file`` and the file's path, or ``api`` and the admin who put it.
Loading a folder (``qingliu load``, ``qingliu serve`` at start) publishes a file's text only if

* it is not already a version of that workflow (any version, not only the latest), and
* the latest version is not one published through the API after the text was last imported
  from a file: an edited file does not undo what an admin published; it is skipped with a
  warning naming both versions, unless forced (``qingliu load --force``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.definition.compile import CompiledWorkflow
from engine.definition.loader import LimitExceeded, load_yaml
from engine.definition.model import Definition
from engine.definition.validate import check_definition, parse_definition
from engine.errors import DefinitionError, Problem, WorkflowNotFound
from engine.handlers import Registry
from engine.store.repository import DefinitionRow, Tx

__all__ = ["SCENARIOS", "Catalog", "Published", "definition_files"]


@dataclass(frozen=True)
class Published:
    name: str
    version: int
    created: bool  # False: the text was a version already, or was skipped (``warning``)
    warning: str | None = None  # why a file's text was not published, for people


# Simulator scenarios (docs/simulator.md) live in a folder of this name beside the definitions:
# a folder walk never takes them for definitions.
SCENARIOS = "scenarios"


def definition_files(paths: Iterable[str | Path]) -> list[Path]:
    """The YAML files named, or found (sorted) in the folders named, leaving out every
    ``scenarios/`` folder beneath them (simulator scenarios, not definitions)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yaml", ".yml")
                    and SCENARIOS not in p.relative_to(path).parts[:-1]
                )
            )
        else:
            files.append(path)
    return files


class Catalog:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._compiled: dict[int, CompiledWorkflow] = {}
        self._lock = threading.Lock()

    # -- checking -----------------------------------------------------------------------------

    def check_files(self, paths: Iterable[str | Path]) -> tuple[list[Definition], list[Problem]]:
        """Check every file; duplicate names across files are problems too."""
        found, problems = self._check_files(paths)
        return [d for _, d in found], problems

    def _check_files(
        self, paths: Iterable[str | Path]
    ) -> tuple[list[tuple[Path, Definition]], list[Problem]]:
        found: list[tuple[Path, Definition]] = []
        problems: list[Problem] = []
        first_file: dict[str, str] = {}
        for path in definition_files(paths):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(str(path), 1, 1, f"cannot read: {exc}"))
                continue
            definition, file_problems = check_definition(text, str(path), self.registry)
            problems.extend(file_problems)
            doc, _ = load_yaml(text, str(path))
            name = doc.value.get("name") if isinstance(doc.value, dict) else None
            if isinstance(name, str) and name in first_file:
                problems.append(
                    doc.problem(
                        ("name",), f"duplicate definition {name!r} (first in {first_file[name]})"
                    )
                )
                continue
            if isinstance(name, str):
                first_file[name] = str(path)
            if definition is not None:
                found.append((path, definition))
        return found, problems

    def check_text(self, text: str, source: str, name: str | None = None) -> list[Problem]:
        """Every problem in a definition's ``text`` (``POST /api/v1/workflows/validate``, the
        console's editor, before publishing); with ``name``, it must carry that name. A text
        over the YAML limits (engine/definition/loader.py) is not a definition to report on:
        it is refused as a whole (``DefinitionError``, the limit's line and column)."""
        definition, problems = check_definition(text, source, self.registry)
        if any(isinstance(p, LimitExceeded) for p in problems):
            raise DefinitionError(problems)
        if definition is not None and name is not None and definition.name != name:
            doc, _ = load_yaml(text, source)
            said = f"the name is {definition.name!r}, the URL {name!r}"
            problems = [doc.problem(("name",), said)]
        return problems

    # -- publishing ---------------------------------------------------------------------------

    def publish(
        self,
        tx: Tx,
        definition: Definition,
        now: datetime,
        origin: tuple[str, str] | None = None,
    ) -> Published:
        """A new version unless the text is the latest already (``origin``: see the module)."""
        latest = tx.latest_definition(definition.name)
        if latest is not None and latest.content_hash == definition.content_hash:
            return Published(definition.name, latest.version, created=False)
        version = 1 if latest is None else latest.version + 1
        tx.insert_definition(
            definition.name,
            version,
            definition.title,
            definition.source_text,
            definition.content_hash,
            now,
            origin,
        )
        return Published(definition.name, version, created=True)

    def publish_text(
        self, tx: Tx, text: str, source: str, now: datetime, by: str | None = None
    ) -> Published:
        """Text given through the API (``by``: the admin's name)."""
        definition = parse_definition(text, source, self.registry)
        return self.publish(tx, definition, now, ("api", by or source))

    def publish_files(
        self, tx: Tx, paths: Iterable[str | Path], now: datetime, *, force: bool = False
    ) -> list[Published]:
        """All files or none: any problem in any file publishes nothing. Each file is an
        import (the module's rules; ``force``: publish a changed file even over a version
        the API published)."""
        found, problems = self._check_files(paths)
        if problems:
            raise DefinitionError(problems)
        return [self._import(tx, path, d, now, force) for path, d in found]

    def _import(
        self, tx: Tx, path: Path, definition: Definition, now: datetime, force: bool
    ) -> Published:
        name = definition.name
        versions = tx.definition_versions(name)
        same = next((v for v in versions if v.content_hash == definition.content_hash), None)
        latest = versions[-1] if versions else None
        if same is not None and latest is not None:
            warning = None
            if latest.version != same.version:
                warning = (
                    f"{path} is the text of v{same.version}; v{latest.version} "
                    f"({_origin(latest)}) stays the latest"
                )
            return Published(name, same.version, created=False, warning=warning)
        if latest is not None and latest.origin == "api" and not force:
            imported = next((v for v in reversed(versions) if v.origin != "api"), None)
            was = (
                f"since v{imported.version} was imported" if imported else "and was never imported"
            )
            warning = (
                f"skipped: {path} changed {was}, but v{latest.version} was published through "
                f"the API by {latest.origin_ref} after it and stays the latest; publish the "
                "file over it with `qingliu load --force`"
            )
            return Published(name, latest.version, created=False, warning=warning)
        return self.publish(tx, definition, now, ("file", str(path)))

    # -- compiled machines --------------------------------------------------------------------

    def compiled(self, tx: Tx, definition_id: int) -> CompiledWorkflow:
        cached = self._compiled.get(definition_id)
        if cached is not None:
            return cached
        row = tx.definition_by_id(definition_id)
        if row is None:
            raise WorkflowNotFound(f"#{definition_id}")
        return self._compile(row)

    def _compile(self, row: DefinitionRow) -> CompiledWorkflow:
        with self._lock:
            if row.id not in self._compiled:
                source = f"{row.name} v{row.version}"
                definition = parse_definition(row.source, source, self.registry, stored=True)
                self._compiled[row.id] = CompiledWorkflow(definition, self.registry)
            return self._compiled[row.id]

    def latest(self, tx: Tx, name: str, version: int | None = None) -> tuple[int, CompiledWorkflow]:
        row, compiled = self.latest_row(tx, name, version)
        return row.id, compiled

    def latest_row(
        self, tx: Tx, name: str, version: int | None = None
    ) -> tuple[DefinitionRow, CompiledWorkflow]:
        """The definition row (with its version number) and its compiled machine."""
        row = tx.latest_definition(name) if version is None else tx.definition(name, version)
        if row is None:
            raise WorkflowNotFound(name, version)
        return row, self.compiled(tx, row.id)


def _origin(row: DefinitionRow) -> str:
    """Where a version came from, in words."""
    if row.origin == "api":
        return f"published through the API by {row.origin_ref}"
    return f"imported from {row.origin_ref}" if row.origin_ref else "imported from a file"
