"""Case administration: correct a field, cancel, reopen and reassign, each an admin's history
row with a reason, each replayed and verified."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import FakeClock
from engine.errors import (
    CaseNotFound,
    Forbidden,
    InvalidInput,
    Refused,
    StaleVersion,
    TriggerNotAllowed,
)
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.tables import cases as cases_table
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "admin" / "casework.yaml"
CHIPING = Actor("茌平区分局", "county_eeb", "chiping")
LINQING = Actor("临清市分局", "county_eeb", "linqing")
WHY = "申请人来函更正"


@pytest.fixture
def case_id(engine: Engine) -> int:
    engine.load([FIXTURE])
    data = {"county": "chiping", "amount": 5, "informant": "张三"}
    return engine.create_case("admin_casework", data, CHIPING, subject="OF-1").id


def _replays(engine: Engine, case_id: int) -> None:
    row, result = engine.replay(case_id)
    assert result.problems == []
    assert result.matches(row)
    assert engine.verify_audit() == []


def test_correct_a_field_with_a_reason(engine: Engine, case_id: int, admin: Actor) -> None:
    view = engine.correct(case_id, "amount", 7, admin, WHY, expected_version=1)
    assert view.data["amount"] == 7
    last = engine.history(case_id)[-1]
    assert (last.kind, last.actor, last.payload["reason"]) == ("corrected", admin.name, WHY)
    assert last.patch == {"set": {"amount": 7}}
    # A handler-owned field may be corrected by an admin too; the schema still applies.
    assert engine.correct(case_id, "score", 80, admin, WHY).data["score"] == 80
    with pytest.raises(InvalidInput) as bad:
        engine.correct(case_id, "amount", -1, admin, WHY)
    assert bad.value.errors[0].json_path == "$.amount"
    _replays(engine, case_id)


def test_a_corrected_confidential_field_stays_sealed(
    engine: Engine, case_id: int, admin: Actor
) -> None:
    engine.correct(case_id, "informant", "李四", admin, WHY)
    with engine.store.read() as tx:
        stored = tx.conn.execute(cases_table.select().where(cases_table.c.id == case_id)).one()
    assert "李四" not in str(stored.data)
    assert engine.get_case(case_id).data["informant"] == "李四"
    assert "李四" not in str(engine.history(case_id, CHIPING)[-1].patch)  # not a reader
    _replays(engine, case_id)


def test_a_corrected_date_moves_its_timer(engine: Engine, case_id: int, admin: Actor) -> None:
    engine.correct(case_id, "visit_on", "2024-03-10", admin, WHY)
    engine.fire(case_id, "visit", CHIPING)
    engine.correct(case_id, "visit_on", "2024-03-20", admin, WHY)
    [timer] = engine.get_case(case_id).timers
    assert (timer.name, timer.due_at.date().isoformat()) == ("on_site", "2024-03-20")
    assert engine.history(case_id)[-1].kind == "timer_moved"
    _replays(engine, case_id)


def test_refusals(engine: Engine, case_id: int, admin: Actor) -> None:
    with pytest.raises(Forbidden):
        engine.correct(case_id, "amount", 1, CHIPING, WHY)
    with pytest.raises(InvalidInput) as no_reason:
        engine.cancel(case_id, admin, "  ")
    assert no_reason.value.errors[0].json_path == "$.reason"
    with pytest.raises(InvalidInput):
        engine.correct(case_id, "county", "linqing", admin, WHY)  # reassign does that
    with pytest.raises(InvalidInput):
        engine.correct(case_id, "nonsense", 1, admin, WHY)
    with pytest.raises(StaleVersion):
        engine.cancel(case_id, admin, WHY, expected_version=9)
    with pytest.raises(Refused):
        engine.reopen(case_id, "open", admin, WHY)  # it is open


def test_cancel_then_reopen(engine: Engine, case_id: int, admin: Actor, clock: FakeClock) -> None:
    view = engine.cancel(case_id, admin, WHY)
    assert (view.case.is_open, view.state, view.final, view.timers) == (False, "open", False, [])
    assert engine.list_cases(CHIPING, is_open=True) == []
    with pytest.raises(TriggerNotAllowed) as closed:
        engine.fire(case_id, "visit", CHIPING)
    assert "cancelled" in str(closed.value)
    clock.advance(timedelta(days=1))
    with pytest.raises(InvalidInput):
        engine.reopen(case_id, "done", admin, WHY)  # a final state
    view = engine.reopen(case_id, "open", admin, WHY)
    assert view.case.is_open
    [chase] = view.timers
    assert chase.due_at == clock.now() + timedelta(days=3)
    last = engine.history(case_id)[-1]
    assert (last.kind, last.from_state, last.to_state) == ("reopened", "open", "open")
    engine.fire(case_id, "finish", CHIPING)
    assert engine.reopen(case_id, "visiting", admin, WHY).state == "visiting"  # a closed one
    _replays(engine, case_id)


def test_reassign_moves_the_case_and_its_scope(engine: Engine, case_id: int, admin: Actor) -> None:
    with pytest.raises(InvalidInput):
        engine.reassign(case_id, "atlantis", admin, WHY)
    view = engine.reassign(case_id, "linqing", admin, WHY)
    assert (view.case.jurisdiction, view.data["county"]) == ("linqing", "linqing")
    assert engine.get_case(case_id, LINQING).id == case_id
    with pytest.raises(CaseNotFound):
        engine.get_case(case_id, CHIPING)
    engine.fire(case_id, "visit", LINQING)
    last = engine.history(case_id)[-2]
    assert (last.kind, last.payload["from"], last.payload["to"]) == (
        "reassigned",
        "chiping",
        "linqing",
    )
    _replays(engine, case_id)
