"""The deadline badge: colours and words, counted on the working-day calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.console.deadlines import badge, working_days_left
from engine.store.repository import TimerRow
from engine.time.calendar import WorkingCalendar

CALENDAR = WorkingCalendar()


def _timer(due: datetime, status: str = "pending", **extra: Any) -> TimerRow:
    return TimerRow(
        id=1,
        case_id=1,
        name="deadline",
        trigger="overdue",
        state="s",
        deadline="review",
        due_at=due,
        status=status,
        payload={},
        catch_up="fire",
        every=None,
        provisional=False,
        created_at=due - timedelta(days=30),
        fired_at=None,
        **extra,
    )


def _end_of(d: date) -> datetime:
    return CALENDAR.end_of_day(d)


# Tuesday 2025-04-01, 10:00 in Shanghai
NOW = datetime(2025, 4, 1, 2, 0, tzinfo=UTC)


def test_a_deadline_due_at_the_end_of_today_has_one_working_day_left() -> None:
    assert working_days_left(CALENDAR, NOW, _end_of(date(2025, 4, 1))) == 1


def test_a_deadline_due_at_the_end_of_friday_counts_today_to_friday() -> None:
    # Tue, Wed, Thu; Fri 2025-04-04 is 清明节 (a holiday): due at its end, 3 working days
    assert working_days_left(CALENDAR, NOW, _end_of(date(2025, 4, 4))) == 3
    assert working_days_left(CALENDAR, NOW, _end_of(date(2025, 4, 7))) == 4  # Monday


def test_colours_and_words() -> None:
    assert badge(CALENDAR, NOW, _timer(_end_of(date(2025, 4, 30)))).colour == "green"
    soon = badge(CALENDAR, NOW, _timer(_end_of(date(2025, 4, 2))))
    assert (soon.colour, soon.text) == ("yellow", "剩余 2 个工作日")
    late = badge(CALENDAR, NOW, _timer(_end_of(date(2025, 3, 28))))
    assert (late.colour, late.text) == ("red", "已逾期 4 天")  # due end of Fri 28 March
    paused = badge(CALENDAR, NOW, _timer(NOW, "paused", remaining_working_days=7))
    assert (paused.colour, paused.text) == ("grey", "已暂停（剩余 7 个工作日）")
