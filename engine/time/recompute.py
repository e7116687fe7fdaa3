"""Provisional due times: settle them once the calendar covers their years.

A working-day due time that crossed a year the calendar does not cover (chinese-calendar has no
data yet, no administrator schedule in ``config/calendar.yaml``) was counted on Monday-Friday
only and marked ``provisional``. When the calendar gains the year, the due time is counted
again from the same base (``base_at`` + ``duration``), the timer stops being provisional, and a
``timer_recomputed`` history row records the old and new due times.

Only pending timers due before the first uncovered year can be settled, and the index
``ix_timers_provisional`` (partial: provisional rows only) finds exactly those, so the check at
the start of every sweep costs nothing when there is nothing to settle. A paused deadline is
recounted when it resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.definition.model import Duration
from engine.store.repository import TimerRow
from engine.time.calendar import WorkingCalendar

if TYPE_CHECKING:
    from engine.runtime import Engine

__all__ = ["Recomputed", "horizon", "recompute_provisional"]


@dataclass(frozen=True)
class Recomputed:
    timer_id: int
    case_id: int
    name: str
    old_due_at: datetime
    due_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "timer": self.timer_id,
            "case": self.case_id,
            "name": self.name,
            "old_due_at": self.old_due_at.isoformat(),
            "due_at": self.due_at.isoformat(),
        }


def horizon(calendar: WorkingCalendar) -> datetime:
    """The start of the first year after the package's first year that is not covered."""
    years = calendar.covered_years()
    year = years[0]
    while calendar.covered(year):
        year += 1
    return calendar.end_of_day(datetime(year - 1, 12, 31).date())


def _settle(engine: Engine, timer: TimerRow) -> Recomputed | None:
    if timer.status != "pending" or timer.base_at is None or timer.duration is None:
        return None
    due = engine.planner.after(timer.base_at, Duration.parse(timer.duration))
    if due.provisional:
        return None
    with engine.store.write() as tx:
        tx.lock_case(timer.case_id)  # the case before its timers (Tx.lock_case)
        current = tx.get_timer(timer.id)
        if current is None or current.status != "pending" or current.due_at != timer.due_at:
            return None  # fired, cancelled or moved meanwhile
        tx.set_timer(timer.id, {"due_at": due.at, "provisional": False}, if_status="pending")
        engine.record_in(
            tx,
            timer.case_id,
            "timer_recomputed",
            {
                "timer": timer.id,
                "name": timer.name,
                "old_due_at": timer.due_at.isoformat(),
                "due_at": due.at.isoformat(),
                "provisional": False,
            },
        )
    return Recomputed(timer.id, timer.case_id, timer.name, timer.due_at, due.at)


def recompute_provisional(engine: Engine) -> list[Recomputed]:
    """Settle every provisional pending timer whose years the calendar now covers."""
    with engine.store.read() as tx:
        candidates = tx.settleable_timers(horizon(engine.planner.calendar))
    done = []
    for timer in candidates:
        settled = _settle(engine, timer)
        if settled is not None:
            done.append(settled)
    return done
