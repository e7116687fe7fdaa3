"""One outfall's life through the real ledger: found → responsibility case opened by the ledger
→ untraceable, the county takes it and asks for rectification → merged into another outfall →
county pre-close-out, city review, de-listing; the ledger shows each step and every case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from tests.attachkit import upload
from tests.conftest import ROOT
from tests.handlers.flows.support import pass_time

YANGGU_EEB = Actor("阳谷县生态环境分局", "county_eeb", "yanggu")
YANGGU_GOV = Actor("阳谷县人民政府", "county_gov", "yanggu")
CITY_EEB = Actor("聊城市生态环境局", "eeb_city", "liaocheng")


def _record(code: str, **fields: Any) -> dict[str, Any]:
    record = {
        "code": code,
        "name": f"阳谷县排污口{code[-4:]}",
        "sub_type": "rural_scattered",
        "county": "yanggu",
        "river": "jindihe",  # a Yellow River tributary
        "entry_mode": "管道",
    }
    record.update(fields)
    return record


def test_an_untraceable_outfall_is_merged_and_delisted(engine: Engine, clock: FakeClock) -> None:
    names = ("responsibility", "rectification", "escalation")
    engine.load([ROOT / "workflows" / f"{name}.yaml" for name in names])
    ledger = Ledger(engine)
    ledger.add(
        _record("371521-0200", sub_type="urban_wwtp", name="阳谷县污水处理厂排污口"), CITY_EEB
    )
    found = ledger.add(_record("371521-0201"), YANGGU_EEB)
    (responsibility,) = found.cases
    assert responsibility.workflow == "responsibility"
    assert responsibility.state == "tracing"

    engine.fire(responsibility.id, "untraceable", YANGGU_GOV, {"needs_rectification": True})
    record = ledger.get("371521-0201").record
    assert record["responsible_party"] == "阳谷县人民政府"
    assert record["responsible_fallback"] is True
    assert record["rectification_status"] == "in_progress"
    (rect,) = engine.list_cases(workflow="rectification", subject="371521-0201")
    assert rect.data["basin"] == "yellow_river"
    assert rect.data["deadline"] == "2024-06-30"

    engine.fire(rect.id, "choose_mode", YANGGU_GOV, {"mode": "merge", "merged_into": "371521-0200"})
    clock.set(datetime(2024, 5, 20, 2, 0, tzinfo=UTC))
    metering = [{"unit": "阳谷县人民政府", "device": "JL-371521-0201", "location": "接管口前"}]
    engine.fire(rect.id, "install_metering", YANGGU_EEB, {"metering": metering})  # before joining
    # the photos once `complete` is what the case waits for (an upload needs such a trigger)
    sealed = upload(engine, YANGGU_EEB, "rectification", "evidence.photos", case_id=rect.id)
    evidence = {"photos": [sealed], "description": "接入污水管网"}
    engine.fire(rect.id, "complete", YANGGU_EEB, {"evidence": evidence})
    engine.fire(rect.id, "pre_close", YANGGU_GOV)
    view = engine.fire(rect.id, "approve_delisting", CITY_EEB)
    assert view.state == "delisted"

    pass_time(engine, clock, datetime(2024, 7, 1, 2, 0, tzinfo=UTC))  # the deadline passes
    assert engine.list_cases(workflow="escalation") == []  # done in time: nothing to escalate
    final = ledger.get("371521-0201")
    assert final.record["status"] == "merged"
    assert final.record["merged_into"] == "371521-0200"
    assert final.record["rectification_status"] == "done"
    assert [(c.workflow, c.state) for c in final.cases] == [
        ("responsibility", "identified"),
        ("rectification", "delisted"),
    ]
    target = ledger.get("371521-0200").record
    assert target["status"] == "active"
    assert target["shared_by"] == [  # its channel now carries the merged outfall's drainage
        {"unit": "阳谷县人民政府", "device": "JL-371521-0201", "from_outfall": "371521-0201"}
    ]
    assert engine.verify_audit() == []
