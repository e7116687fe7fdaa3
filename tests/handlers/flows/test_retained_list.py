"""Retained-outfall list filing (需保留排污口清单报送): counties submit by the plan's date
(2023-05-15), the city EEB compiles and files; a county still drafting after the date is marked
late and escalated once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, GuardFailed
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, outfall, pass_time, seed_ledger

CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")


def county_eeb(county: str) -> Actor:
    return Actor(f"{county}生态环境分局", "county_eeb", county)


@pytest.fixture
def flows(engine: Engine, clock: FakeClock) -> Engine:
    clock.set(datetime(2023, 4, 24, 1, 0, tzinfo=UTC))  # the plan is out (2023-04-22)
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in ("retained_list", "escalation")])
    return engine


def _open(engine: Engine, county: str) -> int:
    data = {"county": county, "year": 2023}
    return engine.create_case(
        "retained_list", data, county_eeb(county), subject=f"{county}:2023"
    ).id


def test_the_filing_date_comes_from_the_plan(flows: Engine) -> None:
    view = flows.get_case(_open(flows, "donge"))
    assert view.data["due"] == "2023-05-15"
    assert due_times(view)["overdue"] == datetime(2023, 5, 15, 16, 0, tzinfo=UTC)


def test_a_county_lists_only_its_own_outfalls_in_service(flows: Engine) -> None:
    seed_ledger(
        flows,
        outfall("371524-0001"),
        outfall("371524-0002", status="abolished"),
        outfall("371521-0001", county="yanggu"),
    )
    case_id = _open(flows, "donge")
    for wrong in ("371524-0002", "371521-0001", "371524-9999"):
        with pytest.raises(GuardFailed, match="retained_outfalls_in_county"):
            flows.fire(case_id, "submit", county_eeb("donge"), {"outfalls": [wrong]})
    view = flows.fire(
        case_id,
        "submit",
        county_eeb("donge"),
        {"outfalls": ["371524-0001"], "removed": ["371524-0002"]},
    )
    assert view.state == "submitted"
    assert view.timers == []  # in time: the filing timer is gone


def test_the_city_compiles_returns_and_files(flows: Engine) -> None:
    seed_ledger(flows, outfall("371524-0001"), outfall("371524-0003"))
    case_id = _open(flows, "donge")
    flows.fire(case_id, "submit", county_eeb("donge"), {"outfalls": ["371524-0001"]})
    with pytest.raises(Forbidden):
        flows.fire(case_id, "compile", county_eeb("donge"))
    view = flows.fire(case_id, "return_list", CITY_EEB, {"reason": "漏报371524-0003"})
    assert view.state == "drafting"
    assert view.data["return_reason"] == "漏报371524-0003"
    codes = ["371524-0001", "371524-0003"]
    flows.fire(case_id, "submit", county_eeb("donge"), {"outfalls": codes})
    assert flows.fire(case_id, "compile", CITY_EEB).data["compiled_count"] == 2
    view = flows.fire(case_id, "file", CITY_EEB)
    assert view.state == "filed"
    assert view.final
    assert view.data["filed_at"] == "2023-04-24T01:00:00+00:00"


def test_late_counties_are_marked_and_escalated(flows: Engine, clock: FakeClock) -> None:
    on_time, late = _open(flows, "donge"), _open(flows, "guanxian")
    clock.set(datetime(2023, 5, 12, 2, 0, tzinfo=UTC))
    flows.fire(on_time, "submit", county_eeb("donge"), {"outfalls": []})

    pass_time(flows, clock, datetime(2023, 5, 15, 15, 0, tzinfo=UTC))  # 23:00 on the day
    assert flows.list_cases(workflow="escalation") == []
    pass_time(flows, clock, datetime(2023, 5, 16, 1, 0, tzinfo=UTC))
    (escalation,) = flows.list_cases(workflow="escalation")
    assert escalation.case.subject == "guanxian:retained_list"
    assert escalation.data["target"] == "guanxian"
    assert "冠县未按期" in escalation.data["reason"]
    view = flows.get_case(late)
    assert view.data["late"] is True
    assert view.data["escalation_case_id"] == escalation.id
    assert "late" not in flows.get_case(on_time).data
    # late, but it can still submit
    view = flows.fire(late, "submit", county_eeb("guanxian"), {"outfalls": []})
    assert view.state == "submitted"
