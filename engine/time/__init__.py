"""Time utilities: the working-day calendar."""

from __future__ import annotations

from engine.time.calendar import DEFAULT_TIME_ZONE, WorkingCalendar, YearSchedule, package_years

__all__ = ["DEFAULT_TIME_ZONE", "WorkingCalendar", "YearSchedule", "package_years"]
