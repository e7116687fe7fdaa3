"""The national rules' fields of a ledger record (issue 19) as people read and write them:
the Chinese labels of their enums, the ``limits`` cell (``COD=50;NH3-N=5``, mg/L) both ways,
and the reference check of ``supervising_department`` (a department of departments.yaml that
supervises the outfall's sub-type, or the EEB, which supervises every outfall: 三(四)3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import FieldError
from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = [
    "FIELD_LABELS",
    "WATER_CLASSES",
    "allowed_supervisors",
    "check_supervising_department",
    "format_limits",
    "parse_limits",
]

WATER_CLASSES = ("I", "II", "III", "IV", "V")  # GB 3838-2002 classes a zone's target may be
FIELD_LABELS: dict[str, dict[str, str]] = {
    "zone_target": dict(zip(WATER_CLASSES, ("Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类"), strict=True)),
    "discharge_regime": {"continuous": "连续排放", "intermittent": "间歇排放"},
    "standardisation_status": {"not_started": "未开展", "in_progress": "建设中", "done": "已完成"},
}


def format_limits(limits: Mapping[str, Any]) -> str:
    """``{"COD": 50, "NH3-N": 5}`` → ``COD=50;NH3-N=5`` (whole numbers without ``.0``), the
    parameters in code order: the store may not keep the order they were written in (JSONB)."""
    parts = []
    for name, value in sorted(limits.items()):
        number = float(value)
        shown = str(int(number)) if number.is_integer() else repr(number)
        parts.append(f"{name}={shown}")
    return ";".join(parts)


def parse_limits(cell: Any) -> dict[str, float | int]:
    """``COD=50;NH3-N=5`` (``；``, ``,`` and ``，`` also separate; ``＝`` also assigns) → a
    limits object; ValueError naming the bad part."""
    text = str(cell).strip()
    for sep in ("；", "，", ","):
        text = text.replace(sep, ";")
    out: dict[str, float | int] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, eq, value = part.replace("＝", "=").partition("=")
        name, value = name.strip(), value.strip().removesuffix("mg/L").strip()
        if not eq or not name:
            raise ValueError(f"{part!r} is not PARAMETER=mg/L (e.g. COD=50;NH3-N=5)")
        if name in out:
            raise ValueError(f"{name} is given twice")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a number (mg/L)") from None
        if not number > 0:
            raise ValueError(f"{name}: a limit is more than 0 mg/L")
        out[name] = int(number) if number.is_integer() else number
    if not out:
        raise ValueError("no limits (write e.g. COD=50;NH3-N=5)")
    return out


def allowed_supervisors(reference: Mapping[str, Any], sub_type: str) -> list[str]:
    """The departments that may be recorded as supervising ``sub_type``: its own (四(二)) and
    the EEB, which supervises every outfall (三(四)3)."""
    found = sectors.supervisors(reference, sub_type)
    return [*found, *([] if sectors.UNIFIED_SUPERVISOR in found else [sectors.UNIFIED_SUPERVISOR])]


def check_supervising_department(
    reference: Mapping[str, Any], record: Mapping[str, str]
) -> list[FieldError]:
    code = record.get("supervising_department")
    if code is None:
        return []
    if ref.department(reference, code) is None:
        return [FieldError("$.supervising_department", f"unknown department {code!r}")]
    sub = record.get("sub_type")
    if sub is None or ref.sub_type(reference, sub) is None:
        return []  # an unknown sub-type is reported at $.sub_type
    allowed = allowed_supervisors(reference, sub)
    if code in allowed:
        return []
    names = "、".join(
        f"{d}（{(ref.department(reference, d) or {}).get('name', d)}）" for d in allowed
    )
    return [
        FieldError(
            "$.supervising_department",
            f"{code} does not supervise {sub} outfalls; one of: {names}",
        )
    ]
