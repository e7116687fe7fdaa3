"""Timers and deadlines dated by a data field (``at: {data: field}``) follow that field: a
transition that changes it moves the live timer (or cancels it when the field is emptied), in
the same transaction, with a ``timer_moved`` history row; replay and the audit accept it."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from engine.clock import FakeClock
from engine.errors import InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.store.repository import TimerRow
from engine.time.sweep import sweep
from tests.conftest import ROOT, START
from tests.timekit import end_of, live, timers_of

CLERK = Actor("经办人", "clerk")
FIXTURE = ROOT / "tests" / "fixtures" / "dated" / "dated.yaml"


@pytest.fixture
def dated(settings: Settings, clock: FakeClock) -> Engine:
    engine = build_engine(settings, clock=clock)
    engine.load([FIXTURE])
    return engine


def _working(engine: Engine, **dates: str) -> int:
    case = engine.create_case("dated", {}, CLERK)
    engine.fire(case.id, "start", CLERK, {"due": "2024-06-30", **dates})
    return case.id


def _limit(engine: Engine, case_id: int) -> list[TimerRow]:
    return [t for t in live(engine, case_id) if t.deadline == "limit"]


def _sound(engine: Engine, case_id: int) -> None:
    row, replayed = engine.replay(case_id)
    assert replayed.matches(row), replayed.problems
    assert engine.verify_audit() == []


def test_an_extended_date_moves_the_pending_deadline(dated: Engine, clock: FakeClock) -> None:
    case_id = _working(dated)
    (armed,) = _limit(dated, case_id)
    assert armed.due_at == end_of(2024, 6, 30)
    dated.fire(case_id, "set_dates", CLERK, {"due": "2024-09-30"})
    (moved,) = _limit(dated, case_id)
    assert moved.id == armed.id
    assert moved.due_at == end_of(2024, 9, 30)
    note = dated.history(case_id)[-1]
    assert note.kind == "timer_moved"
    assert note.to_state is None
    assert note.patch == {}
    assert note.payload == {
        "timer": armed.id,
        "name": "limit",
        "deadline": "limit",
        "field": "due",
        "old_due_at": end_of(2024, 6, 30).astimezone(UTC).isoformat(),
        "due_at": end_of(2024, 9, 30).astimezone(UTC).isoformat(),
    }
    clock.set(end_of(2024, 7, 1))  # past the old date: nothing fires
    assert sweep(dated).firings == []
    clock.set(end_of(2024, 9, 30) + timedelta(minutes=1))
    (firing,) = sweep(dated).firings
    assert (firing.trigger, firing.due_at, firing.outcome) == ("overdue", moved.due_at, "fired")
    _sound(dated, case_id)


def test_a_shortened_date_moves_it_earlier_and_a_state_timer_moves_alike(dated: Engine) -> None:
    case_id = _working(dated, remind_on="2024-05-01")
    dated.fire(case_id, "set_dates", CLERK, {"due": "2024-04-15", "remind_on": "2024-04-01"})
    due = {t.name: t.due_at for t in live(dated, case_id)}
    assert due == {"limit": end_of(2024, 4, 15), "reminder": end_of(2024, 4, 1)}
    notes = [e for e in dated.history(case_id) if e.kind == "timer_moved"]
    assert sorted(n.payload["name"] for n in notes) == ["limit", "reminder"]
    assert {n.payload["name"]: n.payload["field"] for n in notes} == {
        "limit": "due",
        "reminder": "remind_on",
    }
    _sound(dated, case_id)


def test_timers_armed_by_the_same_transition_are_not_moved(dated: Engine) -> None:
    case_id = _working(dated, remind_on="2024-05-01")
    kinds = [e.kind for e in dated.history(case_id)]
    assert kinds == ["created", "transition"]
    assert {t.name: t.due_at for t in live(dated, case_id)} == {
        "limit": end_of(2024, 6, 30),
        "reminder": end_of(2024, 5, 1),
    }


def test_a_change_to_other_data_moves_nothing(dated: Engine) -> None:
    case_id = _working(dated)
    before = live(dated, case_id)
    view = dated.fire(case_id, "set_dates", CLERK, {"note": "材料已补"})
    assert live(dated, case_id) == before
    assert dated.history(case_id)[-1].kind == "transition"
    assert view.version == 3


def test_an_emptied_field_cancels_the_timer(dated: Engine, clock: FakeClock) -> None:
    case_id = _working(dated)
    (armed,) = _limit(dated, case_id)
    dated.fire(case_id, "set_dates", CLERK, {"due": None})  # a date field is cleared with null
    assert _limit(dated, case_id) == []
    (row,) = [t for t in timers_of(dated, case_id) if t.id == armed.id]
    assert row.status == "cancelled"
    note = dated.history(case_id)[-1]
    assert note.kind == "timer_moved"
    assert note.payload["due_at"] is None
    assert note.payload["cancelled"] is True
    clock.set(end_of(2024, 7, 1))
    assert sweep(dated).firings == []
    _sound(dated, case_id)


def test_a_paused_deadline_keeps_the_shift_for_when_it_resumes(
    dated: Engine, clock: FakeClock
) -> None:
    case_id = _working(dated)
    clock.set(START + timedelta(days=10))
    dated.fire(case_id, "hold", CLERK)
    (paused,) = _limit(dated, case_id)
    assert paused.status == "paused"
    left = paused.remaining_seconds
    assert left == int((end_of(2024, 6, 30) - clock.now()).total_seconds())
    dated.fire(case_id, "set_dates", CLERK, {"due": "2024-07-10"})  # ten days more
    (moved,) = _limit(dated, case_id)
    assert moved.status == "paused"
    assert moved.remaining_seconds == left + 10 * 86400
    assert dated.history(case_id)[-1].payload["remaining_seconds"] == left + 10 * 86400
    clock.advance(timedelta(days=5))
    dated.fire(case_id, "resume", CLERK)
    (resumed,) = _limit(dated, case_id)
    assert resumed.status == "pending"
    assert resumed.due_at == clock.now() + timedelta(seconds=left + 10 * 86400)
    _sound(dated, case_id)


@pytest.mark.parametrize("value", ["2026/12/31", "31.12.2026", "2026-02-30"])
def test_a_date_in_the_wrong_form_is_refused_at_input_not_at_arming(
    dated: Engine, value: str
) -> None:
    case_id = _working(dated)
    with pytest.raises(InvalidInput) as info:
        dated.fire(case_id, "set_dates", CLERK, {"due": value})
    assert info.value.extensions()["errors"] == [
        {"in": "body", "json_path": "$.payload.due", "message": f"{value!r} is not a 'date'"}
    ]
    with pytest.raises(InvalidInput) as info:
        dated.create_case("dated", {"remind_on": value}, CLERK)
    assert [e["json_path"] for e in info.value.extensions()["errors"]] == ["$.data.remind_on"]
    assert [t.due_at for t in _limit(dated, case_id)] == [end_of(2024, 6, 30)]
