"""Titles users read (Chinese) for workflows, states and triggers, from the published
definitions, per version (a running case keeps the version it started on)."""

from __future__ import annotations

from engine.definition.model import Definition
from engine.errors import NotFound
from engine.runtime import Engine

__all__ = ["Titles"]


class Titles:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._definitions: dict[tuple[str, int | None], Definition | None] = {}

    def _definition(self, workflow: str, version: int | None) -> Definition | None:
        key = (workflow, version)
        if key not in self._definitions:
            try:
                self._definitions[key] = self.engine.definition(workflow, version)[1]
            except NotFound:
                self._definitions[key] = None
        return self._definitions[key]

    def workflow(self, workflow: str, version: int | None = None) -> str:
        d = self._definition(workflow, version)
        return d.title if d else workflow

    def state(self, workflow: str, state: str | None, version: int | None = None) -> str:
        if state is None:
            return ""
        d = self._definition(workflow, version)
        spec = d.states.get(state) if d else None
        return spec.title if spec else state

    def trigger(
        self,
        workflow: str,
        trigger: str | None,
        version: int | None = None,
        index: int | None = None,
    ) -> str:
        """The title of the transition taken (``index``, from the history), else the first
        transition of that trigger that has one."""
        if trigger is None:
            return ""
        d = self._definition(workflow, version)
        found = [t for t in (d.transitions if d else ()) if t.trigger == trigger and t.title]
        exact = [t for t in found if t.index == index]
        return (exact or found)[0].title if found else trigger
