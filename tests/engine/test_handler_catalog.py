"""The catalogue of a registry: entries, where workflow files name them, unused and unknown
names, and the ``qingliu handlers`` command on the shipped domain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.handler_catalog import HandlerNotFound, build_catalog
from engine.handlers import Context, Registry
from tests.conftest import Run

registry = Registry()


@registry.guard("is_ready")
def is_ready(ctx: Context) -> bool:
    """The case is ready.

    It is ready when ``ready`` is set."""
    return bool(ctx.data.get("ready"))


@registry.action("stamp")
def stamp(ctx: Context) -> None:
    """Stamps the time."""
    ctx.data["stamped_at"] = ctx.now.isoformat()


@registry.action("never_named")
def never_named(ctx: Context) -> None:
    pass


FLOW = """\
name: tiny
title: 小
roles: [clerk]
initial: open
states:
  open:
    title: 开
    on_enter: [stamp]
  done: {title: 完, final: true, on_exit: [stamp]}
transitions:
  - trigger: finish
    source: open
    dest: done
    roles: [clerk]
    guard: [is_ready, not_registered]
    actions: [stamp, missing_action]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    return tmp_path


def test_each_handler_lists_its_doc_fields_and_the_lines_that_name_it(folder: Path) -> None:
    catalog = build_catalog(registry, [folder])
    guard = catalog.entry("is_ready")
    assert (guard.kind, guard.summary) == ("guard", "The case is ready.")
    assert guard.doc == "The case is ready.\n\nIt is ready when ``ready`` is set."
    assert guard.touches.reads == {"ready"}
    assert [(u.line, u.path) for u in guard.uses] == [(15, "$.transitions[0].guard[0]")]
    action = catalog.entry("stamp")
    assert action.touches.writes == {"stamped_at"}
    assert [(Path(u.file).name, u.line, u.path) for u in action.uses] == [
        ("tiny.yaml", 8, "$.states.open.on_enter[0]"),
        ("tiny.yaml", 9, "$.states.done.on_exit[0]"),
        ("tiny.yaml", 16, "$.transitions[0].actions[0]"),
    ]
    assert action.workflows == ["tiny"]
    assert action.source.startswith("tests/engine/test_handler_catalog.py:")


def test_unused_handlers_unknown_names_and_unreadable_files_are_listed(folder: Path) -> None:
    catalog = build_catalog(registry, [folder])
    assert [e.name for e in catalog.unused] == ["never_named"]
    assert catalog.entry("never_named").summary == "(no description)"
    assert [(u.kind, u.name, u.line) for u in catalog.unknown] == [
        ("guard", "not_registered", 15),
        ("action", "missing_action", 16),
    ]
    assert [Path(p.path).name for p in catalog.problems] == ["broken.yaml"]
    listed = catalog.to_json()
    assert listed["unused"] == ["never_named"]
    assert listed["unknown"][0]["at"].endswith("tiny.yaml:15")
    with pytest.raises(HandlerNotFound, match="no guard or action is named 'nope'"):
        catalog.entry("nope")


def test_the_command_lists_shows_one_and_refuses_an_unknown_name(run: Run) -> None:
    listing = run("handlers")
    assert "action set_rectification_deadline  [rectification]" in listing
    assert "reads reference data: deadlines, rivers" in listing
    one = run("handlers", "set_rectification_deadline")
    assert "Writes case data: basin, deadline, deadline_basis, found_on" in one
    assert "workflows/rectification.yaml:" in one
    shown = json.loads(run("handlers", "--json", "merge_target_in_ledger"))
    assert shown["kind"] == "guard"
    assert shown["reads"] == ["outfall_code"]
    assert "doc" in shown
    assert run("handlers", "no_such_handler", code=3).strip() == (
        "error: no guard or action is named 'no_such_handler'"
    )
