"""The simulator: a scenario runs against a draft or a published definition in a throw-away
database with a virtual clock; malformed scenarios and failed expectations name file:line:col."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.catalog import definition_files
from engine.clock import FakeClock
from engine.errors import DefinitionError, WorkflowNotFound
from engine.simulate import Sandbox, ScenarioInvalid, report_lines, simulate_files
from engine.simulate.clockwork import advance_target
from engine.simulate.runner import sandbox
from engine.simulate.trace import local as shown
from tests.conftest import ROOT, Run

FIXTURES = ROOT / "tests" / "fixtures" / "simulate"
DRAFT = FIXTURES / "notice.yaml"
SCENARIO = FIXTURES / "notice.scenario.yaml"
WORKFLOWS = ROOT / "workflows"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _edit(tmp_path: Path, old: str, new: str) -> Path:
    text = SCENARIO.read_text(encoding="utf-8")
    assert old in text
    return _write(tmp_path, text.replace(old, new))


def test_a_draft_runs_with_its_timer_through_the_real_sweep(parts: Sandbox) -> None:
    scenario, result = simulate_files(parts, str(DRAFT), SCENARIO, WORKFLOWS)
    assert result.passed, [str(f) for f in result.failures]
    assert result.workflow == "sim_notice"
    assert result.steps_run == result.steps == 9
    zone = parts.calendar.tz
    fired = [e for e in result.trace if e.fired_by is not None]
    assert [(e.trigger, e.from_state, e.to_state) for e in fired] == [("expire", "waiting", "late")]
    assert fired[0].at == fired[0].fired_by.due_at  # a punctual scheduler: fired when due
    assert fired[0].to_json(zone)["local"] == "2024-10-01 00:00"
    text = "\n".join(report_lines(scenario, result, zone))
    assert "⏰ waiting_0_expire  expire「答复逾期」  待答复(waiting) → 已逾期(late)" in text
    assert "armed  waiting_0_expire → expire, due 2024-10-01 00:00" in text
    assert text.endswith("passed: 9 of 9 step(s) run")


def test_a_failed_expectation_names_its_line_and_column_and_what_was_found(
    parts: Sandbox, tmp_path: Path
) -> None:
    path = _edit(
        tmp_path, "  - expect: {state: late, history", "  - expect: {state: answered, history"
    )
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    assert not result.passed
    (failure,) = result.failures
    assert (failure.line, failure.column) == (22, 21)
    assert str(failure) == (f"{path}:22:21: case #1 state: expected answered, found late (已逾期)")
    assert failure.to_json()["path"] == "$.steps[6].expect.state"


def test_data_timers_history_and_available_are_compared(parts: Sandbox, tmp_path: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8").replace(
        "  - expect: {state: answered, open: false, data: {answer: 已整改}}",
        "  - expect:\n"
        "      data: {answer: 未整改, county: donge}\n"
        "      paths: {$.answer: 未整改}\n"
        "      absent: [answer]\n"
        "      history: [answer]\n"
        "      timers: [{name: waiting_0_expire}]\n"
        "      available: [answer]\n"
        "      as: 东阿县生态环境分局\n"
        "      cases: {sim_notice: 2}\n",
    )
    _, result = simulate_files(parts, str(DRAFT), _write(tmp_path, text), WORKFLOWS)
    shown = {f.json_path: (f.expected, f.found) for f in result.failures}
    base = "$.steps[8].expect"
    assert shown == {
        f"{base}.data.answer": ("未整改", "已整改"),
        f"{base}.paths.$.answer": ("未整改", "已整改"),
        f"{base}.absent[0]": ("(absent)", "已整改"),
        f"{base}.history": (["answer"], ["expire", "answer"]),
        f"{base}.timers": (["waiting_0_expire"], []),
        f"{base}.available": (["answer"], []),
        f"{base}.cases.sim_notice": (2, 1),
    }


def test_a_timer_due_is_compared_in_local_time(parts: Sandbox, tmp_path: Path) -> None:
    path = _edit(tmp_path, 'due: "2024-09-30"', 'due: "2024-09-29"')
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    (failure,) = result.failures
    assert failure.message == "timer waiting_0_expire due (local time)"
    assert (failure.expected, failure.found) == ("2024-09-30 00:00", "2024-10-01 00:00")


def test_an_unexpected_refusal_stops_the_run_and_an_expected_one_must_happen(
    parts: Sandbox, tmp_path: Path
) -> None:
    path = _edit(
        tmp_path, "    payload: {}\n    expect_refused: invalid-input\n", "    payload: {}\n"
    )
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    (failure,) = result.failures
    assert "fire answer on case #1 as 东阿县生态环境分局 was refused: invalid payload" in str(
        failure
    )
    assert result.steps_run == 3
    path = _edit(tmp_path, "    payload: {}\n", "    payload: {answer: 好}\n")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    assert str(result.failures[0]).endswith(
        "was not refused: expected invalid-input, found accepted"
    )
    path = _edit(tmp_path, "expect_refused: invalid-input", "expect_refused: GuardFailed")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    assert "refused otherwise: expected GuardFailed, found invalid-input" in str(result.failures[0])


def test_another_jurisdiction_is_refused_as_it_would_be(parts: Sandbox, tmp_path: Path) -> None:
    """Scope works in the sandbox as on the server: another county does not even see the case."""
    other = "  - fire: answer\n    as: 阳谷县生态环境分局\n    payload: {answer: 好}\n"
    path = _edit(tmp_path, "  - advance:", f"{other}    expect_refused: CaseNotFound\n  - advance:")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    assert result.passed, [str(f) for f in result.failures]
    path = _edit(tmp_path, "  - advance:", f"{other}    expect_refused: forbidden\n  - advance:")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    assert "refused otherwise: expected forbidden, found case-not-found" in str(result.failures[0])


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("  - advance: 2 working days", "  - advance: two days", "19:14", "'two days' is not like"),
        ("  - advance: 2 working days", "  - wait: 2 days", "19:5", "a step needs one of create"),
        (
            "    as: 东阿县生态环境分局\n    payload: {}",
            "    as: 县局\n    payload: {}",
            "16:9",
            "no actor '县局' in actors",
        ),
        ("start: 2024-09-27", "start: 2024-02-30", "2:8", "'2024-02-30' is not a real date"),
        (
            "  - fire: answer\n",
            "  - fire: answer\n    paylod: {}\n",
            "16:5",
            "unknown key 'paylod'",
        ),
        (
            "      available: [answer]\n",
            "      available: [answer]\n      sate: x\n",
            "14:7",
            "unknown key 'sate'",
        ),
        (
            "      as: 东阿县生态环境分局\n  - fire",
            "  - fire",
            "13:18",
            "available needs as: ACTOR",
        ),
        ("steps:", "steps:\n  - expect: {}\nx:", "8:1", "unknown key 'x'"),
    ],
    ids=["advance", "no-action", "actor", "date", "fire-key", "expect-key", "as", "top-key"],
)
def test_a_malformed_scenario_is_refused_with_every_line_and_column(
    parts: Sandbox, tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    path = _edit(tmp_path, old, new)
    with pytest.raises(ScenarioInvalid) as refused:
        simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    shown = [str(p) for p in refused.value.problems]
    assert any(p.startswith(f"{path}:{where}: {message}") for p in shown), shown


def test_yaml_syntax_and_several_problems_are_all_reported(parts: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalid, match=r"scenario.yaml:2:1: YAML syntax"):
        simulate_files(parts, str(DRAFT), _write(tmp_path, "start: [2024\n"), WORKFLOWS)
    text = "start: nope\nactors: []\nsteps: []\n"
    with pytest.raises(ScenarioInvalid) as refused:
        simulate_files(parts, str(DRAFT), _write(tmp_path, text), WORKFLOWS)
    assert [(p.line, p.json_path) for p in refused.value.problems] == [
        (1, "$.start"),
        (2, "$.actors"),
        (3, "$.steps"),
    ]


def test_an_unknown_workflow_or_a_broken_draft_is_refused(parts: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(WorkflowNotFound):
        simulate_files(parts, "no_such_flow", SCENARIO, WORKFLOWS)
    broken = tmp_path / "broken.yaml"
    broken.write_text(DRAFT.read_text(encoding="utf-8").replace("initial: waiting", "initial: x"))
    with pytest.raises(DefinitionError, match=r"broken.yaml:\d+:\d+"):
        simulate_files(parts, str(broken), SCENARIO, WORKFLOWS)
    with pytest.raises(DefinitionError, match=r"missing.yaml:1:1: cannot read"):
        simulate_files(parts, str(tmp_path / "missing.yaml"), SCENARIO, WORKFLOWS)


# -- the command ------------------------------------------------------------------------------


def test_the_command_prints_the_trace_and_exits_1_naming_the_failed_expectation(
    run: Run, tmp_path: Path
) -> None:
    out = run("simulate", str(DRAFT), str(SCENARIO))
    assert "passed: 9 of 9 step(s) run" in out
    path = _edit(
        tmp_path, "  - expect: {state: late, history", "  - expect: {state: answered, history"
    )
    out = run("simulate", str(DRAFT), str(path), code=1)
    assert f"error: {path}: 1 expectation(s) failed:\n{path}:22:21: case #1 state" in out
    out = run("simulate", str(DRAFT), str(_write(tmp_path, "start: x\n")), code=2)
    assert f"{path}:1:8: 'x' is not a date or ISO datetime" in out


def test_the_command_never_opens_the_configured_database(run: Run, tmp_path: Path) -> None:
    out = run("simulate", "--json", str(DRAFT), str(SCENARIO))
    assert '"passed": true' in out
    assert not (tmp_path / "cli.db").exists()  # the `run` fixture's configured database


# -- scenarios beside the definitions -----------------------------------------------------------


def test_load_and_validate_skip_scenario_folders(run: Run, tmp_path: Path) -> None:
    assert not [p for p in definition_files([WORKFLOWS]) if "scenarios" in p.parts]
    folder = tmp_path / "flows"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "sim_notice.yaml").write_text(DRAFT.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "scenarios" / "sim_notice.yaml").write_text(
        SCENARIO.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert definition_files([folder]) == [folder / "sim_notice.yaml"]
    assert "ok: 1 definition(s)" in run("validate", str(folder))
    assert "sim_notice v1 (new version)" in run("load", str(folder))
    # named explicitly, a scenario is checked as the definition it is not
    assert "scenarios/sim_notice.yaml:" in run(
        "validate", str(folder / "scenarios" / "sim_notice.yaml"), code=1
    )
    shipped = len(list(WORKFLOWS.glob("*.yaml")))  # every workflow, however many are shipped
    assert f"ok: {shipped} definition(s)" in run("validate", "workflows/")


def test_time_only_runs_forward(parts: Sandbox, tmp_path: Path) -> None:
    path = _edit(tmp_path, "  - until: 2024-09-30\n", "  - until: 2024-09-01\n")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    (failure,) = result.failures
    assert failure.message == "time runs forward only"
    assert (failure.expected, failure.found) == ("after 2024-09-30 09:00", "2024-09-01")
    assert result.steps_run == 6  # stopped there


@pytest.mark.parametrize(
    ("advance", "local"),
    [
        ("2 working days", "2024-09-30 09:00"),  # Sunday 09-29 is worked (国庆调休)
        ("3 working days", "2024-10-08 09:00"),  # 10-01..07 are holidays
        ("3 days", "2024-09-30 09:00"),
        ("1 week", "2024-10-04 09:00"),
        ("5 hours", "2024-09-27 14:00"),
        ("90 minutes", "2024-09-27 10:30"),
    ],
)
def test_advance_counts_working_days_by_the_calendar(
    parts: Sandbox, advance: str, local: str
) -> None:
    start = datetime(2024, 9, 27, 1, tzinfo=UTC)  # Friday 09:00 in Shanghai
    with sandbox(parts, FakeClock(start)) as engine:
        assert shown(advance_target(engine, start, advance), parts.calendar.tz) == local


def test_a_subject_in_an_unknown_jurisdiction_stops_before_the_first_step(
    parts: Sandbox, tmp_path: Path
) -> None:
    subjects = (
        "subjects:\n  - {kind: outfall, key: X-1, jurisdiction: atlantis, data: {code: X-1}}\n"
    )
    path = _edit(tmp_path, "steps:\n", subjects + "steps:\n")
    _, result = simulate_files(parts, str(DRAFT), path, WORKFLOWS)
    (failure,) = result.failures
    assert failure.json_path == "$.subjects[0].jurisdiction"
    assert failure.found == "atlantis"
    assert result.steps_run == 0
