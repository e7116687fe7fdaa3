"""Flows write the national rules' fields they know (issue 19): rectification's 规范化建设 and
the permit number and water-function zone of an approved or registered application."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from tests.attachkit import stand_ins
from tests.conftest import ROOT
from tests.handlers.flows.support import ledger_record, outfall, seed_ledger, setup_application

DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
APPLICANT = Actor("东阿县某化工公司", "applicant", "donge")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
EVIDENCE = {"evidence": {"photos": ["oss://evidence/a.jpg"]}}
STANDARD = {"signboard": True, "sampling_point": True, "qr_code": True}
PERMIT = "91371524MA3C00000X001P"


@pytest.fixture
def flows(engine: Engine) -> Engine:
    names = ("rectification", "escalation", "setup_approval")
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in names])
    return engine


def _standardisation(engine: Engine, code: str) -> object:
    return (ledger_record(engine, code) or {}).get("standardisation_status")


def test_regularising_moves_standardisation_on_and_complete_marks_it_done(flows: Engine) -> None:
    code = "371524-0070"
    seed_ledger(flows, outfall(code, standardisation_status="not_started"))
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    case_id = flows.create_case("rectification", {**body, "river": "huanghe"}, DONGE_EEB).id
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "regularise"})
    assert _standardisation(flows, code) == "in_progress"
    payload = {**EVIDENCE, "standardisation": STANDARD}
    filled = stand_ins(
        flows, DONGE_EEB, "rectification", payload, trigger="complete", case_id=case_id
    )
    flows.fire(case_id, "complete", DONGE_EEB, filled)
    assert _standardisation(flows, code) == "done"


def test_a_ban_does_not_touch_standardisation(flows: Engine) -> None:
    code = "371524-0071"
    seed_ledger(flows, outfall(code, standardisation_status="not_started"))
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    case_id = flows.create_case("rectification", {**body, "river": "huanghe"}, DONGE_EEB).id
    flows.fire(case_id, "choose_mode", DONGE_GOV, {"mode": "ban"})
    assert _standardisation(flows, code) == "not_started"


def test_an_approval_writes_the_permit_and_zone_of_the_application(flows: Engine) -> None:
    code = "371524-0200"
    extra = {"permit_number": PERMIT, "water_function_zone": "徒骇河东阿工业用水区"}
    case_id = setup_application(flows, code, APPLICANT, zone_target="IV", **extra)
    flows.fire(case_id, "accept", CITY_APPROVAL)
    flows.fire(case_id, "approve", CITY_APPROVAL, {"decision_number": "聊审批排〔2024〕12号"})
    record = ledger_record(flows, code) or {}
    assert (record["permit_number"], record["water_function_zone"]) == (
        PERMIT,
        "徒骇河东阿工业用水区",
    )
    assert record["zone_target"] == "IV"


def test_without_them_the_record_has_none_and_a_bad_permit_is_refused(flows: Engine) -> None:
    case_id = setup_application(flows, "371524-0201", APPLICANT)
    flows.fire(case_id, "accept", CITY_APPROVAL)
    flows.fire(case_id, "approve", CITY_APPROVAL, {"decision_number": "聊审批排〔2024〕13号"})
    assert "permit_number" not in (ledger_record(flows, "371524-0201") or {})
    with pytest.raises(InvalidInput) as caught:
        setup_application(flows, "371524-0202", APPLICANT, permit_number="PERMIT-1")
    assert "$.permit_number" in str(caught.value.errors)
