"""Daily supervision (日常监督检查, 三(四)3): a routine inspection of one outfall by its
supervising department or the EEB; on stormwater outfalls 城管/住建 check 借道排污, 雨污混排 and
雨水口晴天排水, a violation found opens an enforcement case, a problem without one gets a
rectification notice and a re-inspection deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
HOUSING = Actor("聊城市住房城乡建设局", "housing_city", "liaocheng")
WATER = Actor("聊城市水利局", "water_city", "liaocheng")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
STORM = "371524-0101"
PLANT = "371524-0001"
CLEAN = {
    "no_hidden_pipe": True,
    "no_sewage_into_storm_drain": True,
    "no_dry_weather_discharge": True,
}


@pytest.fixture
def city(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall(STORM, sub_type="municipal_storm", responsible_party="东阿县城市管理局"),
        outfall(PLANT, sub_type="industrial_enterprise", responsible_party="东阿县某化工有限公司"),
        outfall("371524-0009", status="abolished"),
    )
    return engine


def _inspect(engine: Engine, code: str, actor: Actor, **extra: Any) -> Any:
    data = {"outfall_code": code, "county": "donge", "date": "2024-03-01", **extra}
    return engine.create_case("daily_supervision", data, actor, subject=code)


def test_only_the_supervising_department_or_the_eeb_inspects(city: Engine) -> None:
    with pytest.raises(Refused, match="市城管局、市住房城乡建设局"):
        _inspect(city, STORM, WATER)
    with pytest.raises(Refused, match="工矿企业排污口"):
        _inspect(city, PLANT, URBAN)
    with pytest.raises(Refused, match="abolished"):
        _inspect(city, "371524-0009", DONGE_EEB)
    with pytest.raises(InvalidInput, match="outfall_code"):
        _inspect(city, "371524-7777", DONGE_EEB)
    assert _inspect(city, STORM, HOUSING).data["department"] == "housing_city"
    assert _inspect(city, PLANT, DONGE_EEB).data["department"] == "eeb_city"


def test_a_storm_outfalls_checklist_covers_the_three_stormwater_items(city: Engine) -> None:
    view = _inspect(city, STORM, URBAN)
    with pytest.raises(InvalidInput) as raised:
        city.fire(view.id, "conclude", URBAN, {"checklist": {"signboard_ok": True}})
    assert [e.json_path for e in raised.value.errors] == ["$.checklist.no_hidden_pipe"]
    closed = city.fire(view.id, "conclude", URBAN, {"checklist": {**CLEAN, "signboard_ok": True}})
    assert (closed.state, closed.data["findings"]) == ("closed", [])
    # the inspection is on the outfall's history
    assert view.id in [c.id for c in city.list_cases(subject=STORM)]


def test_dry_weather_discharge_found_opens_an_enforcement_case_for_the_drainage_authority(
    city: Engine,
) -> None:
    view = _inspect(city, STORM, URBAN)
    with pytest.raises(Refused, match="order_rectification"):
        city.fire(
            view.id,
            "conclude",
            URBAN,
            {"checklist": {**CLEAN, "signboard_ok": False}},
        )
    done = city.fire(
        view.id, "conclude", URBAN, {"checklist": {**CLEAN, "no_dry_weather_discharge": False}}
    )
    assert done.state == "closed"
    (referral,) = done.data["referrals"]
    assert referral["violation_type"] == "dry_weather_discharge"
    case = city.get_case(referral["case_id"])
    assert case.data["source"] == "inspection"
    assert case.data["enforcing_authority"] == "drainage"  # 城镇排水主管部门（市城管局）
    assert case.data["suspected_units"] == ["东阿县城市管理局"]


def test_a_problem_without_a_violation_is_rectified_and_reinspected_by_the_deadline(
    city: Engine, clock: FakeClock
) -> None:
    view = _inspect(city, PLANT, DONGE_EEB)
    with pytest.raises(Refused, match="conclude"):
        city.fire(view.id, "order_rectification", DONGE_EEB, {"checklist": {"signboard_ok": True}})
    ordered = city.fire(
        view.id,
        "order_rectification",
        DONGE_EEB,
        {
            "checklist": {"signboard_ok": False},
            "findings": [{"description": "暗管接入", "violation_type": "hidden_pipe"}],
        },
    )
    assert ordered.state == "rectifying"
    assert ordered.data["rectification_items"] == ["标识牌不规范"]
    assert [r["violation_type"] for r in ordered.data["referrals"]] == ["hidden_pipe"]
    # 15 working days from Friday 2024-03-01: the end of Friday 2024-03-22
    assert ordered.data["rectify_by"] == "2024-03-22"
    pass_time(city, clock, datetime(2024, 3, 22, 15, 0, tzinfo=UTC))
    assert city.get_case(view.id).data.get("reinspection_overdue") is None
    pass_time(city, clock, datetime(2024, 3, 25, 2, 0, tzinfo=UTC))
    late = city.get_case(view.id)
    assert late.data["reinspection_overdue"] is True
    assert datetime.fromisoformat(late.data["reinspection_overdue_at"]) == datetime(
        2024, 3, 22, 16, 0, tzinfo=UTC
    )
    # the missed re-inspection escalates the inspecting department (the EEB: its county)
    ladder = city.get_case(late.data["escalation_case_id"])
    assert ladder.case.subject == "donge:daily_supervision"
    with pytest.raises(Refused):
        city.fire(view.id, "reinspect", URBAN, {"rectified": True, "note": "已整改"})
    failed = city.fire(
        view.id,
        "reinspect_failed",
        DONGE_EEB,
        {"violation_type": "other", "note": "标识牌仍未设置"},
    )
    assert failed.state == "closed"
    # 一事一案: the failure opens its own enforcement case, though 借道排污's is still open
    first = ordered.data["referrals"][0]["case_id"]
    assert len(failed.data["enforcement_case_ids"]) == 2
    assert first in failed.data["enforcement_case_ids"]
