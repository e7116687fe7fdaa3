"""Checks of ``monitoring.yaml`` (强化环境监测, 三(四)4): the plan's classes are sub-type codes
and its ratio a share, a frequency (a positive whole number of rounds a year) for every water
quality class, parameters with code, name and unit, and default limits by known sub-types that
name known parameters with positive values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from handlers.reference import data as ref
from handlers.reference.check_rivers import WATER_QUALITY

__all__ = ["check_monitoring"]

Say = Callable[[str, str, str], None]
FILE = "monitoring"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_monitoring(reference: Mapping[str, Any], say: Say) -> None:
    """``say(file, key, message)`` for each problem; nothing when there is no monitoring.yaml."""
    sub_types = {str(s.get("code")) for s in ref.sub_types(reference)}
    body = reference.get(FILE)
    if body is None:
        return
    if not isinstance(body, Mapping):
        say(FILE, "(file)", "must be a mapping")
        return
    _plan(body.get("plan"), sub_types, say)
    table = body.get("frequency_by_water_quality")
    if not isinstance(table, Mapping):
        say(FILE, "frequency_by_water_quality", "must map every water quality class to a frequency")
        table = {}
    for quality in WATER_QUALITY:
        if not _positive_int(table.get(quality)):
            say(FILE, f"frequency_by_water_quality.{quality}", "must be a positive whole number")
    for extra in sorted(set(map(str, table)) - set(WATER_QUALITY)):
        say(FILE, f"frequency_by_water_quality.{extra}", "is not a water quality class")
    for key in ("default_frequency", "grace_days"):
        if key in body and not _positive_int(body[key]):
            say(FILE, key, "must be a positive whole number")
    known = _parameters(body.get("parameters"), say)
    _limits(body.get("default_limits"), sub_types, known, say)


def _plan(plan: Any, sub_types: set[str], say: Say) -> None:
    if not isinstance(plan, Mapping):
        say(FILE, "plan", "must be a mapping with ratio and classes")
        return
    ratio = plan.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        say(FILE, "plan.ratio", "must be a share in (0, 1]")
    classes = plan.get("classes")
    if not isinstance(classes, list) or not classes:
        say(FILE, "plan.classes", "must be a non-empty list of sub-type codes")
        return
    for i, code in enumerate(classes):
        if code not in sub_types:
            say(FILE, f"plan.classes[{i}]", f"unknown sub-type {code!r}")


def _parameters(items: Any, say: Say) -> set[str]:
    if not isinstance(items, list) or not items:
        say(FILE, "parameters", "must be a non-empty list")
        return set()
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            say(FILE, f"parameters[{i}]", "must be a mapping")
            continue
        for key in ("code", "name", "unit"):
            if not isinstance(item.get(key), str) or not item.get(key):
                say(FILE, f"parameters[{i}].{key}", "is required")
        code = str(item.get("code"))
        if code in seen:
            say(FILE, f"parameters[{i}].code", f"{code!r} appears twice")
        seen.add(code)
    return seen


def _limits(table: Any, sub_types: set[str], known: set[str], say: Say) -> None:
    if not isinstance(table, Mapping):
        say(FILE, "default_limits", "must map sub-types to their standard and limits")
        return
    for sub_type, entry in table.items():
        where = f"default_limits.{sub_type}"
        if sub_type not in sub_types:
            say(FILE, where, f"unknown sub-type {sub_type!r}")
        if not isinstance(entry, Mapping) or not isinstance(entry.get("limits"), Mapping):
            say(FILE, where, "must have a standard and limits")
            continue
        if not entry.get("standard"):
            say(FILE, f"{where}.standard", "is required (the standard the limits come from)")
        for parameter, value in entry["limits"].items():
            if parameter not in known:
                say(FILE, f"{where}.limits.{parameter}", "unknown parameter")
            if not _limit_ok(value):
                say(
                    FILE,
                    f"{where}.limits.{parameter}",
                    "must be a positive number (an upper bound) or {min, max} with min <= max",
                )


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value >= 0


def _limit_ok(value: Any) -> bool:
    if isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        return (
            set(value) <= {"min", "max"}
            and _number(low)
            and _number(high)
            and float(low) <= float(high)
        )
    return _number(value) and value > 0
