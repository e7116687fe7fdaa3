"""Special enforcement campaigns on the key rivers (专项执法检查, plan 三(四)5), end to end on the
fake clock: the city launches a campaign, the scope is computed from the ledger (徒骇河、马颊河、
卫运河 and their tributaries, not the Yellow River main stem), each county with outfalls in scope
gets a task, inspects outfall by outfall (a finding opens an enforcement case), submits; a late
county is marked overdue and escalated; the campaign closes with its report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import FakeClock
from engine.errors import CaseNotFound, InputRefused, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, outfall, pass_time, seed_ledger

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
DONGE = Actor("东阿县生态环境分局", "county_eeb", "donge")
GAOTANG = Actor("高唐县生态环境分局", "county_eeb", "gaotang")
FLOWS = ("key_river_campaign", "campaign_inspection", "enforcement", "escalation")


@pytest.fixture
def flows(engine: Engine, clock: FakeClock) -> Engine:
    clock.set(datetime(2024, 4, 1, 1, 0, tzinfo=UTC))
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in FLOWS])
    seed_ledger(
        engine,
        outfall("371524-0001", "donge", river="tuhaihe", basin="haihe"),
        outfall("371524-0002", "donge", river="huanghe"),  # main stem: not in scope
        outfall("371524-0003", "donge", river="zhaoniuhe", basin="haihe"),  # a tributary
        outfall("371526-0001", "gaotang", river="majiahe", basin="haihe"),
        outfall("371526-0002", "gaotang", river="tuhaihe", basin="haihe", status="abolished"),
        outfall("371525-0001", "guanxian", river="jindihe"),  # not a key river
    )
    return engine


def _campaign(engine: Engine) -> int:
    data = {"county": "liaocheng", "year": 2024, "title": "2024年重点河流入河排污口专项执法检查"}
    return engine.create_case("key_river_campaign", data, CITY, subject="campaign:2024:1").id


def _tasks(engine: Engine) -> dict[str, int]:
    return {c.data["county"]: c.id for c in engine.list_cases(CITY, workflow="campaign_inspection")}


def test_launch_computes_the_scope_and_opens_one_task_per_county(flows: Engine) -> None:
    case = _campaign(flows)
    view = flows.fire(case, "launch", CITY, {"due": "2024-06-28"})
    assert view.state == "inspecting"
    assert view.data["rivers"] == ["tuhaihe", "majiahe", "weiyunhe", "xiaoyunhe", "zhaoniuhe"]
    assert view.data["scope"] == {
        "donge": ["371524-0001", "371524-0003"],
        "gaotang": ["371526-0001"],
    }
    tasks = _tasks(flows)
    assert set(tasks) == {"donge", "gaotang"} == set(view.data["tasks"])
    task = flows.get_case(tasks["donge"], DONGE)  # the county sees its own task
    assert task.case.subject == "campaign:2024:1:donge"
    assert [o["code"] for o in task.data["outfalls"]] == ["371524-0001", "371524-0003"]
    assert due_times(task)["overdue"] == datetime(2024, 6, 28, 16, 0, tzinfo=UTC)
    with pytest.raises(CaseNotFound):
        flows.get_case(tasks["gaotang"], DONGE)  # not another county's


def test_named_rivers_are_checked_and_the_due_day_is_not_past(flows: Engine) -> None:
    case = _campaign(flows)
    with pytest.raises(InputRefused) as bad:
        flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["tuhaihe", "nile"]})
    assert [e.json_path for e in bad.value.errors] == ["$.rivers[1]"]
    with pytest.raises(InputRefused) as past:
        flows.fire(case, "launch", CITY, {"due": "2024-03-01"})
    assert [e.json_path for e in past.value.errors] == ["$.due"]
    with pytest.raises(Refused):
        flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["weiyunhe"]})
    view = flows.fire(
        case,
        "launch",
        CITY,
        {"due": "2024-06-28", "rivers": ["huanghe"], "include_tributaries": False},
    )
    assert view.data["scope"] == {"donge": ["371524-0002"]}


def test_inspections_findings_and_submission(flows: Engine) -> None:
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28"})
    task = _tasks(flows)["donge"]
    with pytest.raises(InputRefused) as other:
        flows.fire(task, "inspect", DONGE, {"outfall_code": "371524-0002", "result": "compliant"})
    assert [e.json_path for e in other.value.errors] == ["$.outfall_code"]
    with pytest.raises(InputRefused) as unknown:
        flows.fire(
            task,
            "inspect",
            DONGE,
            {"outfall_code": "371524-0001", "result": "finding", "violation_type": "theft"},
        )
    assert [e.json_path for e in unknown.value.errors] == ["$.violation_type"]
    with pytest.raises(CaseNotFound):
        flows.fire(task, "inspect", GAOTANG, {"outfall_code": "371524-0001", "result": "compliant"})
    finding = {
        "outfall_code": "371524-0001",
        "result": "finding",
        "violation_type": "hidden_pipe",
        "description": "发现私设暗管接入排污口",
        "inspectors": ["张伟", "王芳"],
    }
    view = flows.fire(task, "inspect", DONGE, finding)
    opened = view.data["inspections"][0]["enforcement_case_id"]
    enforcement = flows.get_case(opened, DONGE)
    assert enforcement.case.workflow == "enforcement"
    assert enforcement.state == "opened"
    assert enforcement.data["source"] == "campaign"
    assert enforcement.data["violation_type"] == "hidden_pipe"
    assert enforcement.case.subject == "371524-0001"
    assert enforcement.data["source_case_id"] == task
    with pytest.raises(Refused):  # once per outfall
        flows.fire(task, "inspect", DONGE, {"outfall_code": "371524-0001", "result": "compliant"})
    with pytest.raises(Refused, match="371524-0003"):
        flows.fire(task, "submit", DONGE)
    flows.fire(task, "inspect", DONGE, {"outfall_code": "371524-0003", "result": "compliant"})
    assert flows.fire(task, "submit", DONGE).state == "submitted"
    with pytest.raises(Refused, match="高唐县"):  # before the due day, gaotang still open
        flows.fire(case, "close", CITY)


def test_end_to_end_a_late_county_is_escalated_and_the_report_records_it(
    flows: Engine, clock: FakeClock
) -> None:
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28"})
    tasks = _tasks(flows)
    for code in ("371524-0001", "371524-0003"):
        flows.fire(tasks["donge"], "inspect", DONGE, {"outfall_code": code, "result": "compliant"})
    flows.fire(tasks["donge"], "submit", DONGE)
    flows.fire(
        tasks["gaotang"],
        "inspect",
        GAOTANG,
        {"outfall_code": "371526-0001", "result": "finding", "violation_type": "over_limit"},
    )
    pass_time(flows, clock, datetime(2024, 6, 28, 15, 59, tzinfo=UTC))
    assert not flows.get_case(tasks["gaotang"]).data.get("overdue")
    pass_time(flows, clock, datetime(2024, 6, 29, 2, 0, tzinfo=UTC))  # swept late
    late = flows.get_case(tasks["gaotang"])
    assert late.data["overdue"] is True
    assert late.data["overdue_at"] == "2024-06-28T16:00:00+00:00"  # counted from its due time
    ladder = flows.get_case(late.data["escalation_case_id"])
    assert ladder.case.workflow == "escalation"
    assert ladder.case.subject == "gaotang:campaign"
    assert ladder.data["source_workflow"] == "campaign_inspection"
    campaign = flows.get_case(case)
    assert campaign.state == "inspecting"
    assert campaign.data["late_counties"] == ["gaotang"]
    closed = flows.fire(case, "close", CITY)  # after the due day: closed, missing recorded
    report = closed.data["report"]
    assert closed.state == "closed"
    assert report["not_submitted"] == ["gaotang"]
    rows = {r["county"]: r for r in report["counties"]}
    assert rows["donge"] | {"enforcement_cases": []} == {
        "county": "donge",
        "county_name": "东阿县",
        "task_case_id": tasks["donge"],
        "outfalls": 2,
        "inspected": 2,
        "findings": 0,
        "enforcement_cases": [],
        "submitted": True,
        "overdue": False,
    }
    assert rows["gaotang"]["findings"] == 1
    assert rows["gaotang"]["overdue"] is True
    assert report["totals"] == {
        "outfalls": 3,
        "inspected": 3,
        "findings": 1,
        "enforcement_cases": 1,
    }


def test_the_campaign_closes_itself_on_the_due_day_when_every_task_is_in(
    flows: Engine, clock: FakeClock
) -> None:
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["majiahe"]})
    task = _tasks(flows)["gaotang"]
    flows.fire(task, "inspect", GAOTANG, {"outfall_code": "371526-0001", "result": "compliant"})
    flows.fire(task, "submit", GAOTANG)
    pass_time(flows, clock, datetime(2024, 6, 28, 16, 0, tzinfo=UTC))
    closed = flows.get_case(case)
    assert closed.state == "closed"
    assert closed.data["report"]["not_submitted"] == []
    assert flows.get_case(task).data.get("escalation_case_id") is None


def test_a_finding_opens_its_own_case_even_with_one_open_at_the_outfall(
    flows: Engine,
) -> None:
    earlier = flows.create_case(
        "enforcement",
        {
            "source": "patrol",
            "county": "gaotang",
            "violation_type": "secret_discharge",
            "outfall_code": "371526-0001",
        },
        GAOTANG,
        subject="371526-0001",
    ).id
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["majiahe"]})
    task = _tasks(flows)["gaotang"]
    finding = {"outfall_code": "371526-0001", "result": "finding", "violation_type": "over_limit"}
    view = flows.fire(task, "inspect", GAOTANG, finding)
    opened = view.data["inspections"][0]["enforcement_case_id"]
    assert opened != earlier  # 一事一案
    assert view.data["inspections"][0]["enforcement_opened"] is True
    enforcement = flows.get_case(opened, GAOTANG)
    assert enforcement.case.subject == "371526-0001"
    assert enforcement.data["source"] == "campaign"
    assert flows.get_case(earlier, GAOTANG).state == "opened"


def test_a_county_may_not_open_a_task_of_its_own(flows: Engine) -> None:
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["majiahe"]})
    forged = {"county": "donge", "campaign": "campaign:2024:1", "due": "2024-06-28", "outfalls": []}
    with pytest.raises(Refused, match="opened by its campaign"):
        flows.create_case("campaign_inspection", forged, DONGE)
    with pytest.raises(Refused, match="opened by its campaign"):
        flows.create_case("campaign_inspection", forged, DONGE, subject="campaign:2024:1:donge")
    # the city cannot add a task the campaign did not issue, nor change one's list
    with pytest.raises(Refused, match="no task for donge"):
        flows.create_case("campaign_inspection", forged, CITY, subject="campaign:2024:1:donge")
    with pytest.raises(InputRefused) as subject:
        flows.create_case("campaign_inspection", forged, CITY, subject="campaign:2024:1:x")
    assert [e.json_path for e in subject.value.errors] == ["$.subject"]
    assert set(_tasks(flows)) == {"gaotang"}
    task = _tasks(flows)["gaotang"]
    flows.fire(task, "inspect", GAOTANG, {"outfall_code": "371526-0001", "result": "compliant"})
    flows.fire(task, "submit", GAOTANG)
    closed = flows.fire(case, "close", CITY)
    assert [r["county"] for r in closed.data["report"]["counties"]] == ["gaotang"]


def test_a_task_must_match_the_campaigns_scope(flows: Engine) -> None:
    case = _campaign(flows)
    flows.fire(case, "launch", CITY, {"due": "2024-06-28", "rivers": ["majiahe"]})
    task = _tasks(flows)["gaotang"]
    flows.fire(task, "inspect", GAOTANG, {"outfall_code": "371526-0001", "result": "compliant"})
    flows.fire(task, "submit", GAOTANG)  # the task is closed: its subject is free again
    forged = {
        "county": "gaotang",
        "campaign": "campaign:2024:1",
        "campaign_case_id": case,
        "due": "2024-06-28",
        "outfalls": [],
    }
    subject = "campaign:2024:1:gaotang"
    with pytest.raises(InputRefused) as outfalls:
        flows.create_case("campaign_inspection", forged, CITY, subject=subject)
    assert [e.json_path for e in outfalls.value.errors] == ["$.outfalls"]
    other = {**forged, "campaign_case_id": case + 100, "outfalls": [{"code": "371526-0001"}]}
    with pytest.raises(InputRefused) as campaign:
        flows.create_case("campaign_inspection", other, CITY, subject=subject)
    assert [e.json_path for e in campaign.value.errors] == ["$.campaign_case_id"]
