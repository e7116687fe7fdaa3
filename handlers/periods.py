"""Periods in working days that a handler computes from reference data (``patrols.yaml``),
e.g. a reply deadline written into the case data for an ``at: {data: field}`` timer.

The days are those of the statutory calendar (``engine.time.calendar.WorkingCalendar``: the
State Council's holidays and make-up working days); the day counted from is not counted, and
the deadline is the whole last day (the timer fires at its end, 00:00 of the next day)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from engine.time.calendar import WorkingCalendar
from handlers.reference.check_patrols import working_days

__all__ = ["due_after", "period_due"]


@cache
def _calendar() -> WorkingCalendar:
    return WorkingCalendar()


def due_after(now: datetime, days: int) -> date:
    """The last day of ``days`` working days counted from the day of ``now`` (China time)."""
    end, _ = _calendar().add_working_days(now, days)
    return _calendar().local_date(end - timedelta(microseconds=1))


def period_due(reference: Mapping[str, Any], name: str, now: datetime) -> date:
    """The last day of the ``patrols.yaml`` period ``name`` counted from ``now``."""
    return due_after(now, working_days(reference, name))
