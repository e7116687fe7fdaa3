"""新增排污口动态清零 (plan 三(一)): an outfall found after its basin's campaign deadline
(黄河流域 2024-06-30, 全市 2025-12-31) is not overdue the day it is found. Its deadline comes from
its own rectification plan (一口一策: ``planned_completion`` when the mode is chosen) or else
``deadlines.yaml: new_outfall_period`` from the day it was found (the ledger's ``found_at``, else
the day it was recorded), never from the clock's today; ``deadline_basis`` says which."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import InputRefused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers import reports
from handlers.ledger import Ledger
from tests.conftest import ROOT
from tests.handlers.flows.support import due_times, outfall, pass_time, seed_ledger

DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
DONGE_GOV = Actor("东阿县人民政府", "county_gov", "donge")
CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")


@pytest.fixture
def flows(engine: Engine) -> Engine:
    names = ["responsibility", "rectification", "escalation"]
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in names])
    return engine


def _end_of_day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai


def _open(engine: Engine, code: str, river: str = "huanghe", **record: Any) -> int:
    basin = "yellow_river" if river == "huanghe" else "haihe"
    seed_ledger(engine, outfall(code, river=river, basin=basin, **record))
    body = {"outfall_code": code, "county": "donge", "sub_type": "industrial_enterprise"}
    return engine.create_case("rectification", {**body, "river": river}, DONGE_EEB, code).id


def test_an_outfall_found_after_the_campaign_gets_the_period_not_the_past_deadline(
    flows: Engine, clock: FakeClock
) -> None:
    clock.set(datetime(2025, 3, 20, 2, tzinfo=UTC))
    case_id = _open(flows, "371524-0101", found_at="2025-03-01")  # Yellow River: after 2024-06-30
    view = flows.get_case(case_id)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2025-09-01", "period")
    assert view.data["found_on"] == "2025-03-01"
    assert due_times(view)["overdue"] == _end_of_day(2025, 9, 1)
    pass_time(flows, clock, datetime(2025, 3, 21, 2, tzinfo=UTC))
    assert not flows.get_case(case_id).data.get("overdue")
    assert flows.list_cases(workflow="escalation") == []  # no 通报 the day after it was found


def test_the_outfalls_own_plan_gives_its_deadline(flows: Engine, clock: FakeClock) -> None:
    clock.set(datetime(2026, 2, 2, 2, tzinfo=UTC))
    case_id = _open(flows, "371524-0102", river="tuhaihe", found_at="2026-01-15")
    assert flows.get_case(case_id).data["deadline"] == "2026-07-15"
    plan = {"mode": "regularise", "planned_completion": "2026-05-31", "plan_reference": "一口一策"}
    view = flows.fire(case_id, "choose_mode", DONGE_GOV, plan)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2026-05-31", "plan")
    assert due_times(view)["overdue"] == _end_of_day(2026, 5, 31)  # the timer follows


def test_a_plan_date_in_the_past_is_refused_at_its_field(flows: Engine, clock: FakeClock) -> None:
    clock.set(datetime(2026, 2, 2, 2, tzinfo=UTC))
    case_id = _open(flows, "371524-0103", river="tuhaihe", found_at="2026-01-15")
    with pytest.raises(InputRefused) as refused:
        flows.fire(
            case_id, "choose_mode", DONGE_GOV, {"mode": "ban", "planned_completion": "2026-01-31"}
        )
    assert [e.json_path for e in refused.value.errors] == ["$.planned_completion"]
    assert "before today (2026-02-02)" in str(refused.value)
    assert flows.get_case(case_id).state == "planning"


def test_a_campaign_outfall_keeps_the_campaign_deadline(flows: Engine, clock: FakeClock) -> None:
    """Found before 2024-06-30 but only now sent to rectification: the campaign's deadline (the
    found day decides, not the clock's today), which its plan cannot push back."""
    clock.set(datetime(2024, 6, 1, 2, tzinfo=UTC))
    case_id = _open(flows, "371524-0104", found_at="2024-02-20")
    view = flows.get_case(case_id)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2024-06-30", "campaign")
    with pytest.raises(InputRefused) as refused:
        flows.fire(
            case_id,
            "choose_mode",
            DONGE_GOV,
            {"mode": "regularise", "planned_completion": "2024-08-31"},
        )
    assert [e.json_path for e in refused.value.errors] == ["$.planned_completion"]
    assert "campaign deadline 2024-06-30" in str(refused.value)
    earlier = {"mode": "regularise", "planned_completion": "2024-06-20"}
    view = flows.fire(case_id, "choose_mode", DONGE_GOV, earlier)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2024-06-30", "campaign")
    assert view.data["planned_completion"] == "2024-06-20"
    clock.set(datetime(2025, 3, 20, 2, tzinfo=UTC))
    late = flows.get_case(_open(flows, "371524-0105", found_at="2024-05-01"))
    assert (late.data["deadline"], late.data["deadline_basis"]) == ("2024-06-30", "campaign")


def test_without_found_at_the_day_it_entered_the_ledger_counts(
    flows: Engine, clock: FakeClock, admin: Actor
) -> None:
    ledger = Ledger(flows)
    clock.set(datetime(2025, 2, 1, 2, tzinfo=UTC))
    code = "371524-0106"
    record = {"code": code, "name": "东阿县新发现1号排污口", "sub_type": "industrial_enterprise"}
    ledger.add({**record, "county": "donge", "river": "huanghe"}, admin)
    assert ledger.get(code).record["recorded_on"] == "2025-02-01"
    clock.set(datetime(2025, 4, 1, 2, tzinfo=UTC))  # traced two months later
    tracing = next(c.id for c in ledger.get(code).cases if c.workflow == "responsibility")
    flows.fire(
        tracing, "identify", DONGE_EEB, {"responsible_party": "某公司", "needs_rectification": True}
    )
    case = next(c for c in ledger.get(code).cases if c.workflow == "rectification")
    data = flows.get_case(case.id).data
    assert (data["deadline"], data["deadline_basis"]) == ("2025-08-01", "period")


def test_reports_show_new_outfalls_and_how_many_are_cleared(
    flows: Engine, clock: FakeClock, admin: Actor
) -> None:
    ledger = Ledger(flows)
    clock.set(datetime(2025, 3, 1, 2, tzinfo=UTC))
    for seq, found in ((201, "2024-03-01"), (202, "2025-02-20"), (203, "2025-02-25")):
        code = f"371524-0{seq}"
        body = {"code": code, "name": f"东阿县{seq}号排污口", "county": "donge"}
        ledger.add({**body, "sub_type": "urban_wwtp", "river": "huanghe", "found_at": found}, admin)
    tracing = {
        c.data["outfall_code"]: c.id for c in flows.list_cases(workflow="responsibility", limit=10)
    }
    for code, needs in (("371524-0202", False), ("371524-0203", True), ("371524-0201", True)):
        flows.fire(
            tracing[code],
            "identify",
            DONGE_EEB,
            {"responsible_party": "某公司", "needs_rectification": needs},
        )
    total = reports.progress(ledger, date(2025, 3, 31)).to_json()["rows"][-1]
    assert (total["new"], total["new_cleared"], total["not_needed"]) == (2, 1, 1)
    yellow = [
        r
        for r in reports.deadlines(ledger, date(2025, 3, 31)).to_json()["rows"]
        if r["scope"] == "黄河流域" and r["county"] == "合计"
    ]
    # the campaign counts the stock outfall only; the two new ones are apart, one cleared
    assert [(r["outfalls"], r["total"], r["open"], r["new"], r["new_cleared"]) for r in yellow] == [
        (1, 1, 1, 2, 1)
    ]
