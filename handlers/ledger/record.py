"""An outfall's ledger record (动态管理台账): its fields and their rules, checked against the
reference data, with every problem at its JSON path; and the errors of the ledger.

A record is stored in the engine's ``subjects`` table (kind ``outfall``, key = the national
outfall code, jurisdiction = its county); ``handlers.ledger.service`` reads and writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import Conflict, FieldError, InvalidInput, NotFound
from handlers.ledger.fields import WATER_CLASSES, check_supervising_department
from handlers.reference import data as ref

__all__ = [
    "ENTRY_MODES",
    "FIELDS",
    "InvalidOutfall",
    "KIND",
    "LIST_FILTERS",
    "OUTFALL_SCHEMA",
    "OutfallExists",
    "OutfallNotFound",
    "RECTIFICATION_MODES",
    "RECTIFICATION_STATUSES",
    "SETUP_BASES",
    "STATUSES",
    "WRITER_ROLES",
    "check_outfall",
    "complete",
    "responsibility_data",
]

KIND = "outfall"

ENTRY_MODES = ("明渠", "管道", "泵站", "涵闸", "箱涵", "其他")
STATUSES = ("active", "abolished", "merged", "cancelled")
RECTIFICATION_STATUSES = ("pending", "in_progress", "done", "not_needed")
SETUP_BASES = ("approval", "registration", "legacy")
RECTIFICATION_MODES = ("ban", "merge", "regularise")
DISCHARGE_REGIMES = ("continuous", "intermittent")
STANDARDISATION_STATUSES = ("not_started", "in_progress", "done")  # 规范化建设
# Roles that may add or change ledger records (within their jurisdiction).
WRITER_ROLES = frozenset({ADMIN, SYSTEM, "eeb_city", "eeb_province", "county_eeb", "county_gov"})

CODE_PATTERN = "^[0-9A-Z][0-9A-Z-]{5,39}$"  # national code: digits, capitals, hyphens
LOCAL_CODE_PATTERN = "^[0-9A-Za-z][0-9A-Za-z_-]{0,39}$"
# 统一社会信用代码 (GB 32100-2015: 18 characters, no I O Z S V) and 排污许可证编号 (the code, three
# digits and a letter, e.g. 91371500MA3C00000X001P)
CREDIT_CODE_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
PERMIT_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}[A-Z]$"

_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
OUTFALL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "local_code": {"type": "string", "pattern": LOCAL_CODE_PATTERN},
        "name": _TEXT,
        "sub_type": {"type": "string", "minLength": 1},
        "county": {"type": "string", "minLength": 1},
        "address": {"type": "string", "maxLength": 300},
        # WGS 84 degrees, within China's extent
        "longitude": {"type": "number", "minimum": 73.4, "maximum": 135.1},
        "latitude": {"type": "number", "minimum": 3.8, "maximum": 53.6},
        "river": {"type": "string", "minLength": 1},
        "basin": {"type": "string", "minLength": 1},
        "entry_mode": {"enum": list(ENTRY_MODES)},
        "responsible_party": {"type": "string", "maxLength": 200},
        "responsible_fallback": {"type": "boolean"},
        "status": {"enum": list(STATUSES)},
        "rectification_status": {"enum": list(RECTIFICATION_STATUSES)},
        "setup_basis": {"enum": list(SETUP_BASES)},
        "setup_decision": {"type": "string", "maxLength": 100},  # decision or registration no.
        "found_at": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        # written by rectification on de-listing (销号)
        "rectification_mode": {"enum": list(RECTIFICATION_MODES)},
        "merged_into": {"type": "string", "pattern": CODE_PATTERN},
        # the national rules' record (issue 19): water-function zone and its target class,
        # discharge regime, permit, the party's credit code, supervisor, standardisation
        "water_function_zone": _TEXT,
        "zone_target": {"enum": list(WATER_CLASSES)},
        "discharge_regime": {"enum": list(DISCHARGE_REGIMES)},
        "permit_number": {"type": "string", "pattern": PERMIT_PATTERN},
        "responsible_credit_code": {"type": "string", "pattern": CREDIT_CODE_PATTERN},
        # a departments.yaml code supervising the sub-type, or the EEB (handlers.ledger.fields)
        "supervising_department": {"type": "string", "minLength": 1},
        "standardisation_status": {"enum": list(STANDARDISATION_STATUSES)},
        # discharge limits (mg/L) by monitoring parameter code (config/reference/monitoring.yaml)
        "limits": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]{0,19}$"},
            "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
        },
        # written by setup_change's 注销 (cancellation, MEE Order 35): the day and the 文号
        "cancelled_on": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "cancellation_decision": {"type": "string", "maxLength": 100},
    },
}
FIELDS: tuple[str, ...] = tuple(OUTFALL_SCHEMA["properties"])
REQUIRED = ("code", "name", "sub_type", "county", "river")
DEFAULTS: dict[str, Any] = {
    "status": "active",
    "rectification_status": "pending",
    "responsible_fallback": False,
}
_VALIDATOR = Draft202012Validator(OUTFALL_SCHEMA)


class InvalidOutfall(InvalidInput):
    """A record breaks the ledger's rules; JSON paths point into the record itself."""

    status, kind, exit_code = 422, "invalid-input", 7
    title = "The outfall record breaks the ledger's rules"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("", errors)
        self.args = ("invalid outfall: " + "; ".join(str(e) for e in errors),)


class OutfallExists(Conflict):
    status, kind, exit_code = 409, "conflict", 6
    title = "The outfall is in the ledger already"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"outfall {code!r} is already in the ledger")


class OutfallNotFound(NotFound):
    status, kind, exit_code = 404, "not-found", 3
    title = "No such outfall"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"outfall {code!r} not found in the ledger")


def _field_of(error: Any) -> str:
    return str(error.absolute_path[0]) if error.absolute_path else ""


def check_outfall(reference: Mapping[str, Any], record: Mapping[str, Any]) -> list[FieldError]:
    """Every problem of a complete record (JSON paths ``$.field``), reference data included."""
    errors = [FieldError(f"$.{name}", "is required") for name in REQUIRED if name not in record]
    errors += [
        FieldError(f"$.{name}", "is not a ledger field") for name in record if name not in FIELDS
    ]
    known = {k: v for k, v in record.items() if k in FIELDS}
    errors += [FieldError(f"$.{_field_of(e)}", e.message) for e in _VALIDATOR.iter_errors(known)]
    bad = {e.json_path for e in errors}
    errors += _reference_errors(reference, known, bad)
    return sorted(errors, key=_field_order)


def _field_order(error: FieldError) -> int:
    name = error.json_path[2:]
    return FIELDS.index(name) if name in FIELDS else len(FIELDS)


def _reference_errors(
    reference: Mapping[str, Any], record: Mapping[str, Any], bad: set[str]
) -> list[FieldError]:
    usable = {k: v for k, v in record.items() if isinstance(v, str) and f"$.{k}" not in bad}
    errors: list[FieldError] = []
    for check in (
        _check_code_region,
        _check_sub_type,
        _check_county,
        _check_river,
        _check_found_at,
        check_supervising_department,
    ):
        errors.extend(check(reference, usable))
    if ("longitude" in record) != ("latitude" in record):
        errors.append(FieldError("$.latitude", "longitude and latitude go together"))
    return errors


def _check_code_region(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    """The national code begins with the 6-digit division code (行政区划代码) of the outfall's
    county (config/reference/jurisdictions.yaml ``division_code``), e.g. 371503-... for 茌平区."""
    if "code" not in r or "county" not in r:
        return []
    expected = ref.division_code(reference, r["county"])
    if expected is None:
        return []  # an unknown county is reported at $.county
    name = ref.jurisdiction_name(reference, r["county"])
    region = r["code"][:6]
    if not region.isdigit():
        return [
            FieldError(
                "$.code", f"the code must begin with {expected}, the division code of {name}"
            )
        ]
    if region != expected:
        return [
            FieldError(
                "$.code",
                f"the code's region part must be {expected}, the division code of {name} "
                f"(it is {region})",
            )
        ]
    return []


def _check_sub_type(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "sub_type" in r and ref.sub_type(reference, r["sub_type"]) is None:
        return [FieldError("$.sub_type", f"unknown outfall sub-type {r['sub_type']!r}")]
    return []


def _check_county(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "county" not in r:
        return []
    unit = ref.jurisdiction(reference, r["county"])
    if unit is None or unit.get("level") not in ref.COUNTY_LEVELS:
        return [FieldError("$.county", f"{r['county']!r} is not a county or zone code")]
    return []


def _check_river(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "river" not in r:
        return []
    river = ref.river(reference, r["river"])
    if river is None:
        return [FieldError("$.river", f"unknown river {r['river']!r}")]
    if "basin" in r and river.get("basin") != r["basin"]:
        return [FieldError("$.basin", f"river {r['river']!r} is in basin {river.get('basin')!r}")]
    return []


def _check_found_at(reference: Mapping[str, Any], r: Mapping[str, str]) -> list[FieldError]:
    if "found_at" not in r:
        return []
    try:
        date.fromisoformat(r["found_at"])
    except ValueError:
        return [FieldError("$.found_at", f"{r['found_at']!r} is not a date")]
    return []


def complete(reference: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with defaults and its basin (from the river) filled in."""
    merged = {**DEFAULTS, **record}
    out = {k: merged[k] for k in FIELDS if k in merged}
    out.update({k: v for k, v in merged.items() if k not in FIELDS})
    if "basin" not in out and isinstance(out.get("river"), str):
        basin = ref.basin_of(reference, out["river"])
        if basin is not None:
            out["basin"] = basin
    return out


def responsibility_data(record: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("county", "sub_type", "river", "basin")
    return {"outfall_code": record["code"], **{k: record[k] for k in keys if k in record}}


LIST_FILTERS = ("county", "sub_type", "basin", "status", "river")
