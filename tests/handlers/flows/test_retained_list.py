"""Retained-outfall list filing (需保留排污口清单报送, plan 三(三)): the county-level ecology and
environment branch compiles its own county's list (增补/删减 against the ledger) and files it with
the city EEB by the plan's date (2023-05-15); the city files it on record (备案) or returns it,
and filing writes the list into the ledger. A county still drafting after the date is marked
late and escalated once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import FakeClock
from engine.errors import Forbidden, InputRefused, TriggerNotAllowed
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from tests.conftest import ROOT
from tests.handlers.flows.support import (
    due_times,
    ledger_record,
    outfall,
    pass_time,
    seed_ledger,
)

CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")


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


def _refused_paths(excinfo: pytest.ExceptionInfo[InputRefused]) -> dict[str, str]:
    return {e.json_path: e.message for e in excinfo.value.errors}


def test_the_filing_date_comes_from_the_plan(flows: Engine) -> None:
    view = flows.get_case(_open(flows, "donge"))
    assert view.data["due"] == "2023-05-15"
    assert due_times(view)["overdue"] == datetime(2023, 5, 15, 16, 0, tzinfo=UTC)


def test_the_county_eeb_compiles_and_files_its_own_list(flows: Engine) -> None:
    seed_ledger(flows, outfall("371524-0001"), outfall("371524-0002"))
    case_id = _open(flows, "donge")
    body = {"outfalls": ["371524-0001", "371524-0002"], "added": ["371524-0002"]}
    with pytest.raises(Forbidden):  # the county government does not compile it
        flows.fire(case_id, "submit", DONGE_GOV, body)
    with pytest.raises(Forbidden):  # nor the city: it receives the list
        flows.fire(case_id, "submit", CITY_EEB, body)
    view = flows.fire(case_id, "submit", county_eeb("donge"), body)
    assert (view.state, view.state_title) == ("submitted", "已报市生态环境局，待备案")
    assert view.data["compiled_count"] == 2
    assert view.data["compiled_by"] == "donge生态环境分局"
    assert view.timers == []  # in time: the filing timer is gone
    with pytest.raises(TriggerNotAllowed):  # the city no longer compiles the county's list
        flows.fire(case_id, "compile", CITY_EEB)


def test_added_and_removed_are_checked_against_the_ledger_at_their_path(flows: Engine) -> None:
    seed_ledger(
        flows,
        outfall("371524-0001"),
        outfall("371524-0002", status="abolished"),
        outfall("371521-0001", county="yanggu"),
        outfall("371524-0003"),
    )
    case_id = _open(flows, "donge")
    eeb = county_eeb("donge")
    cases = [
        ({"outfalls": ["371524-0001"], "added": ["371524-0001", "371521-0001"]}, "$.added[1]"),
        ({"outfalls": ["371524-0001"], "added": ["371524-9999"]}, "$.added[0]"),
        ({"outfalls": ["371524-0001"], "removed": ["371521-0001"]}, "$.removed[0]"),
        ({"outfalls": ["371524-0001", "371524-0002"]}, "$.outfalls[1]"),
        ({"outfalls": ["371524-0001"], "added": ["371524-0003"]}, "$.added[0]"),  # not listed
        ({"outfalls": ["371524-0001", "371524-0003"], "removed": ["371524-0003"]}, "$.removed[0]"),
    ]
    for body, path in cases:
        with pytest.raises(InputRefused) as refused:
            flows.fire(case_id, "submit", eeb, body)
        assert list(_refused_paths(refused)) == [path], body
    with pytest.raises(InputRefused) as refused:
        flows.fire(case_id, "submit", eeb, {"outfalls": ["371521-0001"]})
    message = _refused_paths(refused)["$.outfalls[0]"]
    assert "东阿县" in message
    assert "yanggu" not in message  # where it lies is not said
    assert "阳谷" not in message
    assert flows.get_case(case_id).state == "drafting"  # nothing kept of a refused list
    view = flows.fire(
        case_id, "submit", eeb, {"outfalls": ["371524-0001"], "removed": ["371524-0002"]}
    )
    assert view.state == "submitted"


def test_an_outfall_being_banned_or_merged_cannot_be_kept(flows: Engine) -> None:
    seed_ledger(
        flows,
        outfall("371524-0001"),
        outfall("371524-0004", rectification_mode="ban", rectification_status="in_progress"),
        outfall("371524-0005", rectification_mode="merge", rectification_status="in_progress"),
        outfall("371524-0006", status="merged", merged_into="371524-0001"),
    )
    case_id = _open(flows, "donge")
    eeb = county_eeb("donge")
    for code, word in (("371524-0004", "取缔"), ("371524-0005", "合并"), ("371524-0006", "合并")):
        with pytest.raises(InputRefused) as refused:
            flows.fire(case_id, "submit", eeb, {"outfalls": ["371524-0001", code]})
        assert word in _refused_paths(refused)["$.outfalls[1]"]
    removed = ["371524-0004", "371524-0005", "371524-0006"]
    view = flows.fire(case_id, "submit", eeb, {"outfalls": ["371524-0001"], "removed": removed})
    assert view.state == "submitted"


def test_filing_writes_the_list_into_the_ledger_and_its_history(flows: Engine) -> None:
    seed_ledger(
        flows,
        outfall("371524-0001"),
        outfall("371524-0003"),
        outfall("371524-0004", rectification_mode="ban"),
    )
    case_id = _open(flows, "donge")
    eeb = county_eeb("donge")
    flows.fire(case_id, "submit", eeb, {"outfalls": ["371524-0001"]})
    with pytest.raises(Forbidden):
        flows.fire(case_id, "file", eeb)  # the county does not file on record itself
    view = flows.fire(case_id, "return_list", CITY_EEB, {"reason": "漏报371524-0003"})
    assert view.state == "drafting"
    assert view.data["return_reason"] == "漏报371524-0003"
    assert "retained" not in (ledger_record(flows, "371524-0001") or {})  # not filed yet
    body = {
        "outfalls": ["371524-0001", "371524-0003"],
        "added": ["371524-0003"],
        "removed": ["371524-0004"],
    }
    assert flows.fire(case_id, "submit", eeb, body).data["compiled_count"] == 2
    view = flows.fire(case_id, "file", CITY_EEB)
    assert (view.state, view.final) == ("filed", True)
    assert view.data["filed_at"] == "2023-04-24T01:00:00+00:00"
    for code, kept in (("371524-0001", True), ("371524-0003", True), ("371524-0004", False)):
        record = ledger_record(flows, code) or {}
        assert record["retained"] is kept, code
        assert record["retained_list"] == "donge:2023"
    last = Ledger(flows).history("371524-0003")[-1]
    assert (last.actor, last.role) == ("聊城市生态环境局", "eeb_city")
    assert last.patch["set"] == {"retained": True, "retained_list": "donge:2023"}


def test_filing_is_refused_when_a_kept_outfall_has_since_been_banned(flows: Engine) -> None:
    seed_ledger(flows, outfall("371524-0001"))
    case_id = _open(flows, "donge")
    flows.fire(case_id, "submit", county_eeb("donge"), {"outfalls": ["371524-0001"]})
    record = ledger_record(flows, "371524-0001") or {}
    seed_ledger(flows, {**record, "rectification_mode": "ban"})  # chosen after submission
    with pytest.raises(InputRefused) as refused:
        flows.fire(case_id, "file", CITY_EEB)
    assert "$.outfalls[0]" in _refused_paths(refused)
    assert "retained" not in (ledger_record(flows, "371524-0001") or {})
    assert flows.fire(case_id, "return_list", CITY_EEB, {"reason": "已取缔"}).state == "drafting"


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
