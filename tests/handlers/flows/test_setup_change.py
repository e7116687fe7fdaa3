"""Change (变更) and cancellation (注销) of an outfall already set up (MEE Order No. 35, plan
三(四)2): who applies and who decides, the refusals at their JSON paths, the ledger record and
its history, publication, and the 20-working-day limit that marks the case overdue and opens a
督办 case (over the fake clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, GuardFailed, InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, ledger_record, outfall, pass_time, seed_ledger

UNIT = Actor("东阿县某化工公司", "applicant", "donge")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
COUNTY_APPROVAL = Actor("东阿县行政审批服务局", "approval_bureau", "donge")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
APPROVED = "371524-01-001"
REGISTERED = "371524-07-002"
PERMIT = "91371524MA3C00000X001P"
SETUP = {"case_id": 1, "kind": "new", "decision_number": "聊审批排〔2023〕5号", "authority": "city"}


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / f"{n}.yaml" for n in ("setup_change", "escalation")])
    seed_ledger(
        engine,
        outfall(
            APPROVED,
            river="tuhaihe",
            basin="haihe",
            setup_basis="approval",
            setup=SETUP,
            responsible_party=UNIT.name,
        ),
        outfall(
            REGISTERED,
            sub_type="aquaculture_large",
            setup_basis="registration",
            river="tuhaihe",
            basin="haihe",
            responsible_party=UNIT.name,
        ),
        outfall("371524-01-003", setup_basis="legacy", responsible_party=UNIT.name),
        outfall(
            "371524-01-004",
            setup_basis="approval",
            status="abolished",
            responsible_party=UNIT.name,
        ),
    )
    return engine


def _apply(engine: Engine, code: str, actor: Actor = UNIT, **data: Any) -> int:
    body = {"outfall_code": code, "county": "donge", **data}
    return engine.create_case("setup_change", body, actor, subject=code).id


CHANGES = {"name": "东阿县某化工公司污水排污口", "permit_number": PERMIT}


def test_an_approved_change_updates_the_record_by_the_official(flows: Engine) -> None:
    case_id = _apply(flows, APPROVED, kind="change", changes=CHANGES)
    view = flows.get_case(case_id)
    assert (view.data["authority"], view.data["authority_department"]) == ("city", "approval_city")
    flows.fire(case_id, "accept", CITY_APPROVAL)
    done = flows.fire(case_id, "approve", CITY_APPROVAL, {"decision_number": "聊审批排〔2024〕9号"})
    assert done.state == "approved"
    record = ledger_record(flows, APPROVED) or {}
    assert (record["name"], record["permit_number"]) == (CHANGES["name"], PERMIT)
    assert record["setup_change"]["case_id"] == case_id
    assert record["status"] == "active"
    (row,) = Ledger(flows).history(APPROVED)
    assert row.actor == CITY_APPROVAL.name
    assert row.patch["set"]["permit_number"] == PERMIT
    publication = done.data["publication"]
    assert publication["result"] == "准予变更"
    assert publication["changed"] == ["name", "permit_number"]
    assert publication["authority"] == "市行政审批局"


def test_a_registered_outfall_is_cancelled_by_its_county(flows: Engine) -> None:
    case_id = _apply(flows, REGISTERED, kind="cancel", cancel_reason="removed")
    assert flows.get_case(case_id).data["authority"] == "registration"
    with pytest.raises(GuardFailed):
        flows.fire(case_id, "accept", Actor("省生态环境厅", "eeb_province", "shandong"))
    flows.fire(case_id, "accept", DONGE_EEB)
    done = flows.fire(case_id, "approve", DONGE_EEB, {"decision_number": "东环登〔2024〕4号"})
    record = ledger_record(flows, REGISTERED) or {}
    assert (record["status"], record["cancelled_on"], record["cancellation_decision"]) == (
        "cancelled",
        "2024-03-01",
        "东环登〔2024〕4号",
    )
    assert done.data["publication"]["result"] == "注销"
    assert done.data["publication"]["authority"] == "东阿县入河排污口登记部门"
    assert "discharging_unit" not in done.data["publication"]  # not an approved unit


def test_ex_officio_cancellation_is_the_authoritys(flows: Engine) -> None:
    with pytest.raises(Refused, match="依职权注销"):
        _apply(flows, APPROVED, kind="cancel", cancel_reason="banned")
    case_id = _apply(flows, APPROVED, CITY_APPROVAL, kind="cancel", cancel_reason="banned")
    assert flows.get_case(case_id).data["ex_officio"] is True
    flows.fire(case_id, "accept", CITY_APPROVAL)
    rejected = flows.fire(
        case_id,
        "reject",
        CITY_APPROVAL,
        {"reason": "排污口仍在使用", "decision_number": "聊审批排〔2024〕10号"},
    )
    assert rejected.data["publication"]["result"] == "不予注销"
    assert (ledger_record(flows, APPROVED) or {})["status"] == "active"


CANCEL = {"kind": "cancel", "cancel_reason": "unused"}


def _change(**changes: Any) -> dict[str, Any]:
    return {"kind": "change", "changes": changes}


@pytest.mark.parametrize(
    ("code", "data", "path", "message"),
    [
        ("371524-09-999", CANCEL, "$.outfall_code", "not in the ledger"),
        ("371524-01-004", CANCEL, "$.outfall_code", "abolished, not active"),
        ("371524-01-003", _change(name="甲"), "$.outfall_code", "never approved or registered"),
        (APPROVED, _change(code="371524-01-009"), "$.changes.code", "not a changeable field"),
        (APPROVED, _change(county="yanggu"), "$.changes.county", "not a changeable field"),
        (APPROVED, _change(river="huanghe"), "$.changes.river", "改设"),
        (
            APPROVED,
            _change(supervising_department="water_city"),
            "$.changes.supervising_department",
            "does not supervise",
        ),
        (APPROVED, {"kind": "change"}, "$.changes", "names the fields"),
        (APPROVED, {"kind": "cancel"}, "$.cancel_reason", "gives its reason"),
    ],
)
def test_refusals_name_their_field(
    flows: Engine, code: str, data: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _apply(flows, code, DONGE_EEB, **data)
    assert caught.value.status == 422
    (error,) = caught.value.errors
    assert error.json_path == path
    assert message in error.message


def test_only_the_routed_authority_decides(flows: Engine) -> None:
    case_id = _apply(flows, APPROVED, kind="change", changes=CHANGES)
    with pytest.raises(GuardFailed):
        flows.fire(case_id, "accept", COUNTY_APPROVAL)  # a county bureau, for a city decision
    with pytest.raises(Forbidden):
        flows.fire(case_id, "accept", UNIT)
    flows.fire(case_id, "accept", CITY_APPROVAL)


def test_the_limit_lapses_overdue_and_escalated_over_the_timeline(
    flows: Engine, clock: FakeClock
) -> None:
    case_id = _apply(flows, APPROVED, kind="change", changes=CHANGES)
    deemed = due_times(flows.get_case(case_id))["deemed_accept"]
    pass_time(flows, clock, deemed + timedelta(hours=1))  # no acceptance within 5 working days
    view = flows.get_case(case_id)
    assert view.state == "reviewing"
    assert view.data["acceptance"]["deemed"] is True
    due = due_times(view)["overdue"]
    pass_time(flows, clock, due - timedelta(hours=2))
    assert "overdue" not in flows.get_case(case_id).data
    pass_time(flows, clock, due + timedelta(hours=1))
    view = flows.get_case(case_id)
    assert (view.state, view.data["overdue"]) == ("reviewing", True)
    escalation = flows.get_case(view.data["escalation_case_id"])
    assert escalation.case.workflow == "escalation"
    assert escalation.data["topic"] == "setup_change"
    assert APPROVED in escalation.data["reason"]
    done = flows.fire(
        case_id, "approve", CITY_APPROVAL, {"decision_number": "聊审批排〔2024〕11号"}
    )
    assert done.state == "approved"  # late, but still decided


OTHER = Actor("东阿县另一家公司", "applicant", "donge")


@pytest.mark.parametrize("code", [APPROVED, "371524-01-004", "371524-09-999"])
def test_a_party_applies_only_for_its_own_outfall_and_learns_nothing_of_others(
    flows: Engine, code: str
) -> None:
    # the same refusal for another party's outfall, an abolished one and an unknown code
    with pytest.raises(InvalidInput) as caught:
        _apply(flows, code, OTHER, **CANCEL)
    (error,) = caught.value.errors
    assert error.json_path == "$.outfall_code"
    neutral = "no outfall of 东阿县另一家公司 with this code can be changed or cancelled"
    assert error.message == neutral
    assert (ledger_record(flows, APPROVED) or {})["status"] == "active"


def test_the_eia_level_is_the_recorded_authoritys(flows: Engine) -> None:
    # the ledger records a city approval: the caller cannot route it to the county
    with pytest.raises(InvalidInput) as caught:
        _apply(flows, APPROVED, kind="change", changes=CHANGES, eia_level="county")
    assert [e.json_path for e in caught.value.errors] == ["$.eia_level"]
    case_id = _apply(flows, APPROVED, kind="change", changes=CHANGES, eia_level="city")
    assert flows.get_case(case_id).data["authority"] == "city"
