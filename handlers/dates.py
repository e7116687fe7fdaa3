"""Calendar dates for the domain: the local day of the injected clock and month arithmetic
(working days are the engine's: ``engine/time/calendar.py``).

Handlers get ``ctx.now`` (aware UTC) from the engine's clock; dates written into case data are
local (Asia/Shanghai) ``YYYY-MM-DD`` strings, the form ``at: {data: field}`` timers read.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["CST", "TZ", "add_days", "add_months", "local_day"]

TZ = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8), "CST")  # China Standard Time, as reports and cards print it


def local_day(now: datetime) -> date:
    return now.astimezone(TZ).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped (Aug 31 + 6 months = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
