"""Reports read cases as the case pages do: a role that may not read a workflow's cases sees
none of them in a report either (the readers of each definition, engine/access.py), not only
its own jurisdiction's."""

from __future__ import annotations

from datetime import date

from engine.handlers import Actor
from engine.settings import Settings
from handlers import reports
from handlers.demo.city import DemoResult
from tests.handlers.demo.conftest import demo_ledger

CHIEF = Actor("东昌府区河长", "river_chief", "dongchangfu")  # reads patrols, not campaigns
COUNTY = Actor("东昌府区生态环境分局", "county_eeb", "dongchangfu")


def _rows(settings: Settings, name: str, actor: Actor, day: date) -> list[dict[str, object]]:
    for ledger in demo_ledger(settings):
        return list(reports.run(name, ledger, day, actor).to_json()["rows"])
    raise AssertionError("no ledger")


def test_a_role_that_reads_no_campaign_case_sees_no_campaign_in_the_report(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    settings, _ = demo_city
    day = date(2024, 12, 31)
    mine = _rows(settings, "campaign", COUNTY, day)
    assert [r["county"] for r in mine] == ["东昌府区", ""]
    assert mine[0]["findings"] == 1
    assert [r["county"] for r in _rows(settings, "campaign", CHIEF, day)] == [""]
    monitoring = _rows(settings, "monitoring", CHIEF, day)
    assert [r["county"] for r in monitoring] == ["合计"]
    assert monitoring[0]["rounds"] == 0
    patrols = _rows(settings, "patrols", CHIEF, day)  # the chief's own work he does read
    assert any(r["county"] == "东昌府区" and r["patrols"] for r in patrols)
