"""The 四(二) department matrix drives the work (issue 15 item 4): each sector department
(住建, 城管, 水利, 农业农村; lead units in 三(二)/三(三)) records, traces, co-signs the
de-listing of and gives its opinion in the checks of the outfalls of its own sector, and is
refused for the others; the EEB acts on all (三(四)3)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Forbidden, GuardFailed, Refused, TriggerNotAllowed
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from handlers.reference import sectors
from tests.attachkit import stand_ins
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger

WATER = Actor("聊城市水利局", "water_city", "liaocheng")
AGRI = Actor("聊城市农业农村局", "agri_city", "liaocheng")
URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
HOUSING = Actor("聊城市住房城乡建设局", "housing_city", "liaocheng")
CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
ADMIN = Actor("管理员", "admin")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
EVIDENCE = {"evidence": {"photos": ["oss://evidence/a.jpg"]}}
STANDARD = {"signboard": True, "sampling_point": True, "qr_code": True}


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    return engine


def _record(code: str, sub_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"东阿县{code}号排污口",
        "sub_type": sub_type,
        "county": "donge",
        "river": "tuhaihe",
        "longitude": 116.25,
        "latitude": 36.33,
        "entry_mode": "明渠",
        "found_at": "2024-02-20",
        **fields,
    }


# -- the matrix, from outfall_types.yaml ------------------------------------------------------


def test_the_matrix_follows_section_four_two(engine: Engine) -> None:
    reference = engine.reference
    assert sectors.supervisors(reference, "irrigation_district") == ["water_city"]
    assert sectors.cosign_departments(reference, "livestock_large") == ["agri_city"]
    assert sectors.cosign_departments(reference, "urban_wwtp") == [
        "urban_mgmt_city",
        "housing_city",
    ]
    assert sectors.cosign_departments(reference, "industrial_enterprise") == []
    assert sectors.sector_roles(reference) == {
        "housing_city",
        "urban_mgmt_city",
        "water_city",
        "agri_city",
    }
    assert sectors.sectors_of_role(reference, "agri_city") == [
        "livestock_large",
        "aquaculture_large",
        "livestock_small",
        "aquaculture_small",
    ]
    assert sectors.role_may_act(reference, "water_city", "irrigation_district")
    assert not sectors.role_may_act(reference, "water_city", "park_wwtp")
    assert sectors.role_may_act(reference, "county_eeb", "irrigation_district")
    assert not sectors.role_may_act(reference, "finance_city", "irrigation_district")


# -- ledger -----------------------------------------------------------------------------------


def test_a_sector_department_records_outfalls_of_its_own_sector_only(flows: Engine) -> None:
    ledger = Ledger(flows)
    view = ledger.add(_record("371524-0801", "irrigation_district"), WATER)
    assert view.record["sub_type"] == "irrigation_district"
    ledger.add(_record("371524-0601", "livestock_large"), AGRI)
    with pytest.raises(Forbidden, match="大中型灌区排口") as refused:
        ledger.add(_record("371524-0101", "industrial_enterprise"), WATER)
    assert refused.value.status == 403
    assert ledger.count() == 2
    # a change within the sector passes; moving the outfall out of it is refused
    ledger.update("371524-0801", {"address": "东阿县某灌区退水渠"}, WATER)
    with pytest.raises(Forbidden):
        ledger.update("371524-0801", {"sub_type": "park_wwtp"}, WATER)
    with pytest.raises(Forbidden):  # nor may it change another sector's outfall
        ledger.update("371524-0601", {"address": "x"}, WATER)
    # the EEB records every sector (unified supervision)
    ledger.add(_record("371524-0102", "industrial_enterprise"), CITY_EEB)
    ledger.update("371524-0801", {"address": "东阿县灌区"}, DONGE_EEB)


# -- responsibility (溯源) ---------------------------------------------------------------------


def _tracing(engine: Engine, code: str, sub_type: str) -> int:
    seed_ledger(engine, outfall(code, "donge", sub_type=sub_type, river="tuhaihe", basin="haihe"))
    data = {"outfall_code": code, "county": "donge", "sub_type": sub_type}
    return engine.create_case("responsibility", data, DONGE_EEB, subject=code).id


def test_the_sector_department_traces_the_outfalls_of_its_sector(flows: Engine) -> None:
    irrigation = _tracing(flows, "371524-0802", "irrigation_district")
    industrial = _tracing(flows, "371524-0103", "industrial_enterprise")
    with pytest.raises(GuardFailed, match="actor_supervises_sub_type"):
        flows.fire(industrial, "identify", WATER, {"responsible_party": "某化工公司"})
    with pytest.raises(GuardFailed, match="actor_supervises_sub_type"):
        flows.fire(irrigation, "identify", AGRI, {"responsible_party": "某灌区管理所"})
    view = flows.fire(irrigation, "identify", WATER, {"responsible_party": "东阿县某灌区管理所"})
    assert view.state == "identified"
    assert view.data["identified_by_department"] == "water_city"


# -- rectification: the sector co-signs before 销号 -------------------------------------------


def _pre_closed(engine: Engine, code: str, sub_type: str) -> int:
    seed_ledger(engine, outfall(code, "donge", sub_type=sub_type, river="tuhaihe", basin="haihe"))
    data = {"outfall_code": code, "county": "donge", "sub_type": sub_type, "river": "tuhaihe"}
    case_id = engine.create_case("rectification", data, DONGE_EEB, subject=code).id
    engine.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    done = {**EVIDENCE, "standardisation": STANDARD}
    payload = stand_ins(
        engine, DONGE_EEB, "rectification", done, trigger="complete", case_id=case_id
    )
    engine.fire(case_id, "complete", DONGE_EEB, payload)
    engine.fire(case_id, "pre_close", DONGE_GOV)
    return case_id


def test_de_listing_waits_for_the_sector_departments_co_signature(flows: Engine) -> None:
    case_id = _pre_closed(flows, "371524-0803", "irrigation_district")
    view = flows.get_case(case_id, CITY_EEB)
    assert view.state == "sector_cosigning"
    assert view.to_json()["sign_off"]["parties"] == ["water_city"]
    # the city cannot review, let alone de-list, before the sector has co-signed
    assert "approve_delisting" not in (view.available_triggers or [])
    with pytest.raises(TriggerNotAllowed):
        flows.fire(case_id, "approve_delisting", CITY_EEB)
    with pytest.raises(Forbidden, match="not a party to the sign-off"):
        flows.fire(case_id, "sector_cosign", AGRI, {"opinion": "同意销号"})
    view = flows.fire(case_id, "sector_cosign", WATER, {"opinion": "同意销号"})
    assert view.state == "city_review"  # any one of the parties: the engine moved on
    assert view.data["sector_cosign"]["department"] == "water_city"
    assert view.data["sector_cosign"]["by"] == WATER.name
    assert view.data["sector_cosign"]["opinion"] == "同意销号"
    signed = [e for e in flows.history(case_id) if e.kind == "signed"]
    assert [(e.actor, e.payload["party"]) for e in signed] == [(WATER.name, "water_city")]
    # a send-back voids the co-signature: the works change, the department signs again
    flows.fire(case_id, "send_back", CITY_EEB, {"reason": "标志牌不规范"})
    assert "sector_cosign" not in flows.get_case(case_id).data
    assert flows.fire(case_id, "pre_close", DONGE_GOV).state == "sector_cosigning"
    assert flows.get_case(case_id, ADMIN).to_json()["sign_off"]["signatures"] == []
    flows.fire(case_id, "sector_cosign", WATER, {"opinion": "同意销号"})
    assert flows.fire(case_id, "approve_delisting", CITY_EEB).state == "delisted"
    row, replayed = flows.replay(case_id)
    assert replayed.matches(row)


def test_an_urban_wwtp_is_co_signed_by_either_of_its_departments(flows: Engine) -> None:
    """Any 1 of 2: 城管 (city and county-seat plants) or 住建 (designated towns' plants)."""
    for code, signer in (("371524-0501", HOUSING), ("371524-0502", URBAN)):
        case_id = _pre_closed(flows, code, "urban_wwtp")
        shown = flows.get_case(case_id, ADMIN).to_json()["sign_off"]
        assert shown["parties"] == ["urban_mgmt_city", "housing_city"]
        assert shown["need"] == 1
        view = flows.fire(case_id, "sector_cosign", signer, {"opinion": "同意销号"})
        assert view.data["sector_cosign"]["department"] == signer.role
        assert flows.fire(case_id, "approve_delisting", CITY_EEB).state == "delisted"


def test_a_sector_department_may_refuse_and_send_the_works_back(flows: Engine) -> None:
    case_id = _pre_closed(flows, "371524-0804", "irrigation_district")
    with pytest.raises(Forbidden):
        flows.fire(case_id, "sector_reject", AGRI, {"reason": "不属本部门"})
    view = flows.fire(case_id, "sector_reject", WATER, {"reason": "灌区退水口未封堵"})
    assert view.state == "county_acceptance"
    assert view.data["send_back_reason"] == "灌区退水口未封堵"


def test_an_outfall_the_eeb_alone_supervises_needs_no_co_signature(flows: Engine) -> None:
    case_id = _pre_closed(flows, "371524-0104", "industrial_enterprise")
    view = flows.get_case(case_id, CITY_EEB)
    assert view.state == "city_review"  # no party to wait for: straight through the sign-off
    assert view.data["cosign_roles"] == []
    with pytest.raises(TriggerNotAllowed):
        flows.fire(case_id, "sector_cosign", WATER, {"opinion": "同意"})
    assert flows.fire(case_id, "approve_delisting", CITY_EEB).state == "delisted"


# -- effectiveness checks: the sector's opinion ------------------------------------------------


def test_the_sector_department_records_its_opinion_in_the_checks(flows: Engine) -> None:
    seed_ledger(
        flows,
        outfall("371524-0804", "donge", sub_type="irrigation_district"),
        outfall("371524-0105", "donge", sub_type="industrial_enterprise"),
    )
    case = flows.create_case(
        "effectiveness_check", {"county": "donge", "year": 2024}, DONGE_EEB, subject="donge:2024"
    )
    flows.fire(case.id, "submit_plan", DONGE_EEB, {"plan": {"summary": "每季度自查一轮"}})
    assert flows.get_case(case.id, WATER).state == "self_checking"  # it reads the case
    opinion = {"outfall_code": "371524-0804", "opinion": "退水渠已规范", "passed": True}
    view = flows.fire(case.id, "record_sector_opinion", WATER, opinion)
    assert view.state == "self_checking"
    (recorded,) = view.data["sector_opinions"]
    assert recorded["department"] == "water_city"
    assert recorded["outfall_code"] == "371524-0804"
    with pytest.raises(Refused, match="371524-0105"):
        flows.fire(
            case.id,
            "record_sector_opinion",
            WATER,
            {"outfall_code": "371524-0105", "opinion": "x"},
        )
