"""Every shipped workflow has a scenario in workflows/scenarios/ (named after it), and each runs
green through the `qingliu simulate` command, as an administrator runs it; so does the example
of docs/simulator.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.simulate import Sandbox, simulate_files
from tests.conftest import ROOT, Run

WORKFLOWS = sorted(p.stem for p in (ROOT / "workflows").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "workflows" / "scenarios").glob("*.yaml"))


def test_every_workflow_has_a_scenario() -> None:
    assert [p.stem for p in SCENARIOS] == WORKFLOWS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_scenario_runs_green(run: Run, scenario: Path) -> None:
    out = run("simulate", scenario.stem, str(scenario.relative_to(ROOT)))
    assert "FAILED" not in out
    steps = out.strip().splitlines()[-1]
    assert steps.startswith("passed: ")
    done, total = steps.removeprefix("passed: ").split(" step(s)")[0].split(" of ")
    assert done == total


def test_the_example_in_the_docs_runs_green(parts: Sandbox, tmp_path: Path) -> None:
    text = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    found = re.search(r"### A complete example\n\n```yaml\n(.*?)```", text, re.S)
    assert found is not None
    path = tmp_path / "example.yaml"
    path.write_text(found.group(1), encoding="utf-8")
    _, result = simulate_files(parts, "retained_list", path, ROOT / "workflows")
    assert result.passed, [str(f) for f in result.failures]
    assert result.steps_run == result.steps == 12
