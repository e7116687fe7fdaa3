"""Timer plans: when a timer armed at some moment falls due.

Calendar durations are exact (``3 days`` = 72 hours); ``months`` keep the local wall-clock time
and clamp the day (Jan 31 + 1 month = Feb 28/29); ``working days`` follow the calendar. A date
without a time means the end of that day in the calendar's time zone.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.definition.model import AtSpec, Duration
from engine.errors import InputRefused
from engine.time.calendar import WorkingCalendar

__all__ = ["Due", "TimerPlanner"]

_FIXED = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400}


@dataclass(frozen=True)
class Due:
    at: datetime
    provisional: bool = False


class TimerPlanner:
    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar

    def after(self, base: datetime, duration: Duration) -> Due:
        if duration.unit in _FIXED:
            return Due(base + timedelta(seconds=_FIXED[duration.unit] * duration.amount))
        if duration.unit == "months":
            return Due(self._add_months(base, duration.amount))
        due, provisional = self.calendar.add_working_days(base, duration.amount)
        return Due(due, provisional)

    def _add_months(self, base: datetime, months: int) -> datetime:
        local = base.astimezone(self.calendar.tz)
        month_index = local.month - 1 + months
        year, month = local.year + month_index // 12, month_index % 12 + 1
        day = min(local.day, _cal.monthrange(year, month)[1])
        return local.replace(year=year, month=month, day=day).astimezone(UTC)

    def at(self, spec: AtSpec, data: Mapping[str, Any]) -> Due | None:
        """The moment an ``at`` names; None when its data field is absent or empty."""
        raw = spec.value if spec.value is not None else data.get(spec.data_field or "")
        if not isinstance(raw, str) or not raw:
            return None
        if spec.value is not None:
            return Due(self.parse_moment(raw))
        try:
            return Due(self.parse_moment(raw))
        except ValueError:  # the caller's data names no real day (2026/12/31, 2025-02-30)
            raise InputRefused.at(
                "data",
                f"$.{spec.data_field}",
                f"{raw!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time",
            ) from None

    def parse_moment(self, text: str) -> datetime:
        """``YYYY-MM-DD`` (end of that local day) or an ISO datetime (local if no offset)."""
        if len(text) == 10:
            return self.calendar.end_of_day(date.fromisoformat(text))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.calendar.tz)
        return moment.astimezone(UTC)
