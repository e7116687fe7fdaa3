"""The catalogue of the shipped guards and actions (``qingliu handlers``) is complete and
honest: every handler says in words what it does, every field it touches is named and declared
in the data schema of each workflow that names it, every workflow's names are registered, and
``docs/handlers.md`` is the catalogue as it is now."""

from __future__ import annotations

import pytest

from engine.cli.handlers import DOC_COMMAND, markdown
from engine.definition.loader import load_yaml
from engine.handler_catalog import HandlerCatalog, build_catalog
from engine.handler_fields import COMPUTED, WHOLE
from handlers import flows
from tests.conftest import ROOT

DOC = ROOT / "docs" / "handlers.md"


@pytest.fixture(scope="module")
def catalog() -> HandlerCatalog:
    return build_catalog(flows.registry(), [ROOT / "workflows"])


def test_every_handler_has_a_docstring_in_words(catalog: HandlerCatalog) -> None:
    undocumented = [e.name for e in catalog.entries if len(e.doc.split()) < 4]
    assert undocumented == [], "add a docstring an administrator understands"


def test_every_field_a_handler_touches_is_named(catalog: HandlerCatalog) -> None:
    # A key the reading cannot name would leave the catalogue silent about a field: write the
    # handler so its keys are constants (or loops over constant tuples).
    vague = {
        e.name: {k: v for k, v in e.touches.to_json().items() if COMPUTED in v or WHOLE in v}
        for e in catalog.entries
    }
    assert {name: found for name, found in vague.items() if found} == {}


def test_every_field_a_handler_touches_is_declared_by_the_workflows_naming_it(
    catalog: HandlerCatalog,
) -> None:
    # data_schema is the administrator's declaration of a case's fields; the code is checked
    # against it, so a handler cannot read or write a field the workflow does not describe
    # (a caller could preset an undeclared field, and no `when` could name it).
    declared: dict[str, set[str]] = {}
    for path in sorted((ROOT / "workflows").glob("*.yaml")):
        doc, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
        schema = doc.value.get("data_schema") or {}
        declared[doc.value["name"]] = set(schema.get("properties") or {})
    undeclared = sorted(
        f"{workflow}: {entry.name} {verb} {field}"
        for entry in catalog.entries
        for workflow in entry.workflows
        for verb, fields in (("reads", entry.touches.reads), ("writes", entry.touches.writes))
        for field in fields
        if field not in declared[workflow]
    )
    assert undeclared == [], "declare these fields in the workflow's data_schema"


def test_the_workflows_name_only_registered_handlers_and_read_cleanly(
    catalog: HandlerCatalog,
) -> None:
    assert catalog.unknown == ()
    assert catalog.problems == ()


def test_docs_handlers_md_is_the_catalogue_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    # Uses are shown as workflows/X.yaml:LINE, as `qingliu handlers` run at the root shows them.
    monkeypatch.chdir(ROOT)
    current = markdown(build_catalog(flows.registry(), ["workflows"]))
    written = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert written == current, f"docs/handlers.md is out of date: run `{DOC_COMMAND}` (make docs)"


def test_make_docs_writes_docs_handlers_md_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qingliu handlers --markdown` at the root (make docs) names the files as
    workflows/X.yaml, though the home resolves the configured folder to an absolute path."""
    from click.testing import CliRunner

    from engine.cli import cli

    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("QINGLIU_HOME", raising=False)
    monkeypatch.setenv("QINGLIU_CONFIG", str(ROOT / "config"))
    result = CliRunner().invoke(cli, ["handlers", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.stdout == DOC.read_text(encoding="utf-8")
