"""The national rules' fields of a demo outfall's ledger record (issue 19): water-function zone
and its target, discharge regime, the supervising department of its sub-type, and for the
outfalls of enterprises and treatment plants the party's 统一社会信用代码, the 排污许可证编号
and the discharge limits of its standard. Deterministic per outfall code (its own generator,
so the city's story draws the same numbers as before)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from handlers.reference import data as ref
from handlers.reference import sectors

__all__ = ["credit_code", "record_fields"]

# GB 32100-2015: the 31 characters of a credit code and the weights of its check character
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 18918-2002 一级A for urban and park plants; an industry standard's direct-discharge limits
GB18918_1A = {"COD": 50, "NH3-N": 5, "TP": 0.5, "TN": 15}
INDUSTRY = {"COD": 100, "NH3-N": 15}
LIMITS = {"urban_wwtp": GB18918_1A, "park_wwtp": GB18918_1A, "industrial_enterprise": INDUSTRY}
ORGANISATIONS = frozenset({*LIMITS, "enterprise_storm", "park_wwtp_storm"})
CONTINUOUS = frozenset({*LIMITS, "rural_facility", "urban_scattered"})
# a zone's target: at least the river's present class, and no worse than IV (III on the Yellow
# River and its tributaries of the plan)
TARGET = {"I": "II", "II": "II", "III": "III", "IV": "IV", "V": "IV", "劣V": "IV"}


def credit_code(division: str, rng: random.Random) -> str:
    """A well-formed 统一社会信用代码 of a company (91) registered in ``division``."""
    body = "91" + division + "".join(rng.choice(_CHARS) for _ in range(9))
    total = sum(_CHARS.index(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + _CHARS[(31 - total % 31) % 31]


def record_fields(reference: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields for a demo ``record`` (code, county, sub_type and river set)."""
    rng = random.Random(str(record["code"]))
    sub, county = str(record["sub_type"]), str(record["county"])
    river = ref.river(reference, str(record["river"])) or {}
    county_name = ref.jurisdiction_name(reference, county)
    use = "工业用水区" if sub in ORGANISATIONS else "农业用水区"
    out: dict[str, Any] = {
        "water_function_zone": f"{river.get('name', record['river'])}{county_name}{use}",
        "zone_target": TARGET.get(str(river.get("water_quality")), "IV"),
        "discharge_regime": "continuous" if sub in CONTINUOUS else "intermittent",
        "supervising_department": (sectors.supervisors(reference, sub) or ["eeb_city"])[0],
        "standardisation_status": "not_started",  # rectification moves it on (三(三))
    }
    if sub in ORGANISATIONS:
        code = credit_code(ref.division_code(reference, county) or "371500", rng)
        out["responsible_credit_code"] = code
        if sub in LIMITS:
            out["permit_number"] = f"{code}{rng.randint(1, 3):03d}{rng.choice('PQV')}"
            out["limits"] = dict(LIMITS[sub])
    return out
