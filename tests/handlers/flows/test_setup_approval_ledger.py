"""Issue 15 item 5: an approved or registered outfall enters the ledger (new) or updates its
entry (change, enlarge, retroactive); the decision carries the 文号 the official entered, never
one the system made up; publication records what is published."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InputRefused, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, seed_ledger, setup_application

APPLICANT = Actor("东阿县某化工公司", "applicant", "donge")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
CODE = "371524-0200"


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / "setup_approval.yaml"])
    return engine


def _apply(engine: Engine, code: str = CODE, **data: Any) -> int:
    return setup_application(engine, code, APPLICANT, **data)


def _approve(engine: Engine, case_id: int, number: str = "聊审批排〔2024〕12号") -> Any:
    engine.fire(case_id, "accept", CITY_APPROVAL)
    return engine.fire(case_id, "approve", CITY_APPROVAL, {"decision_number": number})


def test_an_approved_new_outfall_enters_the_ledger(flows: Engine) -> None:
    case_id = _apply(flows)
    _approve(flows, case_id)
    ledger = Ledger(flows)
    record = ledger.get(CODE).record
    assert {k: record[k] for k in ("code", "river", "basin", "sub_type", "county")} == {
        "code": CODE,
        "river": "tuhaihe",
        "basin": "haihe",
        "sub_type": "industrial_enterprise",
        "county": "donge",
    }
    assert record["name"] == "东阿县某化工公司废水排污口"
    assert record["responsible_party"] == "东阿县某化工公司"
    assert record["rectification_status"] == "not_needed"  # reports: 无需整治, not 待整治
    assert record["setup_basis"] == "approval"
    assert record["setup_decision"] == "聊审批排〔2024〕12号"
    assert record["setup"] == {
        "case_id": case_id,
        "kind": "new",
        "decision_number": "聊审批排〔2024〕12号",
        "decided_on": "2024-03-01",
        "authority": "city",
    }
    (created,) = ledger.history(CODE)
    assert created.patch["set"]["setup_decision"] == "聊审批排〔2024〕12号"


def test_a_registered_new_outfall_enters_the_ledger(flows: Engine) -> None:
    case_id = _apply(flows, sub_type="aquaculture_large", name="东阿县某水产养殖场排口")
    view = flows.fire(case_id, "register", DONGE_EEB, {"decision_number": "东环登〔2024〕3号"})
    assert (view.data["publication"]["result"], view.data["publication"]["authority"]) == (
        "登记",
        "东阿县入河排污口登记部门",
    )
    record = Ledger(flows).get(CODE).record
    assert record["setup_basis"] == "registration"
    assert record["setup_decision"] == "东环登〔2024〕3号"
    assert record["setup"]["case_id"] == case_id


@pytest.mark.parametrize("kind", ["change", "enlarge", "retroactive"])
def test_change_and_enlarge_are_for_an_outfall_in_the_ledger(flows: Engine, kind: str) -> None:
    case_id = _apply(flows, kind=kind)
    with pytest.raises(Refused, match=f"{CODE} is not in the ledger"):
        flows.fire(case_id, "accept", CITY_APPROVAL)
    seed_ledger(flows, outfall(CODE, river="tuhaihe", basin="haihe", setup_basis="legacy"))
    _approve(flows, case_id, "聊环审〔2024〕12号")
    ledger = Ledger(flows)
    record = ledger.get(CODE).record
    assert record["setup_basis"] == "approval"
    assert record["setup_decision"] == "聊环审〔2024〕12号"
    assert record["setup"]["kind"] == kind
    assert record["name"] == f"排污口{CODE}"  # the ledger's entry, updated, not replaced
    (change,) = ledger.history(CODE)
    assert change.patch["set"]["setup_decision"] == "聊环审〔2024〕12号"


def test_a_change_moves_the_outfall_to_its_new_river(flows: Engine) -> None:
    seed_ledger(flows, outfall(CODE))  # on the Yellow River
    case_id = _apply(flows, kind="change", river="tuhaihe", eia_level="city")
    _approve(flows, case_id)
    record = Ledger(flows).get(CODE).record
    assert (record["river"], record["basin"]) == ("tuhaihe", "haihe")


def test_an_outfall_of_another_county_is_refused(flows: Engine) -> None:
    seed_ledger(flows, outfall(CODE, county="chiping"))
    case_id = _apply(flows, kind="change")
    with pytest.raises(InputRefused, match="another county"):
        flows.fire(case_id, "accept", CITY_APPROVAL)


def test_a_new_outfall_must_be_new_and_named(flows: Engine) -> None:
    seed_ledger(flows, outfall(CODE))
    case_id = _apply(flows)
    with pytest.raises(Refused, match=f"{CODE} is in the ledger already"):
        flows.fire(case_id, "accept", CITY_APPROVAL)
    body = _body("371524-0201")  # neither the outfall's name nor the applying unit
    other = flows.create_case("setup_approval", body, APPLICANT, subject="371524-0201").id
    with pytest.raises(InputRefused) as refused:
        flows.fire(other, "accept", CITY_APPROVAL)
    assert [e.json_path for e in refused.value.errors] == ["$.name", "$.discharging_unit"]


def _body(code: str) -> dict[str, Any]:
    return {
        "outfall_code": code,
        "county": "donge",
        "sub_type": "industrial_enterprise",
        "kind": "new",
        "eia_level": "city",
        "river": "tuhaihe",
    }


@pytest.mark.parametrize(
    "payload",
    [{}, {"decision_number": "setup_approval-1"}, {"decision_number": "聊审批排2024-12"}],
    ids=["none", "synthetic", "not-a-wenhao"],
)
def test_the_decision_needs_the_number_the_official_enters(
    flows: Engine, payload: dict[str, Any]
) -> None:
    case_id = _apply(flows)
    flows.fire(case_id, "accept", CITY_APPROVAL)
    with pytest.raises(InvalidInput) as refused:
        flows.fire(case_id, "approve", CITY_APPROVAL, payload)
    assert "decision_number" in str(refused.value)
    assert "decision_number" not in flows.get_case(case_id).data


def test_the_applicant_cannot_write_the_decision(flows: Engine) -> None:
    with pytest.raises(InvalidInput, match="decision_number"):
        _apply(flows, decision_number="聊审批排〔2024〕1号")


def test_publication_records_what_is_published(flows: Engine) -> None:
    view = _approve(flows, _apply(flows))
    assert view.data["publication"] == {
        "result": "批准",
        "decision_number": "聊审批排〔2024〕12号",
        "decided_on": "2024-03-01",
        "outfall_code": CODE,
        "outfall_name": "东阿县某化工公司废水排污口",
        "discharging_unit": "东阿县某化工公司",
        "river": "徒骇河",
        "county": "东阿县",
        "authority": "市行政审批局",
        "published_at": "2024-03-01T01:00:00+00:00",
    }
    rejected = _apply(flows, "371524-0202")
    flows.fire(rejected, "accept", CITY_APPROVAL)
    reason = {"reason": "不符合水功能区要求", "decision_number": "聊审批排〔2024〕13号"}
    view = flows.fire(rejected, "reject", CITY_APPROVAL, reason)
    assert view.data["publication"]["result"] == "不予许可"
    assert view.data["publication"]["decision_number"] == "聊审批排〔2024〕13号"
    assert Ledger(flows).count() == 1  # a refused outfall does not enter the ledger
