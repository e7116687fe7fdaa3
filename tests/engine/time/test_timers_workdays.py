"""Working-day timers through a workflow: Spring Festival and National Day, adjusted weekend
working days (调休) counted, holidays skipped; timers cancelled on leaving their state."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings
from engine.time.sweep import sweep
from tests.timekit import end_of, live, run_until, sh, timer_engine, timers_of


def _escalate_due(
    settings: Settings, clock: FakeClock, deadline: str
) -> list[tuple[str | None, datetime | None]]:
    """Run a ladder case whose rectification deadline is ``deadline`` until it reaches the
    interview rung; the due time of each escalation, in order."""
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": deadline}, Actor("t", "admin"))
    run_until(engine, clock, clock.now() + timedelta(days=40), timedelta(hours=6))
    events = [e for e in engine.history(case.id) if e.trigger in ("overdue", "escalate")]
    return [(e.to_state, e.due_at) for e in events]


def test_spring_festival_2024_skips_the_holiday_and_counts_the_adjusted_sunday(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2024, 2, 1, 9))
    rungs = _escalate_due(settings, clock, "2024-02-07")
    assert rungs[0] == ("notice", end_of(2024, 2, 7))
    # notice from the end of 02-07 (00:00 02-08): 02-08, 02-09 (除夕, a working day in
    # 2024), 02-10..17 off, 02-18 (Sunday, adjusted working day), 02-19, 02-20
    assert rungs[1] == ("warning", end_of(2024, 2, 20))
    # warning from the end of 02-20: 02-21, 02-22, 02-23, 02-26, 02-27
    assert rungs[2] == ("interview", end_of(2024, 2, 27))


def test_national_day_2024_counts_the_adjusted_sunday_and_saturday(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2024, 9, 20, 9))
    rungs = _escalate_due(settings, clock, "2024-09-26")
    assert rungs[0] == ("notice", end_of(2024, 9, 26))
    # from the end of 09-26: 09-27, 09-28 Sat off, 09-29 Sunday worked, 09-30,
    # 10-01..07 off, 10-08, 10-09
    assert rungs[1] == ("warning", end_of(2024, 10, 9))
    # from the end of 10-09: 10-10, 10-11, 10-12 Saturday worked, 10-14, 10-15
    assert rungs[2] == ("interview", end_of(2024, 10, 15))


def test_spring_festival_2025_adjusted_saturday_counts_from_a_daytime_transition(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2025, 1, 20, 9))
    engine = timer_engine(settings, clock)
    admin = Actor("t", "admin")
    case = engine.create_case("ladder", {"deadline": "2025-03-31"}, admin)
    clock.set(sh(2025, 2, 7, 10))  # Friday; 02-08 is a Saturday worked (调休)
    engine.fire(case.id, "overdue", admin)
    escalate = next(t for t in live(engine, case.id) if t.trigger == "escalate")
    # 02-08 Sat worked, 02-10, 02-11, 02-12, 02-13
    assert escalate.due_at == end_of(2025, 2, 13)
    assert escalate.provisional is False

    clock.set(sh(2025, 1, 23, 15))
    other = engine.create_case("ladder", {"deadline": "2025-03-31"}, admin)
    engine.fire(other.id, "overdue", admin)
    escalate = next(t for t in live(engine, other.id) if t.trigger == "escalate")
    # 01-24 Fri, 01-25 Sat off, 01-26 Sunday worked, 01-27, 01-28..02-04 off, 02-05, 02-06
    assert escalate.due_at == end_of(2025, 2, 6)


def test_leaving_a_state_cancels_its_timers_in_the_same_transaction(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    admin = Actor("t", "admin")
    case = engine.create_case("ladder", {"deadline": "2024-03-08"}, admin)
    assert {t.trigger for t in live(engine, case.id)} == {"overdue", "remind"}
    done = engine.fire(case.id, "complete", admin)
    assert done.state == "closed"
    assert live(engine, case.id) == []
    assert {t.status for t in timers_of(engine, case.id)} == {"cancelled"}
    clock.advance(timedelta(days=60))
    assert sweep(engine).firings == []
    assert [e.kind for e in engine.history(case.id)] == ["created", "transition"]


def test_a_timer_driven_move_cancels_the_old_state_timers(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-03-01"}, Actor("t", "admin"))
    run_until(engine, clock, sh(2024, 3, 2, 1), timedelta(hours=1))
    assert engine.get_case(case.id).state == "notice"
    states = {t.state for t in live(engine, case.id)}
    assert states == {"notice"}
    reminders = [t for t in timers_of(engine, case.id) if t.name == "daily_reminder"]
    assert [t.status for t in reminders] == ["cancelled"]
