"""Working-day periods count exactly: ``every: N working days`` repeats every N working days, a
chain of working-day timers (each armed at the previous one's due time) loses no day, and a
deadline paused at a due moment keeps its days. Every expectation is counted here, day by day,
with ``chinese_calendar.is_workday``, not with the engine's calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.settings import Settings
from engine.time.arming import Arming
from engine.time.calendar import WorkingCalendar
from engine.time.sweep import sweep
from engine.time.timers import TimerPlanner
from tests.timekit import end_of, run_until, sh, timer_engine

ADMIN = Actor("t", "admin")

REPEATING = """
name: workday_reminder
title: 工作日提醒
roles: [unit]
data_schema: {type: object}
initial: open
states:
  open: {title: 办理中}
  done: {title: 办结, final: true}
transitions:
  - {trigger: remind, title: 提醒, source: open, internal: true}
  - {trigger: finish, title: 办结, source: open, dest: done}
timers:
  open:
    - name: reminder
      fires: remind
      every: {every}
"""


def working_day_ends(after: date, every: int, count: int) -> list[datetime]:
    """The end (00:00 next day, Shanghai) of every ``every``-th working day after ``after``,
    ``count`` of them, counted with chinese_calendar alone."""
    ends, day, seen = [], after, 0
    while len(ends) < count:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            seen += 1
            if seen % every == 0:
                ends.append(end_of(day.year, day.month, day.day))
    return ends


@pytest.mark.parametrize(
    ("armed", "every", "count"),
    [
        # the example: armed 2026-12-02, fires at the end of 12-09, 12-16, 12-23 ...
        (sh(2026, 12, 2, 10), 5, 4),
        # across Mid-Autumn (09-25) and National Day 2026 (10-01..07) with the adjusted
        # working days Sunday 09-20 and Saturday 10-10 (调休)
        (sh(2026, 9, 17, 15), 3, 8),
        (sh(2026, 9, 18, 10), 5, 5),
    ],
    ids=["december-2026", "national-day-2026-every-3", "national-day-2026-every-5"],
)
def test_every_n_working_days_repeats_every_n_working_days(
    settings: Settings, armed: datetime, every: int, count: int
) -> None:
    clock = FakeClock(armed)
    engine = timer_engine(settings, clock)
    engine.publish(REPEATING.replace("{every}", f"{every} working days"))
    case = engine.create_case("workday_reminder", {}, ADMIN)
    expected = working_day_ends(armed.date(), every, count)
    firings = run_until(engine, clock, expected[-1] + timedelta(hours=1), timedelta(hours=6))
    assert [f.due_at for f in firings] == expected
    assert all(f.outcome == "fired" for f in firings)
    # caught up at once after an outage, the same due times
    late_clock = FakeClock(expected[-1] + timedelta(hours=1))
    late = timer_engine(settings, late_clock)
    late.publish(REPEATING.replace("{every}", f"{every} working days"))
    late_clock.set(armed)
    late.create_case("workday_reminder", {}, ADMIN)
    late_clock.set(expected[-1] + timedelta(hours=1))
    caught_up = sweep(late).firings
    assert [f.due_at for f in caught_up] == expected
    assert all(f.late for f in caught_up)
    assert case.state == "open"


def test_a_working_day_ladder_loses_no_day_per_rung(settings: Settings) -> None:
    """The fixture ladder: overdue at the end of the deadline day, then 5, 5 and 10 working
    days, each counted from the previous rung's due time (00:00 of the next day), which is
    the end of a day: the day after it is the first counted."""
    clock = FakeClock(sh(2026, 9, 1, 9))
    engine = timer_engine(settings, clock)
    case = engine.create_case("ladder", {"deadline": "2026-09-16"}, ADMIN)
    run_until(engine, clock, sh(2026, 11, 30), timedelta(hours=6))
    rungs = [
        (e.to_state, e.due_at)
        for e in engine.history(case.id)
        if e.trigger in ("overdue", "escalate")
    ]
    notice = end_of(2026, 9, 16)
    (warning,) = working_day_ends(date(2026, 9, 16), 5, 1)
    (interview,) = working_day_ends(warning.date() - timedelta(days=1), 5, 1)
    (listing,) = working_day_ends(interview.date() - timedelta(days=1), 10, 1)
    assert rungs == [
        ("notice", notice),
        ("warning", warning),
        ("interview", interview),
        ("supervised_listing", listing),
    ]
    # counted by hand: 09-17, 09-18, 09-20 (Sunday worked), 09-21, 09-22
    assert warning == end_of(2026, 9, 22)


def test_working_days_left_at_a_due_moment_count_from_the_next_day() -> None:
    """A deadline paused at a due moment (the end of 09-16) has used 09-16 only: every
    working day from 09-17 to its due day is left."""
    arming = Arming(TimerPlanner(WorkingCalendar()))
    due = end_of(2026, 10, 9)
    left, provisional = arming.remaining_working_days(end_of(2026, 9, 16), due)
    days = [date(2026, 9, 17) + timedelta(days=i) for i in range(23)]  # 09-17 .. 10-09
    assert left == sum(bool(chinese_calendar.is_workday(d)) for d in days)
    assert (left, provisional) == (
        12,
        False,
    )  # 09-17 .. 09-24 (09-20 worked), 09-28 .. 30, 10-08, 10-09
    # and from a moment inside a day, that day counts as used
    assert arming.remaining_working_days(sh(2026, 9, 17, 10), due)[0] == left - 1
