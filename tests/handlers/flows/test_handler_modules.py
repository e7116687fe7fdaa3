"""Where is the handler that workflows/X.yaml names? In handlers/flows/X.py, a plain function of
that name: every flow module serves one YAML of the same stem, and every guard and action the
YAML names is registered by that module."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.definition.model import Definition
from handlers import flows
from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / "workflows").glob("*.yaml"))


def _definition(path: Path) -> Definition:
    (definition,), problems = Catalog(flows.registry()).check_files([path])
    assert problems == []
    return definition


def _named(definition: Definition) -> tuple[set[str], set[str]]:
    guards = {g for t in definition.transitions for g in t.guards}
    actions = {a for t in definition.transitions for a in t.actions}
    for state in definition.states.values():
        actions.update(state.on_enter)
        actions.update(state.on_exit)
    return guards, actions


def test_every_flow_module_serves_the_workflow_of_its_name() -> None:
    modules = {m.__name__.rpartition(".")[2] for m in flows.MODULES}
    on_disk = {p.stem for p in (ROOT / "handlers" / "flows").glob("*.py")}
    assert modules == {p.stem for p in WORKFLOWS}
    assert on_disk - modules == {"__init__", "_case"}  # the package face and shared helpers


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.stem for p in WORKFLOWS])
def test_the_handlers_a_workflow_names_are_in_the_module_of_its_name(path: Path) -> None:
    module = next(m for m in flows.MODULES if m.__name__.endswith("." + path.stem))
    guards, actions = _named(_definition(path))
    assert guards <= set(module.registry.guards)
    assert actions <= set(module.registry.actions)
    for name, fn in [*module.registry.guards.items(), *module.registry.actions.items()]:
        assert fn.__name__ == name  # a grep for the YAML's name finds its `def`
        assert fn.__module__ == module.__name__
