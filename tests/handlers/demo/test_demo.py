"""``qingliu demo``: a realistic city, loaded once."""

from __future__ import annotations

from datetime import date

from engine.settings import Settings, build_engine
from handlers import reports
from handlers.demo.city import END, load_demo
from handlers.ledger import Ledger
from handlers.reference.data import county_codes


def test_the_demo_city_is_loaded_once(settings: Settings) -> None:
    first = load_demo(settings)
    assert first.created
    assert first.refused == []
    second = load_demo(settings)
    assert not second.created
    assert second.outfalls == first.outfalls

    engine = build_engine(settings)
    try:
        ledger = Ledger(engine)
        outfalls = ledger.list()
        assert len(outfalls) == first.outfalls >= 40
        assert {o.record["county"] for o in outfalls} == set(county_codes(engine.reference))
        assert len({o.record["sub_type"] for o in outfalls}) >= 6
        assert len({o.record["river"] for o in outfalls}) >= 5
        every = engine.list_cases(limit=10_000)
        states = {(c.case.workflow, c.state) for c in every}
        assert sum(n for _, _, n in first.cases) == len(every)
        assert {(w, s) for w, s, _ in first.cases} == states
        workflows = {w for w, _ in states}
        assert {"responsibility", "rectification", "escalation"} <= workflows
        assert ("rectification", "delisted") in states
        assert len({s for w, s in states if w == "rectification"}) >= 3
        as_of = END.date()
        progress = reports.progress(ledger, as_of).to_json()["rows"][-1]
        assert progress["total"] == first.outfalls
        assert 0 < progress["done"] < progress["total"]
        overdue = reports.overdue(ledger, as_of).to_json()
        assert overdue["count"] > 0
        assert all(r["escalation_rung"] for r in overdue["rows"])
        yellow = reports.deadlines(ledger, date(2024, 6, 30)).to_json()["rows"]
        assert any(r["scope"] == "黄河流域" and r["open"] > 0 for r in yellow)
        assert engine.verify_audit() == []
    finally:
        engine.store.dispose()
