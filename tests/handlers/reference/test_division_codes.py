"""The division codes (行政区划代码) of the 11 county-level units live in
config/reference/jurisdictions.yaml, the reference check validates them, and the demo takes its
outfall codes from there (issue 15 item 11)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from engine.settings import load_settings
from handlers.demo.city import generate
from handlers.reference import data as ref
from handlers.reference.check import check_reference
from tests.conftest import ROOT

DIVISIONS = {
    "dongchangfu": "371502",
    "chiping": "371503",  # 茌平区 since 2019; 371523 was the retired code of 茌平县
    "linqing": "371581",
    "yanggu": "371521",
    "shenxian": "371522",
    "donge": "371524",
    "guanxian": "371525",
    "gaotang": "371526",
    "jingkai": "371571",
    "gaoxin": "371572",
    "jiangbei": "371573",
}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return load_settings(ROOT / "config").reference


def _units(reference: dict[str, Any]) -> list[dict[str, Any]]:
    return reference["jurisdictions"]["jurisdictions"]  # type: ignore[no-any-return]


def test_each_county_level_unit_has_its_division_code(shipped: dict[str, Any]) -> None:
    assert {c: ref.division_code(shipped, c) for c in ref.county_codes(shipped)} == DIVISIONS
    assert ref.division_code(shipped, "liaocheng") == "371500"
    assert ref.division_code(shipped, "nowhere") is None


def test_the_reference_check_validates_division_codes(shipped: dict[str, Any]) -> None:
    bad = copy.deepcopy(shipped)
    units = {u["code"]: (i, u) for i, u in enumerate(_units(bad))}
    del units["dongchangfu"][1]["division_code"]
    units["chiping"][1]["division_code"] = "37150"
    units["linqing"][1]["division_code"] = "371521"  # 阳谷县's
    units["gaotang"][1]["division_code"] = "410102"  # not within 聊城市 (3715xx)
    index = {code: i for code, (i, _) in units.items()}
    assert check_reference(bad) == [
        f"jurisdictions.yaml: jurisdictions[{index['dongchangfu']}].division_code: "
        "is required for a county-level unit",
        f"jurisdictions.yaml: jurisdictions[{index['chiping']}].division_code: "
        "'37150' is not a 6-digit division code",
        f"jurisdictions.yaml: jurisdictions[{index['yanggu']}].division_code: "
        "duplicate division code '371521'",
        f"jurisdictions.yaml: jurisdictions[{index['gaotang']}].division_code: "
        "'410102' is not within liaocheng (371500)",
    ]


def test_the_demo_takes_its_codes_from_the_reference_data(shipped: dict[str, Any]) -> None:
    moved = copy.deepcopy(shipped)
    for unit in _units(moved):
        if unit["code"] == "donge":
            unit["division_code"] = "371599"
    for reference, expected in ((shipped, "371524"), (moved, "371599")):
        planned = generate(reference, random.Random(2023))
        codes = [p.record["code"] for p in planned if p.record["county"] == "donge"]
        assert codes
        assert all(code.startswith(expected + "-") for code in codes), codes
