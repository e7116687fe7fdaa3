"""``patrols.yaml``: the periods of a patrol notice's reply and of a routine inspection's
re-inspection, whole working days, checked by ``qingliu config check``."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.settings import load_settings
from handlers.periods import due_after, period_due
from handlers.reference.check import check_reference
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return load_settings(ROOT / "config").reference


@pytest.mark.parametrize(
    ("period", "problem"),
    [
        (None, "patrol_notice_reply.working_days: is required: a whole number of working days"),
        (
            {"working_days": "5"},
            "patrol_notice_reply.working_days: is required: a whole number of working days",
        ),
        (
            {"days": 5},
            "patrol_notice_reply.working_days: is required: a whole number of working days",
        ),
        ({"working_days": 0}, "patrol_notice_reply.working_days: must be 1..250, not 0"),
    ],
)
def test_the_reply_period_is_checked(shipped: dict[str, Any], period: Any, problem: str) -> None:
    changed = copy.deepcopy(shipped)
    changed["patrols"].pop("patrol_notice_reply")
    if period is not None:
        changed["patrols"]["patrol_notice_reply"] = period
    assert check_reference(changed) == [f"patrols.yaml: {problem}"]
    assert check_reference(shipped) == []


def test_periods_are_counted_in_working_days(shipped: dict[str, Any]) -> None:
    # from Friday 2024-09-27: 09-29 (a Sunday worked), 09-30, then 10-08 .. 10-10 after the
    # National Day week
    friday = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)
    assert due_after(friday, 1) == date(2024, 9, 29)
    assert period_due(shipped, "patrol_notice_reply", friday) == date(2024, 10, 10)
