"""``qingliu diagram`` as a user runs it: each format on stdout or in a file, a case's diagram
through the case read (as the other case commands take --as/--jurisdiction), clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.engine.diagram.helpers import classes, edges, parse, states

DATA = json.dumps(
    {
        "outfall_code": "371502A0001",
        "eia_level": "county",
        "kind": "new",
        "county": "dongchangfu",
        "sub_type": "industrial_enterprise",
        "river": "tuhaihe",
        "name": "某化工公司废水排污口",
        "discharging_unit": "某化工公司",
    },
    ensure_ascii=False,
)


def _svg(out: str) -> str:
    return out[out.index("<?xml") :]


def test_diagram_of_a_workflow_in_each_format(run: Run, tmp_path: Path) -> None:
    run("load", "workflows/setup_approval.yaml")
    root = parse(_svg(run("diagram", "setup_approval")))
    assert root.get("data-version") == "1"
    assert "submitted" in states(root)
    assert "stateDiagram-v2" in run("diagram", "setup_approval", "--format", "mermaid")
    assert run("diagram", "setup_approval", "--format", "dot", "--version", "1").startswith(
        'digraph "setup_approval"'
    )
    target = tmp_path / "setup.svg"
    out = run("diagram", "setup_approval", "-o", str(target))
    assert out.strip() == f"wrote {target}"
    assert set(states(parse(target.read_text("utf-8")))) == set(states(root))
    assert "workflow 'nope'" in run("diagram", "nope", code=3)
    assert "not found" in run("diagram", "setup_approval", "--version", "9", code=3)
    assert "Invalid value for '--format'" in run(
        "diagram", "setup_approval", "--format", "png", code=2
    )


def test_diagram_of_a_case(run: Run) -> None:
    run("load", "workflows/setup_approval.yaml", "workflows/rectification.yaml")
    created = json.loads(
        run("case", "create", "setup_approval", "--data", DATA, "--as", "applicant")
    )
    case = str(created["id"])
    run("case", "fire", case, "accept", "--as", "approval_bureau")
    root = parse(_svg(run("diagram", "setup_approval", "--case", case)))
    assert root.get("data-current") == "reviewing"
    assert "current" in classes(states(root)["reviewing"])
    [taken] = [e for e in edges(root) if "taken" in classes(e)]
    assert (taken.get("data-trigger"), taken.get("data-steps")) == ("accept", "1")
    scoped = run(
        "diagram",
        "setup_approval",
        "--case",
        case,
        "--as",
        "approval_bureau",
        "--jurisdiction",
        "dongchangfu",
        "--format",
        "mermaid",
    )
    assert "class reviewing current" in scoped
    outside = ("--as", "county_eeb", "--jurisdiction", "linqing")
    run("case", "show", case, *outside, code=3)  # not in its jurisdiction: no such case
    assert f"case {case} not found" in run(
        "diagram", "setup_approval", "--case", case, *outside, code=3
    )
    assert "case 99 not found" in run("diagram", "setup_approval", "--case", "99", code=3)
    wrong = run("diagram", "rectification", "--case", case, code=2)
    assert f"case {case} is a case of setup_approval, not of rectification" in wrong
    assert "own version" in run(
        "diagram", "setup_approval", "--case", case, "--version", "1", code=2
    )
