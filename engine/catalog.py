"""Definitions on disk and in the database: checking files, publishing versions, and the cache of
compiled machines (one per definition version, built on first use and kept)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.definition.compile import CompiledWorkflow
from engine.definition.loader import load_yaml
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
    created: bool  # False: the same text was already the latest version


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
        found: list[Definition] = []
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
                found.append(definition)
        return found, problems

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, tx: Tx, definition: Definition, now: datetime) -> Published:
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
        )
        return Published(definition.name, version, created=True)

    def publish_text(self, tx: Tx, text: str, source: str, now: datetime) -> Published:
        return self.publish(tx, parse_definition(text, source, self.registry), now)

    def publish_files(self, tx: Tx, paths: Iterable[str | Path], now: datetime) -> list[Published]:
        """All files or none: any problem in any file publishes nothing."""
        definitions, problems = self.check_files(paths)
        if problems:
            raise DefinitionError(problems)
        return [self.publish(tx, d, now) for d in definitions]

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
