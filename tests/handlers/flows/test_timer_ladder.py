"""An overdue rectification climbs the escalation ladder 通报 notice -> 预警 warning ->
约谈 interview -> 挂牌督办 supervised listing on schedule. After a 30-day scheduler outage,
the catch-up lands the case exactly where an uninterrupted scheduler would have (compared
across two databases)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.settings import Settings
from engine.time.sweep import sweep
from tests.timekit import end_of, live, run_until, sh, timer_engine

ADMIN = Actor("t", "admin")
CREATED = sh(2024, 3, 1, 9)
END = sh(2024, 5, 1, 9)

# deadline 03-08 -> notice at the end of 03-08; 5 working days from 03-09 (Sat): 03-11..03-15;
# from 03-16 (Sat): 03-18..03-22; 10 working days from 03-23 (Sat): 03-25..29, 04-01..03,
# 04-04..06 off (Qingming), 04-07 (Sunday worked), 04-08.
LADDER = [
    ("overdue", "notice", end_of(2024, 3, 8)),
    ("escalate", "warning", end_of(2024, 3, 15)),
    ("escalate", "interview", end_of(2024, 3, 22)),
    ("escalate", "supervised_listing", end_of(2024, 4, 8)),
]


def _climbs(engine: Engine, case_id: int) -> list[tuple[Any, ...]]:
    return [
        (e.trigger, e.to_state, e.due_at)
        for e in engine.history(case_id)
        if e.trigger in ("overdue", "escalate")
    ]


def _outcome(engine: Engine, case_id: int) -> dict[str, Any]:
    """What must not depend on when the scheduler ran."""
    view = engine.get_case(case_id)
    events = engine.history(case_id)
    return {
        "state": view.state,
        "data": view.data,
        "climbs": _climbs(engine, case_id),
        "skipped": [(e.payload["name"], e.due_at) for e in events if e.kind == "timer_skipped"],
        "weekly": [
            e.due_at for e in events if e.trigger == "remind" and e.to_state != "rectifying"
        ],
        "pending": [(t.name, t.due_at, t.provisional) for t in live(engine, case_id)],
    }


def test_ladder_climbs_one_rung_per_period_each_rung_in_the_history(
    settings: Settings,
) -> None:
    clock = FakeClock(CREATED)
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"unit": "东昌府区", "deadline": "2024-03-08"}, ADMIN)
    states = []
    for _ in range(45):
        clock.advance(timedelta(days=1))
        sweep(engine)
        states.append(engine.get_case(case.id).state)
    assert _climbs(engine, case.id) == LADDER
    # each rung is held for its period: the case was in notice for 7 days, warning for 7
    assert states.count("notice") == 7
    assert states.count("warning") == 7
    rungs = [e for e in engine.history(case.id) if e.trigger == "escalate"]
    assert [e.payload["rung"] for e in rungs] == ["预警", "约谈", "挂牌督办"]
    assert all(e.actor == "system" and e.role == "system" for e in rungs)
    # chained rungs count from the previous rung's due time, not from the sweep (09:00)
    (weekly,) = live(engine, case.id)
    assert weekly.due_at == end_of(2024, 4, 8) + timedelta(weeks=1)
    assert engine.verify_audit() == []


def test_catch_up_after_30_day_outage_matches_an_uninterrupted_run(
    settings: Settings, second_database_url: str
) -> None:
    steady_clock = FakeClock(CREATED)
    steady = timer_engine(settings, steady_clock)
    outage_clock = FakeClock(CREATED)
    outage = timer_engine(settings, outage_clock, url=second_database_url)
    data = {"unit": "茌平区", "deadline": "2024-03-08"}
    steady_case = steady.create_case("ladder", data, ADMIN).id
    outage_case = outage.create_case("ladder", data, ADMIN).id

    run_until(steady, steady_clock, END, timedelta(hours=3))

    run_until(outage, outage_clock, CREATED + timedelta(hours=3), timedelta(hours=3))
    outage_clock.set(CREATED + timedelta(days=30, hours=3))  # the scheduler was down 30 days
    catch_up = sweep(outage)
    assert [f.outcome for f in catch_up.firings] == [
        "fired",  # the daily reminder, once (catch_up: skip)
        "fired",  # overdue
        "skipped",  # verify_check: auto_close refused (not verified)
        "fired",  # escalate -> warning
        "fired",  # escalate -> interview
    ]
    assert all(f.late for f in catch_up.firings)
    assert outage.get_case(outage_case).state == "interview"
    run_until(outage, outage_clock, END, timedelta(hours=3))

    expected = _outcome(steady, steady_case)
    assert expected["climbs"] == LADDER
    assert expected["state"] == "supervised_listing"
    assert len(expected["weekly"]) == 3
    assert _outcome(outage, outage_case) == expected
    # the steady run reminded daily; the catch-up reminded once for the outage
    daily = [e for e in steady.history(steady_case) if e.to_state == "rectifying" and e.trigger]
    late_daily = [
        e for e in outage.history(outage_case) if e.to_state == "rectifying" and e.trigger
    ]
    assert len(daily) == 7
    assert len(late_daily) == 1
    for engine in (steady, outage):
        assert engine.verify_audit() == []
        row, replayed = engine.replay(steady_case if engine is steady else outage_case)
        assert replayed.matches(row)
    outage.store.dispose()


def test_catch_up_records_due_and_fired_times(settings: Settings) -> None:
    clock = FakeClock(CREATED)
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2024-03-08"}, ADMIN)
    clock.set(datetime(2024, 3, 20, 2, 0, tzinfo=sh(2024, 1, 1).tzinfo))
    sweep(engine)
    overdue = next(e for e in engine.history(case.id) if e.trigger == "overdue")
    assert overdue.due_at == end_of(2024, 3, 8)
    assert overdue.at == clock.now()
    mark = overdue.payload["_timer"]
    assert mark["late"] is True
    assert datetime.fromisoformat(mark["due_at"]) == end_of(2024, 3, 8)
    assert datetime.fromisoformat(mark["fired_at"]) == clock.now()
