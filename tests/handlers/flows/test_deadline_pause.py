"""A 20-working-day statutory review limit that stops while the applicant corrects the file or
experts review it, and resumes with the remaining working days; every pause and resume is a
history row in the transition's transaction, and the case shows the time left."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings
from engine.time.sweep import sweep
from tests.timekit import end_of, live, sh, timer_engine

APPLICANT = Actor("企业", "applicant")
BUREAU = Actor("审批局", "bureau")


def test_review_limit_pauses_and_resumes_with_the_remaining_working_days(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2024, 9, 2, 10))  # Monday
    engine = timer_engine(settings, clock)
    case = engine.create_case("permit_limit", {}, APPLICANT)
    assert live(engine, case.id) == []  # the limit starts when the application is accepted

    engine.fire(case.id, "accept", BUREAU)
    (limit,) = live(engine, case.id)
    # 09-03..06, 09-09..13, 09-14 (Saturday worked), 09-15..17 off (Mid-Autumn), 09-18..20,
    # 09-23..27, 09-29 (Sunday worked), 09-30: twenty working days
    assert limit.due_at == end_of(2024, 9, 30)
    assert limit.deadline == "review_limit"

    clock.set(sh(2024, 9, 6, 15))
    engine.fire(case.id, "start_review", BUREAU)
    view = engine.fire(case.id, "request_correction", BUREAU)
    (paused,) = view.timers
    assert paused.status == "paused"
    assert paused.remaining_working_days == 16  # 09-03..06 used
    event = engine.history(case.id)[-1]
    assert event.kind == "deadline_paused"
    assert event.to_state is None
    assert event.payload["remaining_working_days"] == 16
    assert event.actor == BUREAU.name
    assert view.version == event.seq

    clock.set(sh(2024, 10, 1, 9))  # the original due time has passed while paused
    assert sweep(engine).firings == []

    clock.set(sh(2024, 10, 8, 9))
    engine.fire(case.id, "resubmit", APPLICANT)
    (resumed,) = live(engine, case.id)
    # 16 working days from 10-08: 10-09..11, 10-12 (Saturday worked), 10-14..18, 10-21..25,
    # 10-28, 10-29
    assert resumed.status == "pending"
    assert resumed.due_at == end_of(2024, 10, 29)
    event = engine.history(case.id)[-1]
    assert event.kind == "deadline_resumed"
    assert event.payload["remaining_working_days"] == 16

    clock.set(sh(2024, 10, 15, 16))
    engine.fire(case.id, "send_to_experts", BUREAU)
    preview = engine.timers_preview(case.id)
    (shown,) = preview.live
    assert shown["status"] == "paused"
    assert shown["remaining_working_days"] == 10
    (if_now,) = preview.if_armed_now
    assert if_now.kind == "deadline"
    assert if_now.due_at == end_of(2024, 10, 29)

    clock.set(sh(2024, 10, 21, 9))
    engine.fire(case.id, "experts_done", BUREAU)
    (resumed,) = live(engine, case.id)
    assert resumed.due_at == end_of(2024, 11, 4)  # 10-22..25, 10-28..31, 11-01, 11-04

    clock.set(sh(2024, 11, 4, 18))
    assert sweep(engine).firings == []
    clock.set(sh(2024, 11, 5, 0, 1))
    (firing,) = sweep(engine).firings
    assert firing.outcome == "fired"
    assert firing.state == "timed_out"
    kinds = [(e.kind, e.trigger) for e in engine.history(case.id)]
    assert kinds == [
        ("created", None),
        ("transition", "accept"),
        ("transition", "start_review"),
        ("transition", "request_correction"),
        ("deadline_paused", None),
        ("transition", "resubmit"),
        ("deadline_resumed", None),
        ("transition", "send_to_experts"),
        ("deadline_paused", None),
        ("transition", "experts_done"),
        ("deadline_resumed", None),
        ("transition", "time_out"),
    ]
    row, replayed = engine.replay(case.id)
    assert replayed.matches(row)
    assert engine.verify_audit() == []


def test_deciding_in_time_disarms_the_limit(settings: Settings) -> None:
    clock = FakeClock(sh(2024, 9, 2, 10))
    engine = timer_engine(settings, clock)
    case = engine.create_case("permit_limit", {}, APPLICANT)
    for trigger in ("accept", "start_review", "approve"):
        clock.advance(timedelta(days=1))
        engine.fire(case.id, trigger, BUREAU)
    assert engine.get_case(case.id).state == "approved"
    assert live(engine, case.id) == []
    clock.advance(timedelta(days=60))
    assert sweep(engine).firings == []


def test_a_deadline_is_armed_once_even_when_its_start_state_is_entered_again(
    settings: Settings,
) -> None:
    clock = FakeClock(sh(2024, 9, 2, 10))
    engine = timer_engine(settings, clock)
    case = engine.create_case("permit_limit", {}, APPLICANT)
    engine.fire(case.id, "accept", BUREAU)
    clock.advance(timedelta(days=1))
    engine.fire(case.id, "request_correction", BUREAU)
    clock.advance(timedelta(days=1))
    engine.fire(case.id, "resubmit", APPLICANT)
    with engine.store.read() as tx:
        rows = tx.deadline_timers(case.id, "review_limit")
    assert len(rows) == 1
    assert rows[0].status == "pending"
