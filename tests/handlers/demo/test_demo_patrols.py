"""The demo's river patrols and daily supervision (handlers/demo/patrols.py), read from the
demo city loaded once (``demo_city``)."""

from __future__ import annotations

import dataclasses
from datetime import date

from engine.settings import Settings, build_engine
from handlers.demo.city import DemoResult
from handlers.demo.patrols import STORM_OUTFALLS
from handlers.ledger import Ledger
from handlers.public.facts import public_facts
from handlers.reports import compute


def test_patrols_notices_and_inspections_of_2024(demo_city: tuple[Settings, DemoResult]) -> None:
    settings, result = demo_city
    assert result.refused == []
    engine = build_engine(settings)
    try:
        patrols = engine.list_cases(workflow="river_patrol", limit=1000)
        assert len({p.data["county"] for p in patrols}) >= 3
        assert {p.state for p in patrols} == {"submitted"}
        assert all(p.data["date"].startswith("2024-") for p in patrols)
        assert sum(p.data["problems_found"] for p in patrols) >= 3

        notices = engine.list_cases(workflow="patrol_notice", limit=1000)
        on_time = [n for n in notices if n.data.get("replied_on_time") is True]
        lapsed = [n for n in notices if n.data.get("overdue")]
        assert len(on_time) >= 3
        (late,) = lapsed
        assert late.data["department"] == "urban_mgmt_city"
        assert late.data["replied_on_time"] is False
        ladder = engine.get_case(late.data["escalation_case_id"])
        assert (ladder.data["target"], ladder.data["topic"]) == ("urban_mgmt_city", "patrol_notice")
        assert ladder.state == "resolved"

        inspections = engine.list_cases(workflow="daily_supervision", limit=1000)
        by = {i.data["department"] for i in inspections}
        assert {"urban_mgmt_city", "housing_city"} <= by
        storm = {str(o["code"]) for o in STORM_OUTFALLS}
        assert storm <= {i.data["outfall_code"] for i in inspections}
        referred = [r for i in inspections for r in i.data.get("referrals") or []]
        (dry,) = [r for r in referred if r["violation_type"] == "dry_weather_discharge"]
        case = engine.get_case(dry["case_id"])
        assert (case.data["source"], case.data["enforcing_authority"]) == ("inspection", "drainage")
        assert any(i.data.get("reinspection", {}).get("rectified") for i in inspections)

        # the 市政雨洪排口 are in the ledger, traced, with the inspections on their history
        ledger = Ledger(engine)
        for code in storm:
            outfall = ledger.get(code)
            assert outfall.record["sub_type"] == "municipal_storm"
            assert "daily_supervision" in {c.workflow for c in outfall.cases}

        # the public page of an outfall names none of the river chiefs who patrolled it
        shown = repr(dataclasses.asdict(public_facts(engine, "371524-15-901")))
        chiefs = {p.data["patroller"] for p in patrols}
        assert not [name for name in chiefs if name in shown]
        assert "巡河" not in shown

        total = compute.run("patrols", ledger, date(2024, 12, 31)).to_json()["rows"][-1]
        assert total["patrols"] == len(patrols)
        assert (total["replied_late"], total["overdue"], total["referred"]) == (1, 0, 1)
        assert total["replied_on_time"] == len(on_time)
    finally:
        engine.store.dispose()
