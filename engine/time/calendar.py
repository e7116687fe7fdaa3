"""Working-day calendar for mainland China.

Statutory holidays and adjusted working days (调休) come from the ``chinese-calendar`` package.
An administrator can add local holidays, extra working days and whole-year official schedules
for years the package does not cover yet (see ``config/calendar.yaml``).

For a year that is neither covered by the package nor supplied by an administrator, working
days are Monday to Friday minus the explicit local holidays plus the explicit working days, and
every result that depended on such a year is *provisional*.

This module is pure: no database, no clock, no I/O except :meth:`WorkingCalendar.from_file`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
import yaml

__all__ = [
    "DEFAULT_TIME_ZONE",
    "WorkingCalendar",
    "YearSchedule",
    "package_years",
]

DEFAULT_TIME_ZONE = "Asia/Shanghai"

_CONFIG_KEYS = frozenset({"time_zone", "holidays", "workdays", "years"})
_YEAR_KEYS = frozenset({"holidays", "workdays"})


def _package_range() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


_PACKAGE_MIN_YEAR, _PACKAGE_MAX_YEAR = _package_range()


@functools.lru_cache(maxsize=8192)
def _package_workday(d: date) -> bool:
    """``chinese_calendar.is_workday``, remembered per date: the package scans its whole table
    for its year range on every call (~100 µs), and its answer for a date never changes."""
    return bool(chinese_calendar.is_workday(d))


def package_years() -> range:
    """Years the installed ``chinese-calendar`` package has official data for."""
    return range(_PACKAGE_MIN_YEAR, _PACKAGE_MAX_YEAR + 1)


def _check_date(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a datetime.date (not a datetime), got {value!r}")
    return value


class YearSchedule:
    """An official schedule for one year, supplied by an administrator.

    Working days in that year are Monday-Friday minus ``holidays`` plus ``workdays``
    (the adjusted working days, usually weekend days). Immutable.
    """

    __slots__ = ("_holidays", "_workdays")

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        hol = frozenset(_check_date(d, "YearSchedule holiday") for d in holidays)
        work = frozenset(_check_date(d, "YearSchedule workday") for d in workdays)
        both = sorted(hol & work)
        if both:
            raise ValueError(
                "YearSchedule lists dates as both holiday and workday: "
                + ", ".join(d.isoformat() for d in both)
            )
        self._holidays = hol
        self._workdays = work

    @property
    def holidays(self) -> frozenset[date]:
        return self._holidays

    @property
    def workdays(self) -> frozenset[date]:
        return self._workdays

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, YearSchedule):
            return NotImplemented
        return self._holidays == other._holidays and self._workdays == other._workdays

    def __hash__(self) -> int:
        return hash((self._holidays, self._workdays))

    def __repr__(self) -> str:
        hol = [d.isoformat() for d in sorted(self._holidays)]
        work = [d.isoformat() for d in sorted(self._workdays)]
        return f"YearSchedule(holidays={hol}, workdays={work})"

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5


class WorkingCalendar:
    """Working days in one time zone, with administrator overrides.

    Precedence for a date ``d``: the explicit ``workdays``/``holidays`` overrides, then an
    administrator-supplied :class:`YearSchedule` for ``d.year``, then ``chinese-calendar``,
    then (uncovered year, provisional) Monday-Friday.
    """

    def __init__(
        self,
        tz: str = DEFAULT_TIME_ZONE,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        years: Mapping[int, YearSchedule] | None = None,
    ) -> None:
        if not isinstance(tz, str) or not tz:
            raise ValueError(f"time zone must be a non-empty IANA name, got {tz!r}")
        try:
            self._zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r} (expected e.g. 'Asia/Shanghai')") from exc
        self._tz_name = tz
        self._holidays = frozenset(_check_date(d, "holiday") for d in holidays)
        self._workdays = frozenset(_check_date(d, "workday") for d in workdays)
        both = sorted(self._holidays & self._workdays)
        if both:
            raise ValueError(
                "dates listed as both holiday and workday: "
                + ", ".join(d.isoformat() for d in both)
            )
        schedules: dict[int, YearSchedule] = {}
        for year, schedule in (years or {}).items():
            if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
                raise ValueError(f"years: {year!r} is not a valid year")
            if not isinstance(schedule, YearSchedule):
                raise TypeError(f"years[{year}] must be a YearSchedule, got {schedule!r}")
            stray = sorted(d for d in schedule.holidays | schedule.workdays if d.year != year)
            if stray:
                raise ValueError(
                    f"years[{year}] lists dates outside {year}: "
                    + ", ".join(d.isoformat() for d in stray)
                )
            schedules[year] = schedule
        self._years = schedules

    # -- construction from config -------------------------------------------------------

    @classmethod
    def from_config(cls, mapping: Mapping[str, object] | None) -> WorkingCalendar:
        """Build from the parsed YAML of ``config/calendar.yaml``.

        Raises ValueError naming the offending key or value.
        """
        if mapping is None:
            return cls()
        if not isinstance(mapping, Mapping):
            raise ValueError(f"calendar config must be a mapping, got {type(mapping).__name__}")
        unknown = sorted(str(k) for k in mapping if k not in _CONFIG_KEYS)
        if unknown:
            raise ValueError(
                f"calendar config: unknown key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(_CONFIG_KEYS))}"
            )
        tz_value = _parse_time_zone(mapping.get("time_zone"))
        holidays = _parse_dates(mapping.get("holidays"), "holidays")
        workdays = _parse_dates(mapping.get("workdays"), "workdays")
        _reject_overlap(holidays, workdays, "")
        years = _parse_years(mapping.get("years"))
        return cls(tz=tz_value, holidays=holidays, workdays=workdays, years=years)

    @classmethod
    def from_file(cls, path: str | Path) -> WorkingCalendar:
        """Read a YAML file such as ``config/calendar.yaml`` and call :meth:`from_config`."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = yaml.load(text, Loader=_DatesAsTextLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_config(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    # -- queries --------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return self._zone

    @property
    def tz_name(self) -> str:
        return self._tz_name

    def covered(self, year: int) -> bool:
        """True if official data exists for ``year`` (package or administrator)."""
        return year in self._years or _PACKAGE_MIN_YEAR <= year <= _PACKAGE_MAX_YEAR

    def covered_years(self) -> list[int]:
        return sorted(set(package_years()) | set(self._years))

    def is_provisional(self, d: date) -> bool:
        """True if the answer for ``d`` is a Monday-Friday guess (year not covered)."""
        return not self.covered(_check_date(d, "d").year)

    def is_working_day(self, d: date) -> bool:
        d = _check_date(d, "d")
        if d in self._workdays:
            return True
        if d in self._holidays:
            return False
        schedule = self._years.get(d.year)
        if schedule is not None:
            return schedule.is_working_day(d)
        if _PACKAGE_MIN_YEAR <= d.year <= _PACKAGE_MAX_YEAR:
            return _package_workday(d)
        return d.weekday() < 5

    def local_date(self, moment: datetime) -> date:
        """The calendar date of an aware ``moment`` in this calendar's time zone."""
        if not isinstance(moment, datetime):
            raise TypeError(f"expected an aware datetime, got {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"datetime must be timezone-aware, got naive {moment!r}")
        return moment.astimezone(self._zone).date()

    def day_of(self, moment: datetime) -> date:
        """The local day a moment belongs to when counting from it: its local date, except
        that 00:00 local is the *end* of the day before (a due time is the end of a day, so
        a period counted from a due moment starts with the day right after the one it ended:
        ``every: 5 working days`` repeats every 5 working days, not 6)."""
        return self.local_date(moment - timedelta(microseconds=1))

    def end_of_day(self, d: date) -> datetime:
        """00:00 local time of ``d + 1 day``, as an aware UTC datetime."""
        d = _check_date(d, "d")
        local = datetime.combine(d + timedelta(days=1), dt_time(0), tzinfo=self._zone)
        return local.astimezone(UTC)

    def add_working_days(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """Due time ``n`` working days after ``start``.

        The day of ``start`` (:meth:`day_of`: 00:00 local is the end of the day before) is not
        counted; counting begins the next day. Returns the
        end of the n-th working day (00:00 local of the following day) in UTC, and whether
        any day examined lay in an uncovered year (the result is then provisional).
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"n must be >= 1 working day, got {n}")
        day = self.day_of(start)
        provisional = False
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if not self.covered(day.year):
                provisional = True
            if self.is_working_day(day):
                counted += 1
        return self.end_of_day(day), provisional

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(tz={self._tz_name!r}, holidays={len(self._holidays)}, "
            f"workdays={len(self._workdays)}, years={sorted(self._years)})"
        )


class _DatesAsTextLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as text, so a bad date is reported with its key."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a scalar", node.start_mark)
    return loader.construct_scalar(node)


_DatesAsTextLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _parse_time_zone(value: object) -> str:
    if value is None:
        return DEFAULT_TIME_ZONE
    if not isinstance(value, str):
        raise ValueError(
            f"calendar config: time_zone must be a string such as 'Asia/Shanghai', got {value!r}"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"calendar config: time_zone {value!r} is not a known IANA time zone"
        ) from exc
    return value


def _reject_overlap(holidays: list[date], workdays: list[date], where: str) -> None:
    overlap = sorted(set(holidays) & set(workdays))
    if overlap:
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"calendar config: {prefix}date(s) in both holidays and workdays: "
            + ", ".join(d.isoformat() for d in overlap)
        )


def _parse_years(raw_years: object) -> dict[int, YearSchedule]:
    years: dict[int, YearSchedule] = {}
    if raw_years is None:
        return years
    if not isinstance(raw_years, Mapping):
        raise ValueError(
            "calendar config: years must be a mapping of year -> "
            f"{{holidays: [...], workdays: [...]}}, got {raw_years!r}"
        )
    for raw_year, raw_schedule in raw_years.items():
        year = _parse_year(raw_year)
        if year in years:
            raise ValueError(f"calendar config: years.{year} is given twice")
        years[year] = _parse_year_schedule(year, raw_schedule)
    return years


def _parse_date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"calendar config: {where}: {value!r} has a time; give a date only")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"calendar config: {where}: {value!r} is not a date (expected YYYY-MM-DD)")


def _parse_dates(value: object, where: str) -> list[date]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(
            f"calendar config: {where} must be a list of dates (YYYY-MM-DD), got {value!r}"
        )
    return [_parse_date(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _parse_year(raw: object) -> int:
    year: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        year = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        year = int(raw.strip())
    if year is None or not 1 <= year <= 9999:
        raise ValueError(f"calendar config: years: key {raw!r} is not a year such as 2027")
    return year


def _parse_year_schedule(year: int, raw: object) -> YearSchedule:
    where = f"years.{year}"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(
            f"calendar config: {where} must be a mapping with holidays/workdays lists, got {raw!r}"
        )
    unknown = sorted(str(k) for k in raw if k not in _YEAR_KEYS)
    if unknown:
        raise ValueError(
            f"calendar config: {where}: unknown key(s) {', '.join(unknown)}; "
            "allowed: holidays, workdays"
        )
    holidays = _parse_dates(raw.get("holidays"), f"{where}.holidays")
    workdays = _parse_dates(raw.get("workdays"), f"{where}.workdays")
    for d, key in [(d, "holidays") for d in holidays] + [(d, "workdays") for d in workdays]:
        if d.year != year:
            raise ValueError(f"calendar config: {where}.{key}: {d.isoformat()} is not in {year}")
    _reject_overlap(holidays, workdays, where)
    if not holidays and not workdays:
        raise ValueError(
            f"calendar config: {where} has no holidays or workdays; an empty schedule would "
            "mark the year as official. Remove the entry until the schedule is published"
        )
    return YearSchedule(holidays=holidays, workdays=workdays)
