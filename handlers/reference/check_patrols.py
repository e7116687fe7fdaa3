"""Checks of ``patrols.yaml``: the reply period of a patrol notice and the rectification
period of a routine inspection (workflows/patrol_notice.yaml, daily_supervision.yaml), each a
whole number of working days."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import ConfigError

__all__ = ["PERIODS", "check_patrols", "working_days"]

PERIODS = ("patrol_notice_reply", "supervision_rectification")
MAX_WORKING_DAYS = 250  # about a year: a longer period is a typo

Say = Callable[[str, str, str], None]


def working_days(reference: Mapping[str, Any], name: str) -> int:
    """``patrols.yaml: <name>.working_days`` (checked by ``qingliu config check``); a
    ConfigError when the file or the key is missing."""
    try:
        return int((reference.get("patrols") or {})[name]["working_days"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"config/reference/patrols.yaml: {name}.working_days is required ({exc!r})"
        ) from exc


def check_patrols(reference: Mapping[str, Any], say: Say) -> None:
    """``say(file, key, message)`` for each problem; nothing when the file is absent."""
    body = reference.get("patrols")
    if body is None:
        return
    if not isinstance(body, dict):
        say("patrols", "(top)", "must be a mapping")
        return
    for name in PERIODS:
        period = body.get(name)
        days = period.get("working_days") if isinstance(period, dict) else None
        if isinstance(days, bool) or not isinstance(days, int):
            say("patrols", f"{name}.working_days", "is required: a whole number of working days")
        elif not 1 <= days <= MAX_WORKING_DAYS:
            say("patrols", f"{name}.working_days", f"must be 1..{MAX_WORKING_DAYS}, not {days}")
