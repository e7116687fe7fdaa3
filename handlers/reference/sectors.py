"""The department matrix of plan 四(二) (明确责任分工), derived from
``config/reference/outfall_types.yaml`` (each sub-type's ``departments``) and
``departments.yaml`` (each department's roles): the one place that says which department
supervises an outfall sub-type (its 行业主管部门), and who may act or must co-sign in a flow.

- 生态环境部门 exercises unified supervision and enforcement over every outfall (三(四)3):
  its roles (the city EEB's, the county-level EEB branch, the provincial EEB) and the county
  government act on every sub-type.
- A sector department (住建, 城管, 水利, 农业农村: 三(二)/三(三) name them lead units) acts on
  the outfalls of the sub-types it supervises, and is refused for the others.
- Where a sub-type has a supervising department other than the EEB, one of them co-signs
  before de-listing (销号); where it has several (urban WWTPs: 城管 for city and county-seat
  plants, 住建 for those of designated towns), any one of them does, since the plant is one
  department's.

    sectors.supervisors(reference, "irrigation_district")    ["water_city"]
    sectors.cosigners(reference, "livestock_large")          ["agri_city"]
    sectors.role_may_act(reference, "water_city", "park_wwtp")  False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from handlers.reference import data as ref

__all__ = [
    "UNIFIED_SUPERVISOR",
    "UNIFIED_ROLES",
    "cosign_departments",
    "cosign_roles",
    "department_of_role",
    "role_may_act",
    "sector_roles",
    "sectors_of_role",
    "supervisors",
]

# 生态环境部门: unified supervision of all outfall discharges (plan 三(四)3, 四(二)).
UNIFIED_SUPERVISOR = "eeb_city"
# Roles that act on every sub-type: the EEB at each level and the county government (the
# 责任单位 of every task of 三).
UNIFIED_ROLES = frozenset({ADMIN, SYSTEM, "eeb_city", "county_eeb", "eeb_province", "county_gov"})


def supervisors(reference: Mapping[str, Any], sub_type: str) -> list[str]:
    """The departments supervising ``sub_type`` (四(二)), in file order; [] when unknown."""
    return ref.departments_for(reference, sub_type)


def cosign_departments(reference: Mapping[str, Any], sub_type: str) -> list[str]:
    """The sector departments (other than the EEB) of ``sub_type``: one of them co-signs before
    de-listing; [] when the EEB alone supervises it."""
    return [d for d in supervisors(reference, sub_type) if d != UNIFIED_SUPERVISOR]


def cosign_roles(reference: Mapping[str, Any], sub_type: str) -> list[str]:
    """The roles that co-sign for ``sub_type``: each sector department's first role (the
    parties of rectification's sign-off; any one of them signs)."""
    roles = [
        (_department_roles(reference, d) or [None])[0]
        for d in cosign_departments(reference, sub_type)
    ]
    return [r for r in roles if r is not None]


def _department_roles(reference: Mapping[str, Any], department: str) -> list[str]:
    found = ref.department(reference, department)
    return [str(r) for r in (found or {}).get("roles") or []]


def sector_roles(reference: Mapping[str, Any]) -> frozenset[str]:
    """Roles of the sector departments named in outfall_types.yaml (not the EEB's)."""
    departments = {
        d
        for s in ref.sub_types(reference)
        for d in s.get("departments") or []
        if d != UNIFIED_SUPERVISOR
    }
    roles = {r for d in departments for r in _department_roles(reference, d)}
    return frozenset(roles - UNIFIED_ROLES)


def department_of_role(reference: Mapping[str, Any], role: str) -> str | None:
    """The department whose staff act in ``role`` (the first listed); None for none."""
    listing = (reference.get("departments") or {}).get("departments") or []
    return next((str(d["code"]) for d in listing if role in (d.get("roles") or [])), None)


def sectors_of_role(reference: Mapping[str, Any], role: str) -> list[str]:
    """The sub-types a sector role supervises (its department's, in file order)."""
    department = department_of_role(reference, role)
    return [
        str(s["code"])
        for s in ref.sub_types(reference)
        if department is not None and department in (s.get("departments") or [])
    ]


def role_may_act(reference: Mapping[str, Any], role: str, sub_type: str) -> bool:
    """May an official in ``role`` act on an outfall of ``sub_type``: the EEB and the county
    government on all; a sector department on the sub-types it supervises; no other role."""
    if role in UNIFIED_ROLES:
        return True
    if role not in sector_roles(reference):
        return False
    return department_of_role(reference, role) in supervisors(reference, sub_type)
