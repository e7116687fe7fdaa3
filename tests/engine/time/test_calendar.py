"""Tests for the working-day calendar (engine/time/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import yaml

from engine.time.calendar import WorkingCalendar, YearSchedule
from tests.conftest import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG_FILE = ROOT / "config" / "calendar.yaml"


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- the package data the other tests rely on ---------------------------------------------

SPRING_2024_HOLIDAY = [date(2024, 2, 10) + timedelta(days=i) for i in range(8)]  # 10..17
NATIONAL_2024_HOLIDAY = [date(2024, 10, 1) + timedelta(days=i) for i in range(7)]  # 1..7
ADJUSTED_2024 = [d("2024-02-04"), d("2024-02-18"), d("2024-09-29"), d("2024-10-12")]


def test_chinese_calendar_package_agrees_with_the_2024_notice() -> None:
    for day in SPRING_2024_HOLIDAY:
        assert chinese_calendar.is_holiday(day), day
        assert chinese_calendar.get_holiday_detail(day) == (True, "Spring Festival")
    for day in NATIONAL_2024_HOLIDAY:
        assert chinese_calendar.is_holiday(day), day
        assert chinese_calendar.get_holiday_detail(day) == (True, "National Day")
    # 2024-02-04 and 2024-02-18 are Sundays, 2024-09-29 a Sunday, 2024-10-12 a Saturday.
    assert [x.weekday() for x in ADJUSTED_2024] == [6, 6, 6, 5]
    for day in ADJUSTED_2024:
        assert chinese_calendar.is_workday(day), day
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


# -- is_working_day / coverage -----------------------------------------------------------


def test_spring_festival_2024(cal: WorkingCalendar) -> None:
    for day in SPRING_2024_HOLIDAY:
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(d("2024-02-04"))  # Sunday, adjusted working day
    assert cal.is_working_day(d("2024-02-18"))  # Sunday, adjusted working day
    assert cal.is_working_day(d("2024-02-09"))  # Friday before, ordinary working day
    assert not cal.is_working_day(d("2024-02-03"))  # ordinary Saturday


def test_national_day_2024(cal: WorkingCalendar) -> None:
    for day in NATIONAL_2024_HOLIDAY:
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(d("2024-09-29"))  # Sunday, adjusted
    assert cal.is_working_day(d("2024-10-12"))  # Saturday, adjusted
    assert not cal.is_working_day(d("2024-10-13"))  # ordinary Sunday


def test_coverage(cal: WorkingCalendar) -> None:
    assert cal.covered(2004)
    assert cal.covered(2026)
    assert not cal.covered(2003)
    assert not cal.covered(2027)
    assert cal.covered_years() == list(range(2004, 2027))
    assert not cal.is_provisional(d("2026-12-31"))
    assert cal.is_provisional(d("2027-01-04"))


def test_uncovered_year_is_monday_to_friday(cal: WorkingCalendar) -> None:
    week = [date(2027, 1, 4) + timedelta(days=i) for i in range(7)]  # Mon 4 .. Sun 10
    assert [cal.is_working_day(x) for x in week] == [True] * 5 + [False] * 2
    assert cal.is_working_day(d("2027-01-01"))  # a Friday; nobody has told us otherwise


def test_is_working_day_rejects_datetime(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError, match="not a datetime"):
        cal.is_working_day(sh(2024, 2, 10))


# -- add_working_days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Thu 2024-02-08: Fri 9 (1), holiday 10..17, Sun 18 adjusted (2), Mon 19 (3)
        (sh(2024, 2, 8, 10), 1, utc(2024, 2, 9, 16)),
        (sh(2024, 2, 8, 10), 2, utc(2024, 2, 18, 16)),
        (sh(2024, 2, 8, 10), 3, utc(2024, 2, 19, 16)),
        # Sat 2024-02-03: the next day, Sun 4, is an adjusted working day
        (sh(2024, 2, 3, 9), 1, utc(2024, 2, 4, 16)),
        # the start day never counts, even late at night on a working day
        (sh(2024, 2, 9, 23, 59), 1, utc(2024, 2, 18, 16)),
        # Fri 2024-09-27: Sun 29 (1), Mon 30 (2), holiday 1..7, Tue 8 (3) ... Fri 11 (6),
        # Sat 12 adjusted (7), Sun 13 off, Mon 14 (8)
        (sh(2024, 9, 27, 15), 1, utc(2024, 9, 29, 16)),
        (sh(2024, 9, 27, 15), 3, utc(2024, 10, 8, 16)),
        (sh(2024, 9, 27, 15), 7, utc(2024, 10, 12, 16)),
        (sh(2024, 9, 27, 15), 8, utc(2024, 10, 14, 16)),
    ],
)
def test_add_working_days_across_2024_holidays(
    cal: WorkingCalendar, start: datetime, n: int, due: datetime
) -> None:
    result, provisional = cal.add_working_days(start, n)
    assert result == due
    assert result.tzinfo is UTC
    assert provisional is False


def test_add_working_days_time_zone_conversion(cal: WorkingCalendar) -> None:
    # 2024-02-08T20:00Z is 2024-02-09 04:00 in Shanghai: Friday 9 is the start day and does
    # not count, so the first working day is the adjusted Sunday 2024-02-18.
    start = utc(2024, 2, 8, 20)
    assert cal.local_date(start) == d("2024-02-09")
    assert cal.add_working_days(start, 1) == (utc(2024, 2, 18, 16), False)
    # The same instant from a calendar kept in UTC starts on Thursday 8; Friday 9 counts.
    assert WorkingCalendar(tz="UTC").add_working_days(start, 1) == (utc(2024, 2, 10), False)
    # Any aware start is accepted; only the instant matters.
    other = start.astimezone(timezone(timedelta(hours=-5)))
    assert cal.add_working_days(other, 1) == (utc(2024, 2, 18, 16), False)


def test_add_working_days_2027_is_provisional_and_skips_weekends(cal: WorkingCalendar) -> None:
    # Fri 2027-01-01: Sat 2 and Sun 3 skipped, Mon 4 (1) .. Fri 8 (5), Mon 11 (6)
    assert cal.add_working_days(sh(2027, 1, 1, 9), 5) == (utc(2027, 1, 8, 16), True)
    assert cal.add_working_days(sh(2027, 1, 1, 9), 6) == (utc(2027, 1, 11, 16), True)


def test_provisional_only_when_an_uncovered_day_is_examined(cal: WorkingCalendar) -> None:
    # Wed 2026-12-30: Thu 31 (1) stays inside 2026; Fri 2027-01-01 (2) does not
    assert cal.add_working_days(sh(2026, 12, 30, 9), 1) == (utc(2026, 12, 31, 16), False)
    assert cal.add_working_days(sh(2026, 12, 30, 9), 2) == (utc(2027, 1, 1, 16), True)


def test_administrator_schedule_for_2027() -> None:
    # A made-up schedule for the test, NOT the official 2027 arrangement.
    schedule = YearSchedule(holidays=[d("2027-01-01"), d("2027-01-04")], workdays=[d("2027-01-09")])
    cal = WorkingCalendar(years={2027: schedule})
    assert cal.covered(2027)
    assert cal.covered_years()[-1] == 2027
    assert not cal.is_working_day(d("2027-01-01"))
    assert not cal.is_working_day(d("2027-01-04"))
    assert cal.is_working_day(d("2027-01-09"))  # Saturday working day from the schedule
    assert cal.is_working_day(d("2027-01-05"))
    # Thu 2026-12-31: Fri 1 holiday, weekend, Mon 4 holiday, Tue 5 (1) .. Fri 8 (4), Sat 9 (5)
    assert cal.add_working_days(sh(2026, 12, 31, 12), 1) == (utc(2027, 1, 5, 16), False)
    assert cal.add_working_days(sh(2026, 12, 31, 12), 5) == (utc(2027, 1, 9, 16), False)
    # without the schedule: Fri 1 (1), Mon 4 (2) .. Thu 7 (5), provisional
    plain = WorkingCalendar()
    assert plain.add_working_days(sh(2026, 12, 31, 12), 1) == (utc(2027, 1, 1, 16), True)
    assert plain.add_working_days(sh(2026, 12, 31, 12), 5) == (utc(2027, 1, 7, 16), True)
    # 2028 is still unknown
    assert cal.add_working_days(sh(2027, 12, 30, 12), 2)[1] is True


def test_local_holiday_override() -> None:
    cal = WorkingCalendar(holidays=[d("2024-03-01")])  # an ordinary Friday made local holiday
    assert not cal.is_working_day(d("2024-03-01"))
    # Thu 2024-02-29: Fri 1 local holiday, weekend, Mon 4 (1)
    assert cal.add_working_days(sh(2024, 2, 29, 9), 1) == (utc(2024, 3, 4, 16), False)
    assert WorkingCalendar().add_working_days(sh(2024, 2, 29, 9), 1) == (
        utc(2024, 3, 1, 16),
        False,
    )


def test_local_overrides_win_over_package_and_apply_in_uncovered_years() -> None:
    cal = WorkingCalendar(
        holidays=[d("2024-02-09"), d("2027-01-05")],
        workdays=[d("2024-02-12"), d("2027-01-09")],
    )
    assert not cal.is_working_day(d("2024-02-09"))
    assert cal.is_working_day(d("2024-02-12"))  # inside the Spring Festival holiday
    # Mon 2027-01-04 (1), Tue 5 local holiday, Wed 6 (2) .. Fri 8 (4), Sat 9 workday (5)
    assert cal.add_working_days(sh(2027, 1, 3), 5) == (utc(2027, 1, 9, 16), True)


def test_end_of_day() -> None:
    assert WorkingCalendar().end_of_day(d("2024-02-09")) == utc(2024, 2, 9, 16)
    assert WorkingCalendar().end_of_day(d("2024-12-31")) == utc(2024, 12, 31, 16)
    assert WorkingCalendar(tz="UTC").end_of_day(d("2024-02-09")) == utc(2024, 2, 10)
    assert WorkingCalendar().end_of_day(d("2024-02-09")).tzinfo is UTC


def test_add_working_days_argument_checks(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        cal.add_working_days(sh(2024, 2, 8), 0)
    with pytest.raises(ValueError, match=">= 1"):
        cal.add_working_days(sh(2024, 2, 8), -3)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(datetime(2024, 2, 8, 10), 1)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkingCalendar(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="2024-03-01"):
        WorkingCalendar(holidays=[d("2024-03-01")], workdays=[d("2024-03-01")])
    with pytest.raises(ValueError, match="outside 2027"):
        WorkingCalendar(years={2027: YearSchedule(holidays=[d("2028-01-01")])})


# -- configuration -------------------------------------------------------------------------


def test_shipped_config_file_loads() -> None:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    assert data["time_zone"] == "Asia/Shanghai"
    cal = WorkingCalendar.from_config(data)
    assert cal.tz_name == "Asia/Shanghai"
    assert cal.covered_years() == list(range(2004, 2027))
    assert WorkingCalendar.from_file(CONFIG_FILE).tz_name == "Asia/Shanghai"


def test_from_config_with_overrides_from_yaml() -> None:
    data = yaml.safe_load(
        """
time_zone: Asia/Shanghai
holidays: [2024-03-01]
workdays: ["2024-03-02"]
years:
  2027:
    holidays: [2027-01-01, 2027-01-04]
    workdays: [2027-01-09]
"""
    )
    cal = WorkingCalendar.from_config(data)
    assert not cal.is_working_day(d("2024-03-01"))
    assert cal.is_working_day(d("2024-03-02"))
    assert cal.covered(2027)
    assert not cal.is_working_day(d("2027-01-04"))
    assert cal.add_working_days(sh(2026, 12, 31, 12), 1) == (utc(2027, 1, 5, 16), False)


def test_from_config_defaults() -> None:
    assert WorkingCalendar.from_config(None).tz_name == "Asia/Shanghai"
    assert WorkingCalendar.from_config({}).tz_name == "Asia/Shanghai"
    cal = WorkingCalendar.from_config({"holidays": None, "workdays": None, "years": None})
    assert cal.covered_years() == list(range(2004, 2027))
    assert WorkingCalendar.from_config({"time_zone": "Europe/Berlin"}).tz_name == "Europe/Berlin"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Asia/Shanghai"}, "unknown key.*timezone"),
        ({"time_zone": "Asia/Shanghia"}, "time_zone 'Asia/Shanghia'"),
        ({"time_zone": 8}, "time_zone must be a string"),
        ({"holidays": "2024-03-01"}, "holidays must be a list"),
        ({"holidays": ["2024-13-01"]}, r"holidays\[0\]: '2024-13-01' is not a date"),
        ({"workdays": [date(2024, 3, 2), "tomorrow"]}, r"workdays\[1\]: 'tomorrow'"),
        ({"workdays": [datetime(2024, 3, 2, 9)]}, r"workdays\[0\].*has a time"),
        ({"holidays": ["2024-03-01"], "workdays": ["2024-03-01"]}, "both holidays and workdays"),
        ({"years": [2027]}, "years must be a mapping"),
        ({"years": {"next": {"holidays": ["2027-01-01"]}}}, "years: key 'next'"),
        ({"years": {2027: ["2027-01-01"]}}, "years.2027 must be a mapping"),
        ({"years": {2027: {"holiday": ["2027-01-01"]}}}, "years.2027: unknown key.*holiday"),
        ({"years": {2027: {"holidays": ["2028-01-01"]}}}, "years.2027.holidays: 2028-01-01"),
        ({"years": {2027: {"holidays": [], "workdays": []}}}, "years.2027 has no holidays"),
        ({"years": {2027: None}}, "years.2027 has no holidays"),
        ({"years": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}}, "both"),
        (
            {"years": {2027: {"holidays": ["2027-01-01"]}, "2027": {"holidays": ["2027-01-01"]}}},
            "given twice",
        ),
    ],
)
def test_bad_config_gives_helpful_value_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar.from_config(config)


def test_bad_config_top_level_not_a_mapping() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        WorkingCalendar.from_config(["time_zone", "Asia/Shanghai"])  # type: ignore[arg-type]


def test_from_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("time_zone: Asia/Shanghai\nholidays: [2024-02-30]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"calendar\.yaml.*holidays\[0\]"):
        WorkingCalendar.from_file(path)
