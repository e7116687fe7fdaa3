"""Enforcement and exceedance tracing (超标溯源联动): an exceedance on an outfall links its ledger
record and traces back to the discharging units; penalty, order, verification, closed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import FieldError, InputRefused, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
COUNTY = Actor("东阿县生态环境分局", "county_eeb", "donge")
UNIT = Actor("东阿县某化工有限公司", "discharger", "donge")
CODE = "371524-0003"
EXCEEDANCE = {"parameter": "COD", "value": 85.0, "limit": 50.0, "unit": "mg/L"}


@pytest.fixture
def law(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall(CODE, "donge", sub_type="park_wwtp", responsible_party="东阿县化工园区污水处理厂"),
    )
    return engine


def _exceedance(engine: Engine, **extra: Any) -> Any:
    data = {
        "source": "exceedance",
        "county": "donge",
        "violation_type": "over_limit",
        "outfall_code": CODE,
        "exceedance": {**EXCEEDANCE, "sampled_at": "2024-02-28T10:00:00+08:00"},
        **extra,
    }
    return engine.create_case("enforcement", data, COUNTY, subject=data.get("outfall_code"))


def test_an_exceedance_links_the_outfalls_ledger_record(law: Engine) -> None:
    view = _exceedance(law)
    assert view.state == "opened"
    assert view.data["outfall"]["name"] == f"排污口{CODE}"
    assert view.data["outfall"]["sub_type"] == "park_wwtp"
    assert view.data["suspected_units"] == ["东阿县化工园区污水处理厂"]
    # the outfall's ID card lists the case: it is a case about the outfall
    assert [c.id for c in law.list_cases(subject=CODE)] == [view.id]


def test_an_exceedance_needs_an_outfall_in_the_ledger_and_a_value_over_the_limit(
    law: Engine,
) -> None:
    with pytest.raises(InvalidInput, match=r"outfall_code"):
        law.create_case(
            "enforcement",
            {"source": "exceedance", "county": "donge", "violation_type": "over_limit"},
            COUNTY,
        )
    with pytest.raises(InputRefused) as refused:
        _exceedance(law, outfall_code="371524-9999")
    assert refused.value.what == "data"
    assert [e.json_path for e in refused.value.errors] == ["$.outfall_code"]
    assert "371524-9999 is not in the ledger" in str(refused.value)
    with pytest.raises(InputRefused) as refused:
        _exceedance(law, exceedance={**EXCEEDANCE, "value": 40.0})
    message = "COD 40.0 is not above its limit 50.0: no exceedance"
    assert refused.value.errors == [FieldError("$.exceedance.value", message)]
    assert law.list_cases(workflow="enforcement") == []


def test_tracing_names_the_units_then_penalty_order_verification_and_closing(
    law: Engine, clock: FakeClock
) -> None:
    case_id = _exceedance(law).id
    law.fire(case_id, "start_tracing", COUNTY)
    units = [
        {"name": "东阿县化工园区污水处理厂"},
        {"name": "东阿县某化工有限公司", "credit_code": "91371524MA3C00000X", "main": True},
    ]
    view = law.fire(case_id, "record_units", COUNTY, {"units": units})
    assert view.state == "traced"
    assert view.data["main_unit"] == "东阿县某化工有限公司"
    assert view.data["confirmed_suspects"] == ["东阿县化工园区污水处理厂"]

    law.fire(
        case_id,
        "decide_penalty",
        COUNTY,
        {"penalty_decision": "东环罚〔2024〕7号", "fine_yuan": 200000},
    )
    view = law.fire(case_id, "order_rectification", COUNTY, {"order_deadline": "2024-04-30"})
    assert view.state == "rectifying"
    pass_time(law, clock, datetime(2024, 5, 1, 1, tzinfo=UTC))
    assert law.get_case(case_id).data["order_overdue"] is True

    law.fire(case_id, "report_rectified", UNIT, {"rectification_report": "已完成提标改造"})
    assert law.fire(case_id, "reject", COUNTY).state == "rectifying"
    law.fire(case_id, "report_rectified", UNIT, {"rectification_report": "在线监测连续达标"})
    view = law.fire(case_id, "verify", CITY)
    assert view.state == "closed"
    assert view.final
    assert view.data["outcome"] == "closed"


def test_two_main_units_are_refused(law: Engine) -> None:
    case_id = _exceedance(law).id
    law.fire(case_id, "start_tracing", COUNTY)
    units = [{"name": "甲", "main": True}, {"name": "乙", "main": True}]
    with pytest.raises(InputRefused, match=r"\$\.units: name at most one main responsible unit"):
        law.fire(case_id, "record_units", COUNTY, {"units": units})
    assert law.get_case(case_id).state == "tracing"


def test_a_violation_without_an_outfall_can_be_dismissed(law: Engine) -> None:
    view = law.create_case(
        "enforcement",
        {
            "source": "patrol",
            "county": "donge",
            "violation_type": "hidden_pipe",
            "description": "河长巡河发现疑似暗管",
        },
        COUNTY,
    )
    assert "outfall" not in view.data
    law.fire(view.id, "start_tracing", COUNTY)
    view = law.fire(view.id, "dismiss", COUNTY, {"dismiss_reason": "经开挖核实为废弃管道"})
    assert view.state == "dismissed"
    assert view.data["outcome"] == "dismissed"


# -- issue 15 item 4: the violation decides the enforcing authority (violations.yaml) --------

WATER = Actor("聊城市水利局", "water_city", "liaocheng")
URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")


def _traced(engine: Engine, violation_type: str, actor: Actor = COUNTY) -> int:
    data = {"source": "patrol", "county": "donge", "violation_type": violation_type}
    case_id = engine.create_case("enforcement", data, actor).id
    engine.fire(case_id, "start_tracing", actor)
    engine.fire(case_id, "record_units", actor, {"units": [{"name": "东阿县某公司"}]})
    return case_id


@pytest.mark.parametrize("violation", ["over_limit", "secret_discharge", "unapproved_setup"])
def test_only_the_eeb_decides_a_water_pollution_law_penalty(law: Engine, violation: str) -> None:
    case_id = _traced(law, violation, WATER)  # 水利 cooperates in tracing (三(四)3)
    for actor in (WATER, URBAN):
        with pytest.raises(Refused, match="生态环境主管部门") as refused:
            law.fire(case_id, "decide_penalty", actor, {"penalty_decision": "聊水罚〔2024〕1号"})
        assert "水污染防治法" in str(refused.value)
        with pytest.raises(Refused):
            law.fire(case_id, "order_rectification", actor, {"order_deadline": "2024-04-30"})
    view = law.fire(case_id, "decide_penalty", COUNTY, {"penalty_decision": "东环罚〔2024〕8号"})
    assert view.state == "penalty_decided"
    assert view.data["enforcing_authority"] == "eeb"
    assert view.data["legal_basis"].startswith("《中华人民共和国水污染防治法》")


def test_the_drainage_authority_decides_an_urban_drainage_regulation_penalty(law: Engine) -> None:
    case_id = _traced(law, "unpermitted_drainage", URBAN)
    with pytest.raises(Refused, match="城镇排水主管部门"):
        law.fire(case_id, "decide_penalty", COUNTY, {"penalty_decision": "东环罚〔2024〕9号"})
    view = law.fire(case_id, "decide_penalty", URBAN, {"penalty_decision": "聊城管罚〔2024〕1号"})
    assert view.data["legal_basis"].startswith("《城镇排水与污水处理条例》")


def test_the_violation_types_of_the_workflow_are_those_of_the_table(law: Engine) -> None:
    table = [v["code"] for v in law.reference["violations"]["violations"]]
    _, definition = law.definition("enforcement")
    enum = definition.data_schema["properties"]["violation_type"]["enum"]
    assert enum == table
    _, reports = law.definition("public_report")
    (refer,) = [t for t in reports.transitions if t.trigger == "refer_violation"]
    assert refer.payload_schema["properties"]["violation_type"]["enum"] == table
