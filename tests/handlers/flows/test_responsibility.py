"""Responsibility (溯源/确定责任主体): "谁污染、谁治理", county fallback, shared outfalls,
cross-jurisdiction disputes decided by the common superior, ledger updates."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import (
    CaseNotFound,
    FieldError,
    Forbidden,
    GuardFailed,
    InputRefused,
    InvalidInput,
)
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import ledger_record, outfall, seed_ledger

DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
JINGKAI_GOV = Actor("经开区管委会", "county_gov", "jingkai")
YANGGU_GOV = Actor("阳谷县人民政府", "county_gov", "yanggu")
CITY_GOV = Actor("聊城市人民政府", "city_gov", "liaocheng")
PROVINCE_GOV = Actor("山东省人民政府", "province_gov", "shandong")


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load(
        [
            ROOT / "workflows" / f"{name}.yaml"
            for name in ["responsibility", "rectification", "escalation"]
        ]
    )
    return engine


def _open(engine: Engine, code: str, county: str = "donge", **record: Any) -> int:
    seed_ledger(engine, outfall(code, county, **record))
    data = {"outfall_code": code, "county": county, "sub_type": "industrial_enterprise"}
    data.update({k: v for k, v in record.items() if k in ("river", "basin")})
    opener = Actor(f"{county}生态环境分局", "county_eeb", county)
    return engine.create_case("responsibility", data, opener, subject=code).id


def test_tracing_names_the_discharging_unit_and_updates_the_ledger(flows: Engine) -> None:
    case_id = _open(flows, "371524-0001")
    view = flows.fire(case_id, "identify", DONGE_EEB, {"responsible_party": "东阿县某化工公司"})
    assert view.state == "identified"
    assert view.data["responsible_kind"] == "discharger"
    assert view.data["responsible_fallback"] is False
    record = ledger_record(flows, "371524-0001")
    assert record is not None
    assert record["responsible_party"] == "东阿县某化工公司"
    assert record["responsible_fallback"] is False
    assert flows.list_cases(workflow="rectification") == []  # no rectification asked for


def test_untraceable_outfall_falls_to_the_county_government(flows: Engine) -> None:
    case_id = _open(flows, "371524-0002")
    with pytest.raises(Forbidden):  # the government takes it, not its EEB branch
        flows.fire(case_id, "untraceable", DONGE_EEB, {})
    view = flows.fire(case_id, "untraceable", DONGE_GOV, {"note": "溯源无果"})
    assert view.data["responsible_party"] == "东阿县人民政府"
    assert view.data["responsible_kind"] == "county_government"
    assert view.data["responsible_fallback"] is True
    record = ledger_record(flows, "371524-0002")
    assert record is not None
    assert record["responsible_party"] == "东阿县人民政府"
    assert record["responsible_fallback"] is True


def test_a_zone_committee_or_a_named_department_takes_the_fallback(flows: Engine) -> None:
    zone_case = _open(flows, "371571-0001", county="jingkai")
    view = flows.fire(zone_case, "untraceable", JINGKAI_GOV, {})
    assert view.data["responsible_party"] == "聊城经济技术开发区管理委员会"
    named = _open(flows, "371524-0003")
    view = flows.fire(named, "untraceable", DONGE_GOV, {"designated_department": "东阿县水利局"})
    assert view.data["responsible_party"] == "东阿县水利局"
    assert view.data["responsible_kind"] == "designated_department"
    assert view.data["responsible_fallback"] is True


def test_a_shared_outfall_names_one_main_party_among_its_units(flows: Engine) -> None:
    case_id = _open(flows, "371524-0004")
    units = ["甲化工公司", "乙纺织公司", "丙食品公司"]
    with pytest.raises(GuardFailed, match="main_party_among_units"):
        flows.fire(
            case_id,
            "identify_shared",
            DONGE_EEB,
            {"discharging_units": units, "responsible_party": "丁公司"},
        )
    with pytest.raises(InvalidInput, match=r"\$\.discharging_units"):
        flows.fire(
            case_id,
            "identify_shared",
            DONGE_EEB,
            {"discharging_units": ["甲化工公司"], "responsible_party": "甲化工公司"},
        )
    view = flows.fire(
        case_id,
        "identify_shared",
        DONGE_EEB,
        {"discharging_units": units, "responsible_party": "乙纺织公司"},
    )
    assert view.data["responsible_kind"] == "shared_main"
    assert view.data["discharging_units"] == units
    record = ledger_record(flows, "371524-0004")
    assert record is not None
    assert record["responsible_party"] == "乙纺织公司"


def test_a_dispute_with_a_unit_that_has_no_common_superior_is_refused_at_the_field(
    flows: Engine,
) -> None:
    case_id = _open(flows, "371524-0005")
    with pytest.raises(InputRefused) as refused:
        flows.fire(case_id, "refer_dispute", DONGE_GOV, {"counterpart": "shandong"})
    assert refused.value.what == "payload"
    message = "donge and shandong have no common superior government in config/reference"
    assert refused.value.errors == [FieldError("$.counterpart", message)]
    assert flows.get_case(case_id).state == "tracing"


def test_a_dispute_between_two_counties_goes_to_the_city_government(flows: Engine) -> None:
    case_id = _open(flows, "371524-0005")
    with pytest.raises(GuardFailed, match="counterpart_is_other_jurisdiction"):
        flows.fire(case_id, "refer_dispute", DONGE_GOV, {"counterpart": "donge"})
    view = flows.fire(case_id, "refer_dispute", DONGE_GOV, {"counterpart": "yanggu"})
    assert view.state == "disputed"
    assert view.data["referred_to"] == "liaocheng"
    with pytest.raises(Forbidden):  # neither county decides
        flows.fire(case_id, "decide", DONGE_GOV, {"responsible_party": "东阿县人民政府"})
    with pytest.raises(GuardFailed, match="actor_is_common_superior"):  # not the province
        flows.fire(case_id, "decide", PROVINCE_GOV, {"responsible_party": "阳谷县人民政府"})
    view = flows.fire(
        case_id,
        "decide",
        CITY_GOV,
        {"responsible_party": "阳谷县人民政府", "responsible_fallback": True},
    )
    assert view.state == "identified"
    assert view.data["decided_by"] == "liaocheng"
    record = ledger_record(flows, "371524-0005")
    assert record is not None
    assert record["responsible_party"] == "阳谷县人民政府"
    assert record["responsible_fallback"] is True


def test_a_dispute_with_another_city_goes_to_the_province(flows: Engine) -> None:
    case_id = _open(flows, "371524-0006")
    view = flows.fire(case_id, "refer_dispute", DONGE_GOV, {"counterpart": "德州市齐河县"})
    assert view.data["referred_to"] == "shandong"
    with pytest.raises(GuardFailed, match="actor_is_common_superior"):
        flows.fire(case_id, "decide", CITY_GOV, {"responsible_party": "东阿县人民政府"})
    view = flows.fire(case_id, "decide", PROVINCE_GOV, {"responsible_party": "齐河县某公司"})
    assert view.data["responsible_kind"] == "superior_decision"
    assert view.data["responsible_fallback"] is False


def test_needing_rectification_opens_a_rectification_case(flows: Engine) -> None:
    case_id = _open(flows, "371524-0007", river="huanghe", basin="yellow_river")
    view = flows.fire(
        case_id,
        "identify",
        DONGE_EEB,
        {"responsible_party": "东阿县某化工公司", "needs_rectification": True},
    )
    (rect,) = flows.list_cases(workflow="rectification", subject="371524-0007")
    assert view.data["rectification_case_id"] == rect.id
    assert rect.state == "planning"
    assert rect.data["county"] == "donge"
    assert rect.data["deadline"] == "2024-06-30"  # Yellow River basin


def test_another_county_cannot_see_the_case(flows: Engine) -> None:
    case_id = _open(flows, "371524-0008")
    with pytest.raises(CaseNotFound):
        flows.fire(case_id, "untraceable", YANGGU_GOV, {})


# -- item 10: disputes across the provincial border, and deciders the superior designates ----

STATE_COUNCIL = Actor("国务院", "state_council", None)
HAIHE_BUREAU = Actor("海河流域北海海域生态环境监督管理局", "basin_bureau", None)
CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")


@pytest.mark.parametrize(
    "counterpart", ["hebei_linxi", "hebei", "河北省邢台市临西县某村", "henan_fanxian"]
)
def test_a_dispute_with_a_unit_of_a_neighbouring_province_goes_to_the_state_council(
    flows: Engine, counterpart: str
) -> None:
    case_id = _open(flows, "371581-0001", county="linqing", river="weiyunhe")
    view = flows.fire(case_id, "refer_dispute", _gov("linqing"), {"counterpart": counterpart})
    assert view.data["referred_to"] == "state_council"  # not 山东省
    assert view.data["referred_to_name"] == "国务院"
    assert view.data["counterpart_province"] in ("hebei", "henan")
    with pytest.raises(GuardFailed, match="actor_is_common_superior"):
        flows.fire(case_id, "decide", PROVINCE_GOV, {"responsible_party": "临清市人民政府"})
    view = flows.fire(case_id, "decide", STATE_COUNCIL, {"responsible_party": "临西县某公司"})
    assert view.data["decided_by"] == "state_council"


def test_the_state_council_designates_the_basin_bureau_to_decide(flows: Engine) -> None:
    case_id = _open(flows, "371581-0002", county="linqing", river="weiyunhe")
    flows.fire(case_id, "refer_dispute", _gov("linqing"), {"counterpart": "hebei_linxi"})
    with pytest.raises(GuardFailed, match="actor_is_common_superior"):  # not designated yet
        flows.fire(case_id, "decide", HAIHE_BUREAU, {"responsible_party": "临西县某公司"})
    with pytest.raises(GuardFailed, match="actor_is_superior_government"):
        flows.fire(case_id, "designate_decider", PROVINCE_GOV, {"department": "eeb_province"})
    with pytest.raises(InputRefused) as refused:  # a city bureau is not the state's to name
        flows.fire(case_id, "designate_decider", STATE_COUNCIL, {"department": "eeb_city"})
    assert refused.value.errors[0].json_path == "$.department"
    view = flows.fire(
        case_id, "designate_decider", STATE_COUNCIL, {"department": "basin_bureau_haihe"}
    )
    assert view.state == "disputed"
    assert view.data["designated_decider"] == "basin_bureau_haihe"
    view = flows.fire(case_id, "decide", HAIHE_BUREAU, {"responsible_party": "临西县某公司"})
    assert view.state == "identified"
    assert view.data["decided_by"] == "state_council"
    assert view.data["decided_by_department"] == "basin_bureau_haihe"


def test_the_city_government_may_designate_the_city_eeb_to_decide(flows: Engine) -> None:
    case_id = _open(flows, "371524-0009")
    flows.fire(case_id, "refer_dispute", DONGE_GOV, {"counterpart": "yanggu"})
    with pytest.raises(GuardFailed, match="actor_is_common_superior"):
        flows.fire(case_id, "decide", CITY_EEB, {"responsible_party": "阳谷县人民政府"})
    flows.fire(case_id, "designate_decider", CITY_GOV, {"department": "eeb_city"})
    view = flows.fire(case_id, "decide", CITY_EEB, {"responsible_party": "阳谷县人民政府"})
    assert view.data["decided_by_department"] == "eeb_city"


def _gov(county: str) -> Actor:
    return Actor(f"{county}人民政府", "county_gov", county)
