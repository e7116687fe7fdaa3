"""The column's lists follow the cases: an application, a draw or an enforcement case shows
only once decided (published), as of the day of its decision; a natural person's name is
masked. These tests change the demo (their own module's copy)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.handlers import Actor
from handlers.dates import local_day
from handlers.public.lists import public_name
from handlers.reference import data as ref
from tests.public.conftest import Console

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
BUREAU = Actor("聊城市行政审批局", "approval_bureau", "liaocheng")
CLERK = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("东昌府区广通纺织有限公司", "东昌府区广通纺织有限公司"),
        ("东阿县牛角店镇胡屯村村民委员会", "东阿县牛角店镇胡屯村村民委员会"),
        ("临清市城市管理局", "临清市城市管理局"),
        ("张三", "张**"),
        ("欧阳明华", "欧**"),
        ("李四（个人）", "李**"),
        ("欧阳会明", "欧**"),  # 会 inside a name is no 委员会
        ("聊城某某律师事务所（普通合伙）", "聊城某某律师事务所（普通合伙）"),
        ("东阿县刘集镇人民政府", "东阿县刘集镇人民政府"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_natural_persons_name_is_masked(name: Any, shown: str) -> None:
    assert public_name(name) == shown


def _rows(client: TestClient, name: str, **params: str) -> list[dict[str, Any]]:
    answer = client.get(f"/gk/{name}.json", params=params)
    assert answer.status_code == 200
    rows: list[dict[str, Any]] = answer.json()["rows"]
    return rows


def test_an_application_is_published_once_decided(anonymous: TestClient, console: Console) -> None:
    engine, code = console.engine, "371502-01-901"
    data = {
        "outfall_code": code,
        "county": "dongchangfu",
        "sub_type": "industrial_enterprise",
        "kind": "new",
        "eia_level": "city",
        "river": "tuhaihe",
        "name": "某化工公司废水排污口",
        "discharging_unit": "聊城某化工有限公司",
    }
    applicant = Actor("聊城某化工有限公司", "applicant", "dongchangfu")
    case = engine.create_case("setup_approval", data, applicant, subject=code)
    engine.fire(case.id, "accept", BUREAU)
    assert code not in anonymous.get("/gk/decisions").text  # reviewing: nothing decided
    assert code not in {r["outfall_code"] for r in _rows(anonymous, "decisions")}

    engine.fire(case.id, "approve", BUREAU, {"decision_number": "聊审批排污〔2025〕901号"})
    today = local_day(console.clock.now()).isoformat()
    found = [r for r in _rows(anonymous, "decisions") if r["outfall_code"] == code]
    assert found == [
        {
            "decided_on": today,
            "decision_number": "聊审批排污〔2025〕901号",
            "kind": "设置审批",
            "decision": "批准",
            "application": "新设",
            "outfall_code": code,
            "outfall_name": "某化工公司废水排污口",
            "unit": "聊城某化工有限公司",
            "county": "东昌府区",
            "river": "徒骇河",
            "authority": "市行政审批局",
        }
    ]
    yesterday = (local_day(console.clock.now()) - timedelta(days=1)).isoformat()
    assert code not in {r["outfall_code"] for r in _rows(anonymous, "decisions", as_of=yesterday)}


def test_a_penalty_is_published_once_decided_a_persons_name_masked(
    anonymous: TestClient, console: Console
) -> None:
    engine, code = console.engine, "371502-01-004"
    data = {"source": "patrol", "county": "dongchangfu", "violation_type": "private_outfall"}
    case = engine.create_case("enforcement", {**data, "outfall_code": code}, CLERK, subject=code)
    engine.fire(case.id, "start_tracing", CLERK)
    engine.fire(case.id, "record_units", CLERK, {"units": [{"name": "赵六", "main": True}]})
    number = "东昌环罚〔2025〕017号"
    assert number not in anonymous.get("/gk/enforcement").text
    engine.fire(case.id, "decide_penalty", CLERK, {"penalty_decision": number, "fine_yuan": 50000})
    found = [r for r in _rows(anonymous, "enforcement") if r["decision_number"] == number]
    assert [(r["unit"], r["violation"], r["penalty"]) for r in found] == [
        ("赵**", "私设排污口", "罚款 50,000 元")
    ]
    for path in ("/gk/enforcement", "/gk/enforcement.csv", "/gk/enforcement.json"):
        text = anonymous.get(path).content.decode("utf-8-sig")
        assert number in text
        assert "赵六" not in text


def test_a_preset_decision_number_does_not_make_a_case_decided(
    anonymous: TestClient, console: Console
) -> None:
    data = {
        "source": "patrol",
        "county": "dongchangfu",
        "violation_type": "over_limit",
        "penalty_decision": "东昌环罚〔2025〕099号",  # given at the opening, not decided
    }
    console.engine.create_case("enforcement", data, CLERK)
    assert "东昌环罚〔2025〕099号" not in anonymous.get("/gk/enforcement.json").text


def test_a_spot_check_is_published_after_the_inspection_only(
    anonymous: TestClient, console: Console
) -> None:
    """Last in the module: the clock moves on to the inspection day."""
    engine = console.engine
    waiting = next(
        c
        for c in engine.list_cases(None, workflow="effectiveness_check", limit=1000)
        if c.state == "awaiting_spot_check"
    )
    county = waiting.data["county"]
    day = local_day(console.clock.now()) + timedelta(days=10)
    inspectors = ["张伟", "王芳", "李娜", "刘洋"]
    payload = {"inspectors": inspectors, "inspection_date": day.isoformat()}
    engine.fire(waiting.id, "draw_sample", CITY, payload)
    drawn = engine.get_case(waiting.id).data["spot_check_targets"]
    codes = [t["outfall_code"] for t in drawn]
    assert codes
    before = anonymous.get("/gk/inspections").text + anonymous.get("/gk/inspections.json").text
    for code in codes:
        assert code not in before  # kept from the county (and everyone) until the day
    assert day.isoformat() not in before

    console.clock.advance(timedelta(days=10))
    results = [{"outfall_code": codes[0], "passed": False, "finding": "未设置标识牌"}]
    results += [{"outfall_code": c, "passed": True} for c in codes[1:]]
    engine.fire(waiting.id, "report_spot_check", CITY, {"results": results})
    rows = [r for r in _rows(anonymous, "inspections") if r["inspection_date"] == str(day)]
    assert {(r["outfall_code"], r["result"], r["finding"]) for r in rows} == {
        (codes[0], "不合格", "未设置标识牌"),
        *((c, "合格", "") for c in codes[1:]),
    }
    assert all(r["drawn"] == len(codes) and r["drawn_on"] < str(day) for r in rows)
    assert {r["county"] for r in rows} == {ref.jurisdiction_name(engine.reference, county)}
    page = anonymous.get("/gk/inspections").text
    assert "未设置标识牌" in page
    assert not any(name in page for name in inspectors)  # the inspectors are not listed
    earlier = _rows(anonymous, "inspections", as_of=str(day - timedelta(days=1)))
    assert str(day) not in {r["inspection_date"] for r in earlier}
