"""A deadline as a badge: colour and words, the same on every page (待办, boards, case pages).

- paused (补正 and the like): grey, "已暂停" (with the working days left when known);
- past due: red, "已逾期 N 天" (calendar days since the due day, today counted, in the
  calendar's time zone);
- due within ``WARN_WORKING_DAYS`` working days (today counts): yellow, "剩余 N 个工作日";
- otherwise: green, "剩余 N 个工作日".

"剩余 N 个工作日" counts the working days from today to the due day, both included when they
are working days (``engine.time.calendar``): a deadline due at the end of today has 1 left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.store.repository import TimerRow
from engine.time.calendar import WorkingCalendar

__all__ = ["WARN_WORKING_DAYS", "Badge", "badge", "working_days_left"]

WARN_WORKING_DAYS = 3
_MAX_COUNT = 400  # working days counted one by one at most (a longer wait is simply green)


@dataclass(frozen=True)
class Badge:
    colour: str  # red | yellow | green | grey
    text: str
    overdue_days: int = 0
    working_days_left: int | None = None


def working_days_left(calendar: WorkingCalendar, now: datetime, due: datetime) -> int:
    """Working days from today to the due day, both counted (0 when the due day is past)."""
    today = calendar.local_date(now)
    last = calendar.day_of(due)  # a due time of 00:00 is the end of the day before
    count = 0
    day = today
    while day <= last and count < _MAX_COUNT:
        if calendar.is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def badge(calendar: WorkingCalendar, now: datetime, timer: TimerRow) -> Badge:
    if timer.status == "paused":
        left = timer.remaining_working_days
        text = "已暂停" if left is None else f"已暂停（剩余 {left} 个工作日）"
        return Badge("grey", text, working_days_left=left)
    if timer.due_at <= now:
        days = (calendar.local_date(now) - calendar.day_of(timer.due_at)).days
        days = max(days, 1)
        return Badge("red", f"已逾期 {days} 天", overdue_days=days)
    left = working_days_left(calendar, now, timer.due_at)
    colour = "yellow" if left <= WARN_WORKING_DAYS else "green"
    return Badge(colour, f"剩余 {left} 个工作日", working_days_left=left)
