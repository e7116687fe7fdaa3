"""Public reports (随手拍/有奖举报): routed by sub-type and place, investigated against a
deadline, founded reports feed the ledger (with a responsibility case) and enforcement, then
the reward decision and the reply to the reporter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.api.tokens import create_token
from engine.clock import FakeClock
from engine.domain import load_domain
from engine.errors import GuardFailed, InputRefused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.attachkit import png_file, stand_ins
from tests.conftest import ROOT, Run
from tests.handlers.flows.support import ledger_record, outfall, pass_time, seed_ledger

DESK = Actor("12345热线受理台", "public")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
WATER = Actor("聊城市水利局", "water_city", "liaocheng")


@pytest.fixture
def desk(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    return engine


def _report(engine: Engine, **fields: Any) -> Any:
    return engine.create_case(
        "public_report", stand_ins(engine, DESK, "public_report", _report_data(**fields)), DESK
    )


def _report_data(**fields: Any) -> dict[str, Any]:
    return {
        "channel": "snapshot",
        "reporter": {"name": "王先生", "phone": "13800000000"},
        "county": "donge",
        "longitude": 116.25,
        "latitude": 36.33,
        "address": "东阿县铜城街道黄河大堤北侧",
        "photos": ["photos/2024/03/0001.jpg"],
        "description": "河边有一根管子在排黑水",
        **fields,
    }


@pytest.mark.parametrize(
    ("sub_type", "area", "department", "co"),
    [
        ("industrial_enterprise", None, "eeb_city", []),
        ("urban_wwtp", "urban", "urban_mgmt_city", ["housing_city"]),
        ("urban_wwtp", "town", "housing_city", ["urban_mgmt_city"]),
        ("urban_scattered", None, "urban_mgmt_city", ["housing_city"]),
        ("irrigation_district", "rural", "water_city", []),
        ("aquaculture_small", None, "agri_city", []),
        ("livestock_large", "rural", "eeb_city", ["agri_city"]),
        (None, None, "eeb_city", []),
    ],
)
def test_a_report_is_routed_by_sub_type_and_place(
    desk: Engine, sub_type: str | None, area: str | None, department: str, co: list[str]
) -> None:
    extra = {k: v for k, v in (("sub_type", sub_type), ("area", area)) if v is not None}
    view = _report(desk, **extra)
    assert view.state == "received"
    assert view.data["assigned_department"] == department
    assert view.data["co_departments"] == co


def test_only_the_assigned_department_investigates_and_the_city_may_reroute(desk: Engine) -> None:
    case_id = _report(desk, sub_type="urban_wwtp", area="urban").id
    with pytest.raises(GuardFailed, match="actor_is_assigned"):
        desk.fire(case_id, "start_investigation", WATER)
    desk.fire(case_id, "reroute", CITY, {"department": "water_city", "reason": "实为灌区退水口"})
    assert desk.fire(case_id, "start_investigation", WATER).state == "investigating"
    with pytest.raises(InputRefused, match=r"\$\.department: 'nobody' is not a department"):
        desk.fire(case_id, "reroute", CITY, {"department": "nobody", "reason": "x"})
    routing = desk.get_case(case_id).data["routing"]
    assert [r["department"] for r in routing] == ["urban_mgmt_city", "water_city"]


def test_a_refused_department_is_a_422_at_its_json_path_through_the_api_and_exit_7_in_the_cli(
    desk: Engine, run: Run, tmp_path: Path
) -> None:
    case_id = _report(desk, sub_type="urban_wwtp", area="urban").id
    _, secret = create_token(desk, "聊城市生态环境局", "eeb_city", "liaocheng")
    with TestClient(create_app(desk, load_domain("handlers"))) as client:
        answer = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"trigger": "reroute", "payload": {"department": "nobody", "reason": "x"}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "https://qingliu.dev/problems/invalid-input"
    assert body["errors"] == [
        {
            "in": "body",
            "json_path": "$.payload.department",
            "message": "'nobody' is not a department in config/reference",
        }
    ]
    assert desk.get_case(case_id).version == 1  # nothing changed
    # the same refusal from the command line: exit code 7, the field named, no traceback
    run("load")
    photo = json.loads(
        run("case", "attach", "public_report", "photos", png_file(tmp_path), "--as", "public")
    )
    report = _report_data(sub_type="urban_wwtp", area="urban", photos=[photo])
    data = json.dumps(report, ensure_ascii=False)
    created = json.loads(run("case", "create", "public_report", "--data", data, "--as", "public"))
    out = run(
        "case",
        "fire",
        str(created["id"]),
        "reroute",
        "--as",
        "eeb_city",
        "--payload",
        '{"department": "nobody", "reason": "x"}',
        code=7,
    )
    assert "$.department: 'nobody' is not a department" in out


def test_the_county_branch_investigates_for_the_city_eeb(desk: Engine) -> None:
    case_id = _report(desk, sub_type="industrial_enterprise").id
    assert desk.fire(case_id, "start_investigation", DONGE_EEB).state == "investigating"


def test_a_founded_report_puts_the_new_outfall_in_the_ledger_with_a_responsibility_case(
    desk: Engine, clock: FakeClock
) -> None:
    case_id = _report(desk, channel="tip_off", sub_type="industrial_enterprise").id
    desk.fire(case_id, "start_investigation", DONGE_EEB)
    found = {"finding": "现场核实为未登记的企业排污口", "found": ["new_outfall"]}
    assert desk.fire(case_id, "conclude_founded", DONGE_EEB, found).state == "founded"
    with pytest.raises(GuardFailed, match="followed_up"):  # not before the ledger has it
        desk.fire(case_id, "decide_reward", CITY, {"rewarded": True, "reward_yuan": 500})

    outfall_payload = {
        "code": "371524-0901",
        "name": "东阿县某企业排污口",
        "sub_type": "industrial_enterprise",
        "river": "huanghe",
        "entry_mode": "管道",
    }
    view = desk.fire(case_id, "register_outfall", DONGE_EEB, {"outfall": outfall_payload})
    record = ledger_record(desk, "371524-0901")
    assert record is not None
    assert record["county"] == "donge"
    assert (record["longitude"], record["latitude"]) == (116.25, 36.33)  # from the report
    assert record["basin"] == "yellow_river"  # from the river
    assert record["found_at"] == "2024-03-01"
    assert record["status"] == "active"
    (responsibility,) = desk.list_cases(workflow="responsibility", subject="371524-0901")
    assert responsibility.state == "tracing"
    assert view.data["responsibility_case_id"] == responsibility.id

    view = desk.fire(case_id, "decide_reward", CITY, {"rewarded": True, "reward_yuan": 500})
    assert view.state == "reward_decided"
    view = desk.fire(case_id, "reply", DESK, {"reply": "经核实属实，已纳入台账，奖励500元"})
    assert view.state == "replied"
    assert view.final
    assert view.data["replied_by"] == DESK.name


def test_a_known_outfall_or_a_bad_record_is_refused_and_nothing_changes(desk: Engine) -> None:
    seed_ledger(desk, outfall("371524-0001", "donge"))
    case_id = _report(desk).id
    desk.fire(case_id, "start_investigation", CITY)
    desk.fire(case_id, "conclude_founded", CITY, {"finding": "属实", "found": ["new_outfall"]})
    known = {"code": "371524-0001", "name": "x", "sub_type": "other", "river": "huanghe"}
    with pytest.raises(InputRefused, match=r"\$\.outfall\.code: outfall 371524-0001 is already"):
        desk.fire(case_id, "register_outfall", CITY, {"outfall": known})
    bad = {"code": "371524-0902", "name": "x", "sub_type": "other", "river": "nile"}
    with pytest.raises(InputRefused, match=r"\$\.outfall\.river: unknown river 'nile'"):
        desk.fire(case_id, "register_outfall", CITY, {"outfall": bad})
    assert ledger_record(desk, "371524-0902") is None
    assert desk.list_cases(workflow="responsibility") == []


def test_a_founded_violation_opens_an_enforcement_case(desk: Engine) -> None:
    seed_ledger(desk, outfall("371524-0002", "donge", responsible_party="东阿县某化工有限公司"))
    case_id = _report(desk, sub_type="industrial_enterprise").id
    desk.fire(case_id, "start_investigation", DONGE_EEB)
    desk.fire(
        case_id, "conclude_founded", DONGE_EEB, {"finding": "夜间偷排", "found": ["violation"]}
    )
    payload = {"violation_type": "secret_discharge", "outfall_code": "371524-0002"}
    view = desk.fire(case_id, "refer_violation", DONGE_EEB, payload)
    enforcement = desk.get_case(view.data["enforcement_case_id"])
    assert enforcement.case.workflow == "enforcement"
    assert enforcement.case.subject == "371524-0002"
    assert enforcement.data["source"] == "public_report"
    assert enforcement.data["source_case_id"] == case_id
    assert enforcement.data["description"] == "夜间偷排"
    assert enforcement.data["suspected_units"] == ["东阿县某化工有限公司"]  # from the ledger
    view = desk.fire(case_id, "decide_reward", CITY, {"rewarded": False})
    assert view.state == "reward_decided"


def test_an_unfounded_report_is_answered(desk: Engine) -> None:
    case_id = _report(desk, sub_type="aquaculture_small").id
    agri = Actor("聊城市农业农村局", "agri_city", "liaocheng")
    desk.fire(case_id, "start_investigation", agri)
    view = desk.fire(case_id, "conclude_unfounded", agri, {"finding": "为鱼塘正常换水"})
    assert view.state == "unfounded"
    assert desk.fire(case_id, "reply", CITY, {"reply": "经核实不属实"}).state == "replied"


def test_the_investigation_has_a_deadline(desk: Engine, clock: FakeClock) -> None:
    case_id = _report(desk, sub_type="urban_scattered").id
    view = desk.fire(case_id, "start_investigation", URBAN)
    (timer,) = view.timers
    # 15 working days from Friday 2024-03-01: 03-04..08, 11..15, 18..22 -> the end of 03-22
    assert timer.due_at == datetime(2024, 3, 22, 16, tzinfo=UTC)
    pass_time(desk, clock, datetime(2024, 3, 22, 9, tzinfo=UTC))
    assert "investigation_overdue" not in desk.get_case(case_id).data
    pass_time(desk, clock, datetime(2024, 3, 23, 1, tzinfo=UTC))
    view = desk.get_case(case_id)
    assert view.state == "investigating"
    assert view.data["investigation_overdue"] is True
