"""The demo city has one permit change and one cancellation (setup_change), both approved by
the authority of the outfall's setup, both in the ledger and its history."""

from __future__ import annotations

from engine.settings import Settings
from handlers.demo.city import DemoResult
from tests.handlers.demo.conftest import demo_ledger


def test_one_change_and_one_cancellation_are_in_the_ledger(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    settings, result = demo_city
    assert result.refused == []
    assert ("setup_change", "approved", 2) in result.cases
    for ledger in demo_ledger(settings):
        cases = ledger.engine.list_cases(workflow="setup_change", limit=10)
        by_kind = {c.data["kind"]: c for c in cases}
        assert set(by_kind) == {"change", "cancel"}
        changed = ledger.get(str(by_kind["change"].data["outfall_code"])).record
        assert changed["name"] == by_kind["change"].data["changes"]["name"]
        assert changed["discharge_regime"] == "intermittent"
        assert changed["setup_change"]["case_id"] == by_kind["change"].case.id
        code = str(by_kind["cancel"].data["outfall_code"])
        cancelled = ledger.get(code).record
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancellation_decision"] == by_kind["cancel"].data["decision_number"]
        assert cancelled["cancelled_on"] == by_kind["cancel"].data["decided_on"]
        last = ledger.history(code)[-1]
        assert last.patch["set"]["status"] == "cancelled"
        assert last.role == "approval_bureau"
