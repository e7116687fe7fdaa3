"""Setup approval and registration (设置审批/登记): authority routed by EIA level and disputes,
only that authority decides, the water-function zone rule, registration for sub-types that need
no approval, retroactive permits for ledger outfalls, and a working-day review limit that
pauses while the applicant corrects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import GuardFailed, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import (
    due_times,
    ledger_record,
    outfall,
    pass_time,
    seed_ledger,
    setup_application,
)

APPLICANT = Actor("东阿县某化工公司", "applicant", "donge")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
PROVINCE = Actor("山东省生态环境厅", "eeb_province", "shandong")
BASIN = Actor("黄河流域生态环境监督管理局", "basin_bureau", None)
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
NUMBER = {"decision_number": "聊审批排〔2024〕9号"}


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in ["setup_approval"]])
    return engine


def _apply(engine: Engine, code: str = "371524-0100", **data: Any) -> int:
    data = {"river": "xiaoyunhe", **data}  # 海河流域, outside the basin bureau's approval scope
    return setup_application(engine, code, APPLICANT, **data)


@pytest.mark.parametrize(
    ("data", "authority"),
    [
        ({"eia_level": "national"}, "basin_bureau"),
        ({"eia_level": "city", "river": "weiyunhe"}, "basin_bureau"),
        ({"eia_level": "provincial"}, "province"),
        ({"eia_level": "city", "dispute": True}, "province"),
        ({"eia_level": "city"}, "city"),
        ({"eia_level": "county"}, "county"),
        ({"eia_level": "none"}, "city"),  # the 县级以上 department that accepts it
    ],
    ids=[
        "national-eia",
        "basin-scope-river",
        "provincial-eia",
        "inter-city-dispute",
        "city",
        "county",
        "no-eia",
    ],
)
def test_acceptance_routes_to_the_authority_of_the_plan(
    flows: Engine, data: dict[str, Any], authority: str
) -> None:
    view = flows.fire(_apply(flows, **data), "accept", CITY_APPROVAL)
    assert view.state == "reviewing"
    assert view.data["authority"] == authority


def test_only_the_routed_authority_decides(flows: Engine) -> None:
    case_id = _apply(flows, eia_level="provincial")
    flows.fire(case_id, "accept", CITY_APPROVAL)
    for actor in (CITY_APPROVAL, BASIN):
        with pytest.raises(GuardFailed, match="actor_is_authority"):
            flows.fire(case_id, "approve", actor, {"decision_number": "聊环审〔2024〕5号"})
    view = flows.fire(case_id, "approve", PROVINCE, {"decision_number": "鲁环审〔2024〕5号"})
    assert view.state == "approved"
    assert view.data["decision_number"] == "鲁环审〔2024〕5号"
    assert view.data["published_at"] == "2024-03-01T01:00:00+00:00"


def test_city_and_county_bureaus_decide_their_own_level(flows: Engine) -> None:
    county_bureau = Actor("东阿县行政审批服务局", "approval_bureau", "donge")
    city_level = _apply(flows, eia_level="city")
    flows.fire(city_level, "accept", county_bureau)  # any window may accept
    with pytest.raises(GuardFailed, match="actor_is_authority"):
        flows.fire(city_level, "approve", county_bureau, NUMBER)
    assert flows.fire(city_level, "approve", CITY_APPROVAL, NUMBER).state == "approved"
    county_level = _apply(flows, "371524-0104", eia_level="county")
    flows.fire(county_level, "accept", county_bureau)
    with pytest.raises(GuardFailed, match="actor_is_authority"):
        flows.fire(county_level, "reject", CITY_APPROVAL, {"reason": "x", **NUMBER})
    assert flows.fire(county_level, "approve", county_bureau, NUMBER).state == "approved"


def test_where_the_zone_misses_its_target_only_urban_wwtp_outfalls_pass(flows: Engine) -> None:
    factory = _apply(flows, zone_meets_target=False)
    flows.fire(factory, "accept", CITY_APPROVAL)
    with pytest.raises(GuardFailed, match="water_function_zone_allows"):
        flows.fire(factory, "approve", CITY_APPROVAL, NUMBER)
    view = flows.fire(
        factory, "reject", CITY_APPROVAL, {"reason": "水功能区未达标，严格控制", **NUMBER}
    )
    assert view.state == "rejected"
    assert view.data["published_at"]
    plant = _apply(flows, "371524-0101", sub_type="urban_wwtp", zone_meets_target=False)
    flows.fire(plant, "accept", CITY_APPROVAL)
    assert flows.fire(plant, "approve", CITY_APPROVAL, NUMBER).state == "approved"


def test_sub_types_without_approval_are_registered_instead(flows: Engine) -> None:
    farm = _apply(flows, sub_type="aquaculture_large", kind="change")
    with pytest.raises(GuardFailed, match="needs_approval"):
        flows.fire(farm, "accept", CITY_APPROVAL)
    seed_ledger(flows, outfall("371524-0100", sub_type="aquaculture_large"))
    view = flows.fire(farm, "register", DONGE_EEB, {"decision_number": "东环登〔2024〕3号"})
    assert view.state == "registered"
    assert (ledger_record(flows, "371524-0100") or {})["setup_basis"] == "registration"
    factory = _apply(flows, "371524-0102")
    with pytest.raises(GuardFailed, match="registration_suffices"):
        flows.fire(factory, "register", DONGE_EEB, {"decision_number": "东环登〔2024〕4号"})


def test_a_retroactive_permit_is_for_an_outfall_in_the_ledger(flows: Engine) -> None:
    case_id = _apply(flows, "371524-0103", kind="retroactive")
    with pytest.raises(Refused, match="371524-0103 is not in the ledger"):
        flows.fire(case_id, "accept", CITY_APPROVAL)
    seed_ledger(flows, outfall("371524-0103"))
    flows.fire(case_id, "accept", CITY_APPROVAL)
    flows.fire(case_id, "approve", CITY_APPROVAL, {"decision_number": "聊审批排〔2024〕7号"})
    record = ledger_record(flows, "371524-0103")
    assert record is not None
    assert record["setup_basis"] == "approval"
    assert record["setup_decision"] == "聊审批排〔2024〕7号"


def _end_of_day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai


def _moment(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_the_review_limit_counts_working_days_and_pauses_for_corrections(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _apply(flows)
    view = flows.fire(case_id, "accept", CITY_APPROVAL)  # Friday 2024-03-01
    assert due_times(view)["overdue"] == _end_of_day(2024, 3, 29)  # 20 working days later

    clock.set(_moment(2024, 3, 15))  # 10 working days used
    view = flows.fire(case_id, "request_correction", CITY_APPROVAL, {"missing_items": ["监测方案"]})
    assert view.state == "correcting"
    (limit,) = [t for t in view.timers if t.trigger == "overdue"]
    assert limit.status == "paused"
    assert limit.remaining_working_days == 10
    pass_time(flows, clock, _moment(2024, 4, 12))  # four weeks, across 清明 (Apr 4-6)
    assert flows.get_case(case_id).data["reminders_sent"] == 1  # catch_up: skip, one sweep
    view = flows.fire(case_id, "resubmit", APPLICANT)  # Friday 2024-04-12, 10 days remain
    assert due_times(view)["overdue"] == _end_of_day(2024, 4, 26)

    pass_time(flows, clock, _moment(2024, 4, 26))
    assert "overdue" not in flows.get_case(case_id).data
    pass_time(flows, clock, _moment(2024, 4, 27))
    view = flows.get_case(case_id)
    assert view.data["overdue"] is True
    assert view.state == "reviewing"  # late, still to be decided
