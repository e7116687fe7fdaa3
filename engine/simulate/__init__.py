"""The simulator: run a scenario (docs/simulator.md) against a definition in a throw-away
database with a virtual clock, and report the trace and every expectation that did not hold.

    scenario.py   the scenario file: safe YAML, scenario.schema.json, steps with line marks
    runner.py     the sandbox engine and the steps, through the engine facade
    clockwork.py  time jumps: the injected clock and the real sweep at every due moment
    expect.py     expect blocks against the case; failures with file:line:col
    trace.py      the trace, read back from the history and timer rows
    errors.py     ScenarioInvalid (malformed scenario), ScenarioFailed (an expectation failed)

``qingliu simulate WORKFLOW SCENARIO`` (``engine.cli.simulate``) and
``POST /api/v1/workflows/{name}/simulate`` (``engine.api.routes_simulate``) call
``simulate_files`` and ``simulate_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.definition.loader import load_yaml
from engine.errors import DefinitionError, Problem
from engine.runtime import Engine
from engine.simulate.errors import ScenarioFailed, ScenarioInvalid
from engine.simulate.runner import Draft, Result, Sandbox, run_scenario
from engine.simulate.scenario import Scenario, parse_scenario
from engine.simulate.trace import Entry, local

__all__ = [
    "Draft",
    "Result",
    "Sandbox",
    "Scenario",
    "ScenarioFailed",
    "ScenarioInvalid",
    "parse_scenario",
    "report_lines",
    "simulate_files",
    "simulate_text",
]


def _draft_name(draft: Draft) -> str:
    doc, problems = load_yaml(draft.text, draft.source)
    name = doc.value.get("name") if isinstance(doc.value, dict) else None
    if problems or not isinstance(name, str):
        raise DefinitionError(problems or [doc.problem((), "a definition needs a name")])
    return name


def simulate_files(
    parts: Sandbox, workflow: str, scenario_path: Path, folder: Path
) -> tuple[Scenario, Result]:
    """``workflow`` is a name of ``folder``'s definitions or the path of a YAML file (a draft,
    published over the folder's version of its name)."""
    zone = parts.calendar.tz
    scenario = parse_scenario(_read(scenario_path, ScenarioInvalid), str(scenario_path), zone)
    draft = None
    if workflow.endswith((".yaml", ".yml")) or Path(workflow).is_file():
        draft = Draft(_read(Path(workflow), DefinitionError), workflow)
        workflow = _draft_name(draft)
    result = run_scenario(parts, scenario, workflow, folder=[folder], draft=draft)
    return scenario, result


def simulate_text(
    engine: Engine, workflow: str, scenario_text: str, draft_text: str | None = None
) -> tuple[Scenario, Result]:
    """For the API: the definitions published on ``engine`` (their latest versions), the
    draft over ``workflow``'s when given; the sandbox is made like ``engine``."""
    parts = Sandbox.like(engine)
    scenario = parse_scenario(scenario_text, "<scenario>", parts.calendar.tz)
    draft = None
    if draft_text is not None:
        draft = Draft(draft_text, "<draft>")
        name = _draft_name(draft)
        if name != workflow:
            doc, _ = load_yaml(draft_text, "<draft>")
            raise DefinitionError(
                [doc.problem(("name",), f"the name is {name!r}, the URL {workflow!r}")]
            )
    keep = None if scenario.workflows is None else {*scenario.workflows, workflow}
    texts = [row.source for row in engine.definitions() if keep is None or row.name in keep]
    result = run_scenario(parts, scenario, workflow, texts=texts, draft=draft)
    return scenario, result


def _read(path: Path, error: type[ScenarioInvalid] | type[DefinitionError]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error([Problem(str(path), 1, 1, f"cannot read: {exc}")]) from exc


def report_lines(scenario: Scenario, result: Result, zone: ZoneInfo) -> Sequence[str]:
    """The trace and the outcome as people read them."""
    versions = ", ".join(f"{n} v{v}" for n, v in sorted(result.versions.items()))
    out = [
        f"scenario {scenario.source}: {scenario.title or result.workflow}",
        f"workflow {result.workflow}; definitions {versions}",
        f"start {local(scenario.start, zone)} ({zone.key})",
        "",
    ]
    by_step: dict[int, list[Entry]] = {}
    for entry in result.trace:
        by_step.setdefault(entry.step, []).append(entry)
    for number in [0, *sorted(result.headers)]:
        out.append(result.headers.get(number, "setup"))
        for entry in by_step.get(number, []):
            out.extend("  " + line for line in entry.lines(zone))
        out.extend(f"  {note}" for note in result.notes.get(number, []))
    out.append("")
    for failure in result.failures:
        out.append(f"FAILED {failure}")
    verdict = "passed" if result.passed else f"FAILED ({len(result.failures)} expectation(s))"
    out.append(f"{verdict}: {result.steps_run} of {result.steps} step(s) run")
    return out
