"""Issue 15 item 7: the receiving river decides whether a basin bureau approves (the scope lies
on the rivers in config/reference/rivers.yaml), not a flag the applicant sets; a project without
an EIA goes to the 县级以上 department that accepts it, or the basin body (plan 三(四)2)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import GuardFailed, InputRefused, InvalidInput
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import setup_application

APPLICANT = Actor("临清市某纺织公司", "applicant", "linqing")
CITY_APPROVAL = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
COUNTY_APPROVAL = Actor("临清市行政审批服务局", "approval_bureau", "linqing")
PROVINCE = Actor("山东省生态环境厅", "eeb_province", "shandong")
HAIHE = Actor("海河流域北海海域生态环境监督管理局", "basin_bureau", None)


@pytest.fixture
def flows(engine: Engine) -> Engine:
    engine.load([ROOT / "workflows" / "setup_approval.yaml"])
    return engine


def _apply(engine: Engine, code: str = "371581-0100", **data: Any) -> int:
    return setup_application(engine, code, APPLICANT, county="linqing", **data)


@pytest.mark.parametrize(
    ("data", "authority", "department"),
    [
        ({"river": "weiyunhe"}, "basin_bureau", "basin_bureau_haihe"),
        ({"river": "huanghe"}, "basin_bureau", "basin_bureau"),
        ({"river": "tuhaihe"}, "city", "approval_city"),
        ({"river": "majiahe", "eia_level": "county"}, "county", None),
        ({"river": "majiahe", "eia_level": "national"}, "basin_bureau", "basin_bureau_haihe"),
        ({"river": "weiyunhe", "eia_level": "provincial"}, "basin_bureau", "basin_bureau_haihe"),
    ],
    ids=["weiyunhe", "huanghe", "tuhaihe", "majiahe-county", "national-eia", "border-river"],
)
def test_the_receiving_river_decides_the_basin_bureau(
    flows: Engine, data: dict[str, Any], authority: str, department: str | None
) -> None:
    view = flows.fire(_apply(flows, **data), "accept", CITY_APPROVAL)
    assert view.data["authority"] == authority
    assert view.data.get("authority_department") == department
    assert view.data["basin_scope"] is (data["river"] in ("weiyunhe", "huanghe"))


def test_the_applicant_cannot_choose_the_basin_bureau(flows: Engine) -> None:
    with pytest.raises(InvalidInput, match="basin_scope"):
        _apply(flows, basin_scope=True)
    with pytest.raises(InvalidInput, match="authority"):
        _apply(flows, "371581-0101", authority="basin_bureau")


def test_an_unknown_river_is_refused_at_its_field(flows: Engine) -> None:
    case_id = _apply(flows, river="changjiang")
    with pytest.raises(InputRefused) as refused:
        flows.fire(case_id, "accept", CITY_APPROVAL)
    assert [e.json_path for e in refused.value.errors] == ["$.river"]


def test_the_basin_bureau_decides_what_the_river_routes_to_it(flows: Engine) -> None:
    case_id = _apply(flows, river="weiyunhe")
    flows.fire(case_id, "accept", COUNTY_APPROVAL)
    yellow_river = Actor("生态环境部黄河流域生态环境监督管理局", "basin_bureau", None)
    for other in (CITY_APPROVAL, yellow_river):
        with pytest.raises(GuardFailed, match="actor_is_authority"):
            flows.fire(case_id, "approve", other, {"decision_number": "聊审批排〔2024〕1号"})
    view = flows.fire(case_id, "approve", HAIHE, {"decision_number": "海河北海环审〔2024〕3号"})
    assert view.state == "approved"
    assert view.data["publication"]["authority"] == "生态环境部海河流域北海海域生态环境监督管理局"


@pytest.mark.parametrize(
    ("accepted_by", "authority"),
    [(COUNTY_APPROVAL, "county"), (CITY_APPROVAL, "city"), (PROVINCE, "province")],
    ids=["county", "city", "province"],
)
def test_without_an_eia_the_accepting_department_of_county_level_or_above_decides(
    flows: Engine, accepted_by: Actor, authority: str
) -> None:
    view = flows.fire(_apply(flows, eia_level="none"), "accept", accepted_by)
    assert view.data["authority"] == authority


def test_without_an_eia_on_a_basin_river_the_basin_body_decides(flows: Engine) -> None:
    view = flows.fire(_apply(flows, eia_level="none", river="weiyunhe"), "accept", COUNTY_APPROVAL)
    assert (view.data["authority"], view.data["authority_department"]) == (
        "basin_bureau",
        "basin_bureau_haihe",
    )
