"""Every shipped workflow has a scenario in workflows/scenarios/ (named after it), and each runs
green through the `qingliu simulate` command, as an administrator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

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
