"""The editor's scenario runs: a workflow's simulator scenarios (docs/simulator.md) against
the text in the editor, as pass/fail per step in Chinese.

A workflow's scenarios are ``scenarios/<name>.yaml`` and ``scenarios/<name>*.yaml`` beside the
file its versions were imported from (the definitions' ``origin_ref``): the folder
``qingliu load`` read. Each runs with ``engine.simulate.simulate_text`` in a throw-away
database, with the editor's text as the draft over the published version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.catalog import SCENARIOS
from engine.errors import DefinitionError, QingliuError
from engine.runtime import Engine
from engine.simulate import ScenarioInvalid, simulate_text
from engine.simulate.scenario import Step
from engine.store.repository import DefinitionRow

__all__ = ["ScenarioRun", "StepOutcome", "run_scenarios", "scenario_files"]

_STEP_INDEX = re.compile(r"^\$\.steps\[(\d+)\]")
_ACTIONS = {
    "create": "立案",
    "fire": "办理",
    "advance": "时间推进",
    "until": "推进到",
    "expect": "核对",
}


@dataclass
class StepOutcome:
    number: int
    line: int
    what: str
    status: str = "passed"  # passed | failed | skipped
    failures: list[str] = field(default_factory=list)


@dataclass
class ScenarioRun:
    file: str
    title: str = ""
    passed: bool = False
    steps: list[StepOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the scenario or the draft cannot run
    summary: str = ""


def scenario_files(name: str, versions: list[DefinitionRow]) -> list[Path]:
    """The scenario files of workflow ``name``, found beside its imported files."""
    folders: list[Path] = []
    for row in reversed(versions):
        if row.origin != "api" and row.origin_ref:
            folder = Path(row.origin_ref).parent / SCENARIOS
            if folder not in folders:
                folders.append(folder)
    for folder in folders:
        if folder.is_dir():
            found = sorted({*folder.glob(f"{name}.yaml"), *folder.glob(f"{name}*.yaml")})
            if found:
                return found
    return []


def run_scenarios(engine: Engine, name: str, draft: str, files: list[Path]) -> list[ScenarioRun]:
    return [_run(engine, name, draft, path) for path in files]


def _run(engine: Engine, name: str, draft: str, path: Path) -> ScenarioRun:
    run = ScenarioRun(path.name)
    try:
        text = path.read_text(encoding="utf-8")
        scenario, result = simulate_text(engine, name, text, draft)
    except OSError as exc:
        run.problems.append(f"无法读取场景文件：{exc}")
        return run
    except DefinitionError as exc:
        run.problems = [f"草稿{_at(p.line, p.column)}{p.message}" for p in exc.problems]
        return run
    except ScenarioInvalid as exc:
        run.problems = [f"场景{_at(p.line, p.column)}{p.message}" for p in exc.problems]
        return run
    except QingliuError as exc:
        run.problems.append(str(exc))
        return run
    run.title = scenario.title
    run.passed = result.passed
    failures: dict[int, list[str]] = {}
    for failure in result.failures:
        match = _STEP_INDEX.match(failure.json_path)
        number = int(match.group(1)) + 1 if match else 0
        failures.setdefault(number, []).append(_failure_text(failure.to_json()))
    for step in scenario.steps:
        outcome = StepOutcome(step.number, scenario.doc.mark(step.path)[0], _describe(step, name))
        if step.number > result.steps_run:
            outcome.status = "skipped"
        elif step.number in failures:
            outcome.status = "failed"
            outcome.failures = failures[step.number]
        run.steps.append(outcome)
    if 0 in failures:
        run.problems.extend(failures[0])
    shown = f"共 {result.steps} 步，运行 {result.steps_run} 步"
    run.summary = (
        f"通过：{shown}" if result.passed else f"未通过：{shown}，{len(result.failures)} 项不符"
    )
    return run


def _at(line: int, column: int) -> str:
    return f"第 {line} 行 第 {column} 列："


def _failure_text(failure: dict[str, Any]) -> str:
    text = _at(failure["line"], failure["column"]) + str(failure["message"])
    if failure["expected"] is not None or failure["found"] is not None:
        text += f"（期望 {failure['expected']!r}，实际 {failure['found']!r}）"
    return text


def _describe(step: Step, workflow: str) -> str:
    spec = step.spec
    action = _ACTIONS.get(step.kind, step.kind)
    if step.kind == "create":
        return f"{action} {spec['create'] or workflow}（{spec['as']}）"
    if step.kind == "fire":
        refused = "，应被拒绝" if spec.get("expect_refused") else ""
        return f"{action} {spec['fire']}（{spec['as']}{refused}）"
    if step.kind == "expect":
        return f"{action} " + "、".join(str(k) for k in spec["expect"] if k != "as")
    return f"{action} {spec[step.kind]}"
