"""The README walk-through, run as a user would: the installed `qingliu` command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, Run
from tests.engine.definition.test_loader import alias_bomb

FIXTURES = ROOT / "tests" / "fixtures"


def test_walk_through_create_fire_to_final_and_history(run: Run) -> None:
    # review.yaml names fixture-only handlers: validate and load the shipped example instead
    assert run("validate", "workflows/setup_approval.yaml").strip() == "ok: 1 definition(s)"
    out = run("load", "workflows/setup_approval.yaml")
    assert "setup_approval v1 (new version)" in out
    data = (
        '{"outfall_code":"371502A0001","eia_level":"county","kind":"new",'
        '"county":"dongchangfu","sub_type":"industrial_enterprise","river":"tuhaihe",'
        '"name":"某化工公司废水排污口","discharging_unit":"某化工公司"}'
    )
    created = json.loads(
        run(
            "case",
            "create",
            "setup_approval",
            "--subject",
            "371502A0001",
            "--data",
            data,
            "--as",
            "applicant",
        )
    )
    case_id = str(created["id"])
    assert created["state"] == "submitted"
    run("case", "fire", case_id, "accept", "--as", "approval_bureau", "--actor", "审批科")
    final = json.loads(
        run(
            "case",
            "fire",
            case_id,
            "approve",
            "--as",
            "approval_bureau",
            "--payload",
            '{"decision_number":"聊审〔2026〕8号"}',
        )
    )
    assert (final["state"], final["final"], final["version"]) == ("approved", True, 3)
    shown = json.loads(run("ledger", "show", "371502A0001"))  # 台账: issue 15 item 5
    assert (shown["setup_basis"], shown["setup_decision"]) == ("approval", "聊审〔2026〕8号")
    history = run("case", "history", case_id).splitlines()
    assert [line.split()[3] for line in history[1:]] == ["accept", "approve"]
    assert "审批科 (approval_bureau)" in history[1]
    events = json.loads(run("case", "history", case_id, "--json"))
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert "every chain verified" in run("audit", "verify")
    assert "replayed 1 case(s), 0 mismatch(es)" in run("replay")


def test_errors_map_to_exit_codes_without_tracebacks(run: Run) -> None:
    out = run("validate", str(FIXTURES / "broken"), code=1)
    assert "duplicate_keys.yaml:5:1: duplicate key 'initial'" in out
    run("load", "workflows/setup_approval.yaml")
    assert "case 42 not found" in run("case", "show", "42", code=3)
    data = (
        '{"outfall_code":"371502A0002","eia_level":"county","kind":"new",'
        '"county":"chiping","sub_type":"urban_wwtp","river":"tuhaihe"}'
    )
    created = json.loads(run("case", "create", "setup_approval", "--data", data))
    case_id = str(created["id"])
    assert "may not fire 'accept'" in run(
        "case", "fire", case_id, "accept", "--as", "eeb_city", code=4
    )
    # an applicant is a party: a case it neither opened nor is named on does not exist for it
    assert f"case {case_id} not found" in run(
        "case", "fire", case_id, "accept", "--as", "applicant", code=3
    )
    assert "allowed now:" in run("case", "fire", case_id, "approve", code=5)
    assert "is at version 1, not 7" in run(
        "case", "fire", case_id, "accept", "--if-version", "7", code=6
    )
    assert "$.eia_level" in run(
        "case", "create", "setup_approval", "--data", '{"eia_level":"x"}', code=7
    )
    assert "not JSON" in run("case", "create", "setup_approval", "--data", "{oops", code=2)


def test_validate_refuses_an_alias_bomb_with_its_position(run: Run, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    out = run("validate", str(bomb), code=1)
    assert f"{bomb}:6:4: expands to more than" in out
