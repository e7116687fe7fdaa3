"""The demo's 强化环境监测 (三(四)4): approved 2024 plans whose draws verify, rounds done over
the year, an exceedance that opened enforcement by itself (三(四)5), an unsampled round
overdue and escalated, and the monitoring report over it all."""

from __future__ import annotations

from datetime import date

from engine.settings import Settings, build_engine
from handlers.demo.city import DemoResult
from handlers.demo.monitoring import MONITORED
from handlers.ledger import Ledger
from handlers.reports.monitoring import monitoring
from handlers.sampling.commit import verify_draw


def test_the_demo_monitors_its_counties_over_2024(demo_city: tuple[Settings, DemoResult]) -> None:
    settings, result = demo_city
    assert not [r for r in result.refused if "monitoring" in r]
    engine = build_engine(settings)
    try:
        with engine.store.read() as tx:
            plans = tx.list_cases(workflow="monitoring_plan", limit=100)
            tasks = tx.list_cases(workflow="monitoring_task", limit=1000)
            exceedances = [
                c
                for c in tx.list_cases(workflow="enforcement", limit=1000)
                if c.data.get("source") == "exceedance" and c.data.get("source_case_id")
            ]
        assert sorted(p.data["county"] for p in plans) == sorted(MONITORED)
        assert all(p.state == "approved" for p in plans)
        assert all(verify_draw(p.data["draw"]).ok for p in plans)
        assert {t.data["county"] for t in tasks} == set(MONITORED)
        done = [t for t in tasks if t.state == "done"]
        assert len(done) >= len(tasks) - 1 > 0
        over = [t for t in done if t.data["over_limit"]]
        assert len(over) == 1
        [case] = [c for c in exceedances if c.data["source_case_id"] == over[0].id]
        assert over[0].data["enforcement_case_id"] == case.id
        assert case.data["exceedance"]["parameter"] == "COD"
        [late] = [t for t in tasks if t.data.get("overdue")]
        assert late.is_open
        ladder = engine.get_case(late.data["escalation_case_id"])
        assert ladder.data["topic"] == "monitoring"
        assert ladder.data["target"] == late.data["county"]
        rows = monitoring(Ledger(engine), date(2024, 12, 31)).to_json()["rows"]
        total = rows[-1]
        assert total["county"] == "合计"
        assert total["rounds"] == len(tasks)
        assert (total["overdue"], total["over_limit"], total["enforcement"]) == (1, 1, 1)
        assert total["done"] == total["on_time"] == len(done)
    finally:
        engine.store.dispose()
