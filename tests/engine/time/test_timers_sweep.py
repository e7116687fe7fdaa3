"""The sweep: repeating reminders, catch-up policies, late marks, skipped firings (guard false,
closed case, a failing handler) and the deadline preview."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.clock import FakeClock
from engine.handlers import Actor, Context, Registry
from engine.runtime import Engine
from engine.settings import Settings, build_engine
from engine.time.sweep import sweep
from tests.conftest import START
from tests.timekit import end_of, live, run_until, timer_engine, timers_of

ADMIN = Actor("t", "admin")


def _supervised(engine: Engine) -> int:
    """A ladder case moved by hand up to the supervised-listing rung (weekly reminders)."""
    case = engine.create_case("ladder", {"deadline": "2024-12-31"}, ADMIN)
    for trigger in ("overdue", "escalate", "escalate", "escalate"):
        engine.fire(case.id, trigger, ADMIN)
    assert engine.get_case(case.id).state == "supervised_listing"
    return case.id


def test_daily_reminder_repeats_counted_from_each_due_time(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-12-31"}, ADMIN)
    firings = run_until(engine, clock, START + timedelta(days=3, hours=5), timedelta(hours=2))
    assert [f.due_at for f in firings] == [START + timedelta(days=n) for n in (1, 2, 3)]
    assert all(f.outcome == "fired" and not f.late for f in firings)
    reminders = [e for e in engine.history(case.id) if e.trigger == "remind"]
    assert len(reminders) == 3
    assert [e.due_at for e in reminders] == [START + timedelta(days=n) for n in (1, 2, 3)]
    assert all(e.to_state == "rectifying" for e in reminders)
    assert reminders[0].payload["_timer"]["late"] is False
    nxt = [t for t in live(engine, case.id) if t.name == "daily_reminder"]
    assert [t.due_at for t in nxt] == [START + timedelta(days=4)]


def test_catch_up_skip_fires_once_and_keeps_the_rhythm(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-12-31"}, ADMIN)
    clock.set(START + timedelta(days=7, hours=5))  # a week's outage
    result = sweep(engine)
    assert result.count("fired") == 1
    (firing,) = result.firings
    assert firing.late
    assert firing.due_at == START + timedelta(days=1)
    event = engine.history(case.id)[-1]
    assert event.trigger == "remind"
    assert event.due_at == START + timedelta(days=1)
    assert event.at == clock.now()
    assert event.payload["_timer"]["late"] is True
    assert event.payload["_timer"]["late_seconds"] == int(
        timedelta(days=6, hours=5).total_seconds()
    )
    (nxt,) = [t for t in live(engine, case.id) if t.name == "daily_reminder"]
    assert nxt.due_at == START + timedelta(days=8)  # the first occurrence after now
    assert sweep(engine).firings == []


def test_catch_up_fire_fires_every_missed_period_late(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    case_id = _supervised(engine)
    entered = clock.now()
    clock.advance(timedelta(weeks=3, minutes=2))  # the third is within the 5-minute tolerance
    result = sweep(engine)
    assert [f.due_at for f in result.firings] == [entered + timedelta(weeks=n) for n in (1, 2, 3)]
    assert [f.late for f in result.firings] == [True, True, False]
    (nxt,) = live(engine, case_id)
    assert nxt.due_at == entered + timedelta(weeks=4)
    reminders = [e for e in engine.history(case_id) if e.trigger == "remind"]
    assert [e.payload["_timer"]["late"] for e in reminders] == [True, True, False]


def test_guard_false_is_a_skipped_firing_with_its_reason(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-12-31"}, ADMIN)
    engine.fire(case.id, "overdue", ADMIN)  # notice: auto_close after 2 days unless verified
    other = engine.create_case("ladder", {"deadline": "2024-03-02"}, ADMIN)
    version = engine.get_case(case.id).version
    clock.advance(timedelta(days=2, hours=1))
    result = sweep(engine)
    skipped = [f for f in result.firings if f.outcome == "skipped"]
    assert [(f.case_id, f.trigger) for f in skipped] == [(case.id, "auto_close")]
    assert "when" in skipped[0].reason
    # the sweep went on with the other case's timers
    assert engine.get_case(other.id).state == "notice"
    view = engine.get_case(case.id)
    assert view.state == "notice"
    assert view.version == version + 1
    event = engine.history(case.id)[-1]
    assert event.kind == "timer_skipped"
    assert event.to_state is None
    assert event.actor == "system"
    assert event.due_at is not None
    assert event.payload["trigger"] == "auto_close"
    assert "when" in event.payload["reason"]
    (timer,) = [t for t in timers_of(engine, case.id) if t.name == "verify_check"]
    assert timer.status == "skipped"
    assert timer.fired_at == clock.now()
    row, replayed = engine.replay(case.id)
    assert replayed.matches(row)
    assert engine.verify_audit() == []
    assert not any(f.case_id == case.id for f in sweep(engine).firings)  # never retried


def test_verified_case_closes_by_timer(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-12-31", "verified": True}, ADMIN)
    engine.fire(case.id, "overdue", ADMIN)
    clock.advance(timedelta(days=2, hours=1))
    sweep(engine)
    assert engine.get_case(case.id).state == "closed"
    assert live(engine, case.id) == []


def test_deadline_of_a_closed_case_is_skipped(settings: Settings, clock: FakeClock) -> None:
    engine = timer_engine(settings, clock)
    applicant = Actor("a", "applicant")
    case = engine.create_case("permit_limit", {}, applicant)
    engine.fire(case.id, "accept", Actor("b", "bureau"))
    engine.fire(case.id, "withdraw", applicant)  # withdrawn is final but not in runs_until
    (deadline,) = live(engine, case.id)
    clock.set(deadline.due_at + timedelta(hours=1))
    (firing,) = sweep(engine).firings
    assert firing.outcome == "skipped"
    assert "closed" in firing.reason
    assert engine.history(case.id)[-1].kind == "timer_skipped"
    assert engine.get_case(case.id).state == "withdrawn"
    assert live(engine, case.id) == []


EXPLODING = """
name: exploding
title: 出错的动作
roles: [clerk]
initial: waiting
states:
  waiting: {title: 等待}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: waiting, dest: done, actions: [record_then_fail]}
  - {trigger: cancel, source: waiting, dest: done, roles: [clerk]}
timers:
  waiting:
    - {fires: finish, after: 1 days}
"""


def test_a_failing_handler_is_rolled_back_and_recorded_as_skipped(
    settings: Settings, clock: FakeClock
) -> None:
    registry = Registry()

    @registry.action("record_then_fail")
    def record_then_fail(ctx: Context) -> None:
        ctx.ops.put_subject("note", "written", {"by": "action"})
        raise RuntimeError("the archive is offline")

    plain = build_engine(settings, clock=clock)
    engine = Engine(plain.store, registry, clock=clock, calendar=plain.planner.calendar)
    engine.publish(EXPLODING)
    case = engine.create_case("exploding", {}, ADMIN)
    clock.advance(timedelta(days=1, minutes=1))
    (firing,) = sweep(engine).firings
    assert firing.outcome == "skipped"
    assert "record_then_fail" in firing.reason
    assert "archive is offline" in firing.reason
    with engine.store.read() as tx:
        assert tx.get_subject("note", "written") is None  # the action's write rolled back
    view = engine.get_case(case.id)
    assert view.state == "waiting"
    assert view.version == 2
    assert [e.kind for e in engine.history(case.id)] == ["created", "timer_skipped"]
    assert sweep(engine).firings == []
    engine.store.dispose()


def test_preview_lists_pending_timers_and_when_state_timers_would_fall(
    settings: Settings, clock: FakeClock
) -> None:
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-03-08"}, ADMIN)
    clock.advance(timedelta(hours=5))
    preview = engine.timers_preview(case.id, ADMIN)
    assert preview.state == "rectifying"
    assert preview.now == clock.now()
    pending = {t["name"]: t for t in preview.live}
    assert pending["daily_reminder"]["due_at"] == (START + timedelta(days=1)).isoformat()
    assert pending["daily_reminder"]["remaining_seconds"] == 19 * 3600
    armed = {i.name: i for i in preview.if_armed_now}
    assert armed["daily_reminder"].due_at == clock.now() + timedelta(days=1)
    assert armed["daily_reminder"].repeats == "1 days"
    assert armed["rectifying_0_overdue"].due_at == end_of(2024, 3, 8)
    as_json = preview.to_json()
    assert as_json["state"] == "rectifying"
    assert len(as_json["pending"]) == 2

    engine.fire(case.id, "overdue", ADMIN)
    preview = engine.timers_preview(case.id)
    escalate = next(t for t in preview.live if t["trigger"] == "escalate")
    # notice entered Friday 03-01 14:00 local: 03-04 .. 03-08, five working days left
    assert datetime.fromisoformat(escalate["due_at"]) == end_of(2024, 3, 8)
    assert escalate["remaining_working_days"] == 5
