"""Reading ``config/reference/monitoring.yaml`` (强化环境监测, 三(四)4): the plan's draw policy,
the sampling frequency by water quality, the rounds' due dates, the parameters and the default
limits by sub-type. ``handlers.reference.check_monitoring`` checks the file."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from typing import Any

from handlers.reference import data as ref

__all__ = [
    "CLASSES",
    "Limit",
    "due_dates",
    "frequency",
    "grace_days",
    "limit_text",
    "limits_for",
    "parameter",
    "parameters",
    "plan_policy",
]

CLASSES = ("industrial_enterprise", "park_wwtp", "urban_wwtp")  # the plan's classes by default


def _body(reference: Mapping[str, Any]) -> dict[str, Any]:
    body = reference.get("monitoring")
    return dict(body) if isinstance(body, Mapping) else {}


def plan_policy(reference: Mapping[str, Any]) -> dict[str, Any]:
    """``{ratio, classes}`` of the yearly plan's draw."""
    plan = dict(_body(reference).get("plan") or {})
    return {
        "ratio": float(plan.get("ratio", 0.3)),
        "classes": [str(c) for c in plan.get("classes") or CLASSES],
    }


def frequency(reference: Mapping[str, Any], river: str | None) -> tuple[int, str | None]:
    """Rounds a year of an outfall into ``river``, and the river's water quality."""
    body = _body(reference)
    found = ref.river(reference, river) if river else None
    quality = (found or {}).get("water_quality")
    table = body.get("frequency_by_water_quality") or {}
    times = table.get(quality) if quality is not None else None
    return int(times or body.get("default_frequency", 4)), quality


def due_dates(year: int, times: int) -> list[str]:
    """``times`` rounds spread over ``year``: round k is due at the end of month
    ceil(12 k / times) (quarterly: 03-31, 06-30, 09-30, 12-31)."""
    out = []
    for k in range(1, times + 1):
        month = min(12, max(1, -(-12 * k // times)))
        out.append(date(year, month, calendar.monthrange(year, month)[1]).isoformat())
    return out


def grace_days(reference: Mapping[str, Any]) -> int:
    return int(_body(reference).get("grace_days", 30))


def parameters(reference: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(p) for p in _body(reference).get("parameters") or [] if isinstance(p, Mapping)]


def parameter(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    return next((p for p in parameters(reference) if p.get("code") == code), None)


Limit = float | dict[str, float]  # an upper bound, or a range {min, max} (pH 6–9)


def _limit(value: Any) -> Limit:
    if isinstance(value, Mapping):
        return {"min": float(value["min"]), "max": float(value["max"])}
    return float(value)


def limit_text(limit: Limit) -> str:
    """``50`` for an upper bound, ``6–9`` for a range."""
    if isinstance(limit, dict):
        return f"{limit['min']:g}–{limit['max']:g}"
    return f"{limit:g}"


def limits_for(
    reference: Mapping[str, Any], record: Mapping[str, Any]
) -> tuple[dict[str, Limit], str]:
    """The outfall's limits by parameter and where they come from: its ledger record's
    ``limits`` (mg/L, upper bounds), else the default of its sub-type (the standard's name; a
    default may be a range ``{min, max}``, as pH's)."""
    own = record.get("limits")
    if isinstance(own, Mapping) and own:
        return {str(k): _limit(v) for k, v in own.items()}, "台账记录的排放限值"
    default = (_body(reference).get("default_limits") or {}).get(str(record.get("sub_type")))
    if not isinstance(default, Mapping):
        return {}, ""
    limits = default.get("limits") or {}
    return {str(k): _limit(v) for k, v in limits.items()}, str(default.get("standard") or "")
