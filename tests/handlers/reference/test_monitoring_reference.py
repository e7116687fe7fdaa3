"""monitoring.yaml (三(四)4): what the shipped file says, and each problem reported at its key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.settings import load_settings
from handlers.reference import monitoring as mon
from handlers.reference.check import check_reference
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return load_settings(ROOT / "config").reference


def test_the_shipped_monitoring_file_is_sound(shipped: dict[str, Any]) -> None:
    assert check_reference(shipped) == []
    assert mon.plan_policy(shipped)["classes"] == [
        "industrial_enterprise",
        "park_wwtp",
        "urban_wwtp",
    ]
    assert mon.frequency(shipped, "huanghe") == (2, "II")  # 黄河 II类
    assert mon.frequency(shipped, "xiaoyunhe") == (4, "V")
    urban, standard = mon.limits_for(shipped, {"sub_type": "urban_wwtp"})
    ph = {"min": 6.0, "max": 9.0}  # a range: pH 6–9 in both standards
    assert urban == {"COD": 50.0, "NH3-N": 5.0, "TP": 0.5, "TN": 15.0, "pH": ph}
    assert "GB 18918-2002" in standard
    industrial, standard = mon.limits_for(shipped, {"sub_type": "industrial_enterprise"})
    assert industrial == {"COD": 100.0, "NH3-N": 15.0, "pH": ph}
    assert "GB 8978-1996" in standard
    own, source = mon.limits_for(shipped, {"sub_type": "urban_wwtp", "limits": {"COD": 30}})
    assert own == {"COD": 30.0}
    assert source == "台账记录的排放限值"


def test_monitoring_problems_are_reported_at_their_keys(shipped: dict[str, Any]) -> None:
    broken = copy.deepcopy(shipped)
    body = broken["monitoring"]
    body["plan"] = {"ratio": 1.5, "classes": ["industrial_enterprise", "factory"]}
    del body["frequency_by_water_quality"]["劣V"]
    body["frequency_by_water_quality"]["IV"] = 0
    body["parameters"][1] = {"code": "NH3-N", "name": "氨氮"}
    body["default_limits"]["urban_wwtp"]["limits"]["BOD5"] = 10
    body["default_limits"]["park_wwtp"]["limits"]["COD"] = -1
    body["default_limits"]["castle"] = {"standard": "x", "limits": {}}
    assert check_reference(broken) == [
        "monitoring.yaml: plan.ratio: must be a share in (0, 1]",
        "monitoring.yaml: plan.classes[1]: unknown sub-type 'factory'",
        "monitoring.yaml: frequency_by_water_quality.IV: must be a positive whole number",
        "monitoring.yaml: frequency_by_water_quality.劣V: must be a positive whole number",
        "monitoring.yaml: parameters[1].unit: is required",
        "monitoring.yaml: default_limits.urban_wwtp.limits.BOD5: unknown parameter",
        "monitoring.yaml: default_limits.park_wwtp.limits.COD: must be a positive number"
        " (an upper bound) or {min, max} with min <= max",
        "monitoring.yaml: default_limits.castle: unknown sub-type 'castle'",
    ]
