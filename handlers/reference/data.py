"""Reference data from ``config/reference/*.yaml`` (``ctx.reference[<file stem>]``): typed
accessors for the handlers (``from handlers.reference import data as ref``).

The shapes are fixed by the domain contract: jurisdictions, departments, roles, outfall_types
(a tree: classes → sub_types → children), rivers (basins and rivers), deadlines, sampling.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, TypedDict, cast

from handlers.dates import add_days, add_months

__all__ = [
    "COUNTY_LEVELS",
    "Jurisdiction",
    "SubType",
    "basin_bureau_for",
    "bureau_of_basin",
    "common_superior",
    "county_codes",
    "department",
    "departments_for",
    "division_code",
    "is_new_outfall",
    "jurisdiction",
    "jurisdiction_name",
    "new_outfall_deadline",
    "new_outfall_period",
    "national_superior",
    "neighbour_of",
    "river",
    "river_sections",
    "tributaries",
    "rectification_deadline",
    "sub_type",
    "sub_types",
    "violation",
    "violation_authority",
]

COUNTY_LEVELS = ("county", "zone")  # development zones act like counties in every flow


class Jurisdiction(TypedDict):
    code: str
    name: str
    level: str
    parent: str | None


class SubType(TypedDict):
    code: str
    no: int
    name: str
    departments: list[str]
    approval_required: bool
    spot_check_weight: float
    children: list[Any]


def _list(reference: Mapping[str, Any], file: str, key: str) -> list[dict[str, Any]]:
    body = reference.get(file)
    items = body.get(key) if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


# -- jurisdictions ----------------------------------------------------------------------------


def jurisdictions(reference: Mapping[str, Any]) -> list[Jurisdiction]:
    return cast(list[Jurisdiction], _list(reference, "jurisdictions", "jurisdictions"))


def jurisdiction(reference: Mapping[str, Any], code: str) -> Jurisdiction | None:
    return next((j for j in jurisdictions(reference) if j.get("code") == code), None)


def jurisdiction_name(reference: Mapping[str, Any], code: str) -> str:
    found = jurisdiction(reference, code)
    return str(found["name"]) if found else code


def division_code(reference: Mapping[str, Any], code: str) -> str | None:
    """The unit's 6-digit administrative division code (行政区划代码), which begins the national
    code of each of its outfalls; None when the unit is unknown or has none."""
    found = jurisdiction(reference, code)
    value = found.get("division_code") if found else None
    return str(value) if value else None


def level_of(reference: Mapping[str, Any], code: str) -> str | None:
    """province, city, county or zone; None for a code not in jurisdictions.yaml."""
    found = jurisdiction(reference, code)
    return str(found["level"]) if found else None


def county_codes(reference: Mapping[str, Any]) -> list[str]:
    """Counties and development zones: the units that file lists and run rectification."""
    return [j["code"] for j in jurisdictions(reference) if j.get("level") in COUNTY_LEVELS]


def ancestors(reference: Mapping[str, Any], code: str) -> list[str]:
    """``code``'s parents, nearest first (cycles stop)."""
    parents = {j["code"]: j.get("parent") for j in jurisdictions(reference)}
    out: list[str] = []
    current = parents.get(code)
    while current is not None and current not in out:
        out.append(current)
        current = parents.get(current)
    return out


def common_superior(reference: Mapping[str, Any], first: str, second: str) -> str | None:
    """The nearest jurisdiction above both (city for two counties, province for two cities)."""
    above_second = set(ancestors(reference, second))
    return next((a for a in ancestors(reference, first) if a in above_second), None)


# -- neighbouring provinces (neighbours.yaml) --------------------------------------------------


def neighbour_of(reference: Mapping[str, Any], counterpart: str) -> dict[str, Any] | None:
    """The neighbouring province a counterpart belongs to: named by the province's code or
    name, one of its units' codes or names, or free text beginning with the province's name."""
    for province in _list(reference, "neighbours", "neighbours"):
        units = [u for u in province.get("units") or [] if isinstance(u, dict)]
        names = {province.get("code"), province.get("name")}
        names |= {u.get("code") for u in units} | {u.get("name") for u in units}
        if counterpart in names or counterpart.startswith(str(province.get("name") or "\0")):
            return province
    return None


def national_superior(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    """A common superior above the province (neighbours.yaml ``superiors``: 国务院)."""
    return next(
        (s for s in _list(reference, "neighbours", "superiors") if s.get("code") == code), None
    )


# -- departments and outfall types ------------------------------------------------------------


def department(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    listing = _list(reference, "departments", "departments")
    return next((d for d in listing if d.get("code") == code), None)


def _walk(items: list[Any], parent: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Sub-types depth first; a child inherits the keys it does not set from its parent."""
    for item in items:
        if isinstance(item, dict):
            merged = {**(parent or {}), "children": [], **item}
            yield merged
            yield from _walk(item.get("children") or [], merged)


def sub_types(reference: Mapping[str, Any]) -> list[SubType]:
    """Every sub-type of every class, finer children included, in file order."""
    classes = _list(reference, "outfall_types", "classes")
    return cast(list[SubType], [s for c in classes for s in _walk(c.get("sub_types") or [])])


def sub_type(reference: Mapping[str, Any], code: str) -> SubType | None:
    return next((s for s in sub_types(reference) if s.get("code") == code), None)


def class_of(reference: Mapping[str, Any], code: str) -> str | None:
    for c in _list(reference, "outfall_types", "classes"):
        if any(s.get("code") == code for s in _walk(c.get("sub_types") or [])):
            return str(c["code"])
    return None


def departments_for(reference: Mapping[str, Any], code: str) -> list[str]:
    """The supervising departments of a sub-type (plan section 四(二)); [] when unknown."""
    found = sub_type(reference, code)
    return list(found.get("departments") or []) if found else []


def approval_required(reference: Mapping[str, Any], code: str) -> bool:
    found = sub_type(reference, code)
    return bool(found and found.get("approval_required"))


# -- violations (violations.yaml) --------------------------------------------------------------


def violation(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    listing = _list(reference, "violations", "violations")
    return next((v for v in listing if v.get("code") == code), None)


def violation_authority(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    """The authority that enforces violation type ``code`` (its ``roles`` act for it)."""
    found = violation(reference, code)
    listing = _list(reference, "violations", "authorities")
    wanted = (found or {}).get("authority")
    return next((a for a in listing if wanted and a.get("code") == wanted), None)


# -- rivers, deadlines, sampling --------------------------------------------------------------


def river(reference: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    return next((r for r in _list(reference, "rivers", "rivers") if r.get("code") == code), None)


def river_sections(
    reference: Mapping[str, Any], county: str | None = None, river: str | None = None
) -> list[dict[str, Any]]:
    """The river sections (``river_sections.yaml``) of a county and/or river, in file order."""
    return [
        s
        for s in _list(reference, "river_sections", "sections")
        if (county is None or s.get("county") == county)
        and (river is None or s.get("river") == river)
    ]


def tributaries(reference: Mapping[str, Any], code: str) -> list[str]:
    """The rivers flowing into ``code``, directly or through another tributary (rivers.yaml
    ``tributary_of``), in file order."""
    found: list[str] = []
    wanted = {code}
    for _ in range(len(_list(reference, "rivers", "rivers"))):
        more = [
            str(r["code"])
            for r in _list(reference, "rivers", "rivers")
            if r.get("tributary_of") in wanted and r["code"] not in found and r["code"] != code
        ]
        if not more:
            break
        found += more
        wanted.update(more)
    return found


def basin_of(reference: Mapping[str, Any], river_code: str) -> str | None:
    found = river(reference, river_code)
    return str(found["basin"]) if found and found.get("basin") else None


def bureau_of_basin(reference: Mapping[str, Any], basin: str | None) -> str | None:
    """The department code of the basin's 流域(海域)生态环境监督管理局 (``basins[].bureau``)."""
    found = next((b for b in _list(reference, "rivers", "basins") if b.get("code") == basin), None)
    return str(found["bureau"]) if found and found.get("bureau") else None


def basin_bureau_for(reference: Mapping[str, Any], river_code: str) -> str | None:
    """The basin bureau that approves outfalls into ``river_code`` when the river lies in its
    approval scope (``basin_scope: true``); None otherwise or for an unknown river."""
    found = river(reference, river_code)
    if not found or found.get("basin_scope") is not True:
        return None
    return bureau_of_basin(reference, found.get("basin"))


def deadline(reference: Mapping[str, Any], name: str) -> str:
    return str(((reference.get("deadlines") or {}).get("deadlines") or {})[name])


def rectification_deadline(reference: Mapping[str, Any], basin: str | None) -> str:
    """The rectification deadline (YYYY-MM-DD) for an outfall in ``basin``."""
    table = (reference.get("deadlines") or {}).get("rectification_deadline_by_basin") or {}
    return str(table.get(basin or "default") or table["default"])


def is_new_outfall(reference: Mapping[str, Any], basin: str | None, found: str) -> bool:
    """新增排污口 (三(一) 新增排污口动态清零): found (YYYY-MM-DD) after the campaign deadline of
    its basin, so its deadline is its own (``new_outfall_deadline``), not the campaign's."""
    return found > rectification_deadline(reference, basin)


def new_outfall_period(reference: Mapping[str, Any]) -> dict[str, int]:
    """``deadlines.yaml: new_outfall_period``, e.g. ``{"months": 6}`` (months or days)."""
    period = (reference.get("deadlines") or {})["new_outfall_period"]
    return {str(k): int(v) for k, v in dict(period).items()}


def new_outfall_deadline(reference: Mapping[str, Any], found: str) -> str:
    """A new outfall without its own rectification plan: found + ``new_outfall_period``."""
    period = new_outfall_period(reference)
    day = add_months(date.fromisoformat(found), period.get("months", 0))
    return add_days(day, period.get("days", 0)).isoformat()


def spot_check(reference: Mapping[str, Any]) -> dict[str, Any]:
    return dict((reference.get("sampling") or {}).get("spot_check") or {})


def role_codes(reference: Mapping[str, Any]) -> list[str]:
    return [str(r["code"]) for r in _list(reference, "roles", "roles") if "code" in r]
