"""Due times in years the calendar does not cover yet are provisional (Monday-Friday guesses),
marked on the timer and in the history, and recomputed with a history row once the calendar
gains the year."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from engine.time.calendar import WorkingCalendar, YearSchedule
from engine.time.recompute import horizon, recompute_provisional
from engine.time.sweep import sweep
from tests.timekit import end_of, live, sh, timer_engine

ADMIN = Actor("t", "admin")
# An administrator's 2027 schedule (illustrative, not the State Council's): New Year 01-01..03.
SCHEDULE_2027 = YearSchedule(
    holidays=[date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)],
    workdays=[date(2027, 1, 9)],
)


def _year_end_case(settings: Settings, clock: FakeClock) -> tuple[Engine, int]:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2026-12-28"}, ADMIN)
    clock.set(sh(2026, 12, 29, 0, 1))
    sweep(engine)
    assert engine.get_case(case.id).state == "notice"
    return engine, case.id


def test_a_due_time_in_an_uncovered_year_is_provisional_and_says_so(settings: Settings) -> None:
    clock = FakeClock(sh(2026, 12, 20, 9))
    engine, case_id = _year_end_case(settings, clock)
    escalate = next(t for t in live(engine, case_id) if t.trigger == "escalate")
    # from the end of 12-28: 12-29, 12-30, 12-31, 2027-01-01 (a Friday: a working day as
    # far as anyone knows), 01-04
    assert escalate.provisional is True
    assert escalate.due_at == end_of(2027, 1, 4)
    overdue = next(e for e in engine.history(case_id) if e.trigger == "overdue")
    assert overdue.payload["_provisional"] == [
        {"timer": escalate.name, "due_at": escalate.due_at.isoformat()}
    ]
    shown = next(t for t in engine.get_case(case_id).to_json()["timers"] if t["id"] == escalate.id)
    assert shown["provisional"] is True
    with engine.store.read() as tx:
        assert [t.id for t in tx.provisional_timers()] == [escalate.id]
    # the calendar has not changed: nothing to recompute, however often it is asked
    assert recompute_provisional(engine) == []
    assert engine.history(case_id)[-1].trigger == "overdue"


def test_the_calendar_gaining_the_year_recomputes_with_a_history_row(settings: Settings) -> None:
    clock = FakeClock(sh(2026, 12, 20, 9))
    first, case_id = _year_end_case(settings, clock)
    (provisional,) = [t for t in live(first, case_id) if t.provisional]

    calendar = WorkingCalendar(years={2027: SCHEDULE_2027})
    assert horizon(calendar) > horizon(first.planner.calendar)
    updated = Engine(first.store, first.catalog.registry, clock=clock, calendar=calendar)
    clock.advance(timedelta(hours=1))
    result = sweep(updated)  # the sweep recomputes first, cheaply
    (recomputed,) = result.recomputed
    assert recomputed.timer_id == provisional.id
    assert recomputed.old_due_at == end_of(2027, 1, 4)
    # 12-29, 12-30, 12-31, 01-01..03 off, 01-04, 01-05
    assert recomputed.due_at == end_of(2027, 1, 5)
    (now_settled,) = [t for t in live(updated, case_id) if t.id == provisional.id]
    assert now_settled.provisional is False
    assert now_settled.due_at == end_of(2027, 1, 5)
    event = updated.history(case_id)[-1]
    assert event.kind == "timer_recomputed"
    assert event.actor == "system"
    assert datetime.fromisoformat(event.payload["old_due_at"]) == end_of(2027, 1, 4)
    assert datetime.fromisoformat(event.payload["due_at"]) == end_of(2027, 1, 5)
    assert recompute_provisional(updated) == []  # settled once
    row, replayed = updated.replay(case_id)
    assert replayed.matches(row)
    assert updated.verify_audit() == []

    clock.set(end_of(2027, 1, 4) + timedelta(hours=9))
    assert all(f.trigger != "escalate" for f in sweep(updated).firings)
    clock.set(end_of(2027, 1, 5) + timedelta(hours=9))
    assert any(f.trigger == "escalate" for f in sweep(updated).firings)
    assert updated.get_case(case_id).state == "warning"
