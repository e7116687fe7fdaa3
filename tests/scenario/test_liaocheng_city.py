"""A Liaocheng city driven through the plan's timeline on the fake clock, end to end.

33 outfalls, 3 in each of the 11 county-level units (4 sub-types, rivers of both basins), all
screened on 2024-03-01 and traced on 2024-03-10. The 6 Yellow River basin outfalls (阳谷县 3,
东阿县 2, 莘县 1) must be done by 2024-06-30, the other 27 by 2025-12-31.

- 4 Yellow River outfalls are de-listed on 2024-06-03 (阳谷县-1, 东阿县 1-2, 莘县-1);
  阳谷县-2 is de-listed late on 2024-10-15 and 阳谷县-3 never: 阳谷县's 督办 climbs
  通报 (2024-07) → 预警 (2024-08) → 约谈 (2024-09), each rung proposed by the schedule when the
  previous one's 20 working days ran out and confirmed by the city EEB (视情, 四(三)).
- 24 Hai He outfalls are de-listed on 2025-06-20, 冠县-1 on 2025-11-17; 冠县-2 and 冠县-3 are
  not finished by 2025-12-31, so 冠县's 督办 opens at 通报 and, once the city confirms the
  proposal, reaches 预警 in February 2026.
- 东昌府区's 2025 spot-check draws 2 of its 3 outfalls and re-draws identically.
- A 34th outfall, 东阿县's urban WWTP outfall, is found compliant when traced (无需整治): counted
  in 应整治 while untraced, out of it afterwards, so 完成率 stays 已完成 / the 33 to be rectified.
- A new 阳谷县 outfall found on 2024-09-02, after the Yellow River deadline, gets its own
  deadline (the period, then its plan) instead of being overdue at once (新增排污口动态清零).
- Two new 临清市 outfalls are approved in 2025 and enter the ledger, published (三(四)2).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from engine.time.sweep import sweep
from handlers import reports
from handlers.dates import CST
from handlers.demo.city import COUNTIES
from handlers.ledger import Ledger
from handlers.reference import data as ref
from handlers.reference import sectors
from handlers.sampling.commit import pool_digest, verify_draw
from handlers.sampling.draw import sample_size
from tests.attachkit import stand_ins
from tests.conftest import ROOT

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
SUB_TYPES = ("industrial_enterprise", "urban_wwtp", "park_wwtp", "rural_scattered")
HAIHE = ("tuhaihe", "majiahe", "weiyunhe", "xiaoyunhe", "zhaoniuhe")
YELLOW = {"yanggu": ("huanghe", "jindihe", "huanghe"), "donge": ("huanghe", "huanghe")}
YELLOW["shenxian"] = ("jindihe",)
ON_TIME_YELLOW = ("yanggu-1", "donge-1", "donge-2", "shenxian-1")
NEVER = ("yanggu-3", "guanxian-2", "guanxian-3")
INSPECTORS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆"]


def cst(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), CST)


def river_of(county: str, seq: int) -> str:
    yellow = YELLOW.get(county, ())
    return yellow[seq - 1] if seq <= len(yellow) else HAIHE[(seq + len(county)) % len(HAIHE)]


class City:
    def __init__(self, engine: Engine, clock: FakeClock) -> None:
        self.engine, self.clock, self.ledger = engine, clock, Ledger(engine)
        self.counties = ref.county_codes(engine.reference)
        self.codes: dict[str, str] = {}  # "yanggu-2" -> ledger code

    def at(self, day: str) -> None:
        self.clock.set(cst(day))
        sweep(self.engine, self.clock.now())

    def actor(self, key: str, role: str) -> Actor:
        return Actor(role, role, key.split("-")[0])

    def case(self, key: str, workflow: str) -> int:
        cases = self.ledger.get(self.codes[key]).cases
        return next(c.id for c in cases if c.workflow == workflow)

    def fire(self, key: str, workflow: str, trigger: str, actor: Actor, **payload: Any) -> None:
        case_id = self.case(key, workflow)
        filled = stand_ins(self.engine, actor, workflow, payload, trigger=trigger, case_id=case_id)
        self.engine.fire(case_id, trigger, actor, filled)

    def screen(self, admin: Actor) -> None:
        for county in self.counties:
            lon, lat = COUNTIES[county][:2]
            prefix = ref.division_code(self.engine.reference, county)
            for seq in (1, 2, 3):
                key, code = f"{county}-{seq}", f"{prefix}-{seq:04d}"
                self.codes[key] = code
                record = {
                    "code": code,
                    "name": f"{ref.jurisdiction_name(self.engine.reference, county)}{seq}号排污口",
                    "sub_type": SUB_TYPES[(seq + len(county)) % len(SUB_TYPES)],
                    "county": county,
                    "river": river_of(county, seq),
                    "longitude": lon + seq / 100,
                    "latitude": lat,
                    "entry_mode": "管道",
                    "found_at": "2024-02-20",
                }
                self.ledger.add(record, admin)

    def trace_and_plan(self) -> None:
        for key in self.codes:
            eeb = self.actor(key, "county_eeb")
            party = f"{key}单位"
            self.fire(
                key,
                "responsibility",
                "identify",
                eeb,
                responsible_party=party,
                needs_rectification=True,
            )
            self.fire(key, "rectification", "choose_mode", eeb, mode="regularise")

    def finish(self, keys: list[str], days: tuple[str, str, str]) -> None:
        steps = (
            ("complete", "county_eeb"),
            ("pre_close", "county_gov"),
            ("approve_delisting", "eeb_city"),
        )
        for day, (trigger, role) in zip(days, steps, strict=True):
            self.at(day)
            for key in keys:
                actor = CITY if role == "eeb_city" else self.actor(key, role)
                payload: dict[str, Any] = {}
                if trigger == "complete":
                    payload = {
                        "evidence": {"photos": [f"{key}.jpg"]},
                        "standardisation": {
                            "signboard": True,
                            "sampling_point": True,
                            "qr_code": True,
                        },
                    }
                if trigger == "approve_delisting":
                    self.cosign(key)
                self.fire(key, "rectification", trigger, actor, **payload)

    def cosign(self, key: str) -> None:
        """四(二): the sector department of the outfall's sub-type co-signs before 销号."""
        record = self.ledger.get(self.codes[key]).record
        departments = sectors.cosign_departments(self.engine.reference, record["sub_type"])
        if departments:  # one of them signs: an urban WWTP is 城管's or 住建's
            role = (ref.department(self.engine.reference, departments[0]) or {})["roles"][0]
            signer = Actor(departments[0], role, "liaocheng")
            self.fire(key, "rectification", "sector_cosign", signer, opinion="同意销号")

    def confirm(self, county: str) -> None:
        """视情: the city EEB confirms the rung the schedule proposed for the county."""
        (case,) = self.engine.list_cases(workflow="escalation", subject=f"{county}:rectification")
        self.engine.fire(case.id, "confirm_rung", CITY, {"decision": "市生态环境局决定升级"})

    def rung(self, county: str) -> str:
        (case,) = self.engine.list_cases(workflow="escalation", subject=f"{county}:rectification")
        return case.state


def compliant_outfall(city: City, admin: Actor) -> str:
    """东阿县's urban WWTP outfall on the Yellow River, screened with the others and found
    compliant when traced (无需整治): out of 应整治, so it neither lowers nor raises 完成率."""
    code = f"{ref.division_code(city.engine.reference, 'donge')}-0009"
    record = {"code": code, "name": "东阿县城区污水处理厂排污口", "sub_type": "urban_wwtp"}
    record |= {"county": "donge", "river": "huanghe", "entry_mode": "管道"}
    city.ledger.add({**record, "found_at": "2024-02-20"}, admin)
    return code


def trace_compliant(city: City, code: str) -> None:
    (case,) = [c for c in city.ledger.get(code).cases if c.workflow == "responsibility"]
    payload = {"responsible_party": "东阿县城区污水处理厂", "needs_rectification": False}
    city.engine.fire(case.id, "identify", Actor("county_eeb", "county_eeb", "donge"), payload)


def rows(report: reports.Report) -> list[dict[str, Any]]:
    return list(report.to_json()["rows"])


def scope(report: reports.Report, label: str) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["county"]: (r["total"], r["on_time"], r["late"], r["open"])
        for r in rows(report)
        if r["scope"] == label
    }


@pytest.fixture
def city(engine: Engine, clock: FakeClock) -> City:
    engine.load([ROOT / "workflows"])
    return City(engine, clock)


def test_liaocheng_from_screening_to_delisting(city: City, admin: Actor) -> None:
    engine, ledger = city.engine, city.ledger
    assert len(city.counties) == 11
    city.at("2024-03-01")
    city.screen(admin)
    # 1. screening: 33 outfalls, each with its responsibility case opened automatically
    assert ledger.count() == 33
    tracing = engine.list_cases(workflow="responsibility", state="tracing", limit=1000)
    assert len(tracing) == 33
    compliant = compliant_outfall(city, admin)
    untraced = rows(reports.progress(ledger, date(2024, 3, 5)))[-1]
    assert (untraced["tracing"], untraced["due"]) == (34, 34)  # not traced: not done, not out
    assert {ledger.get(c).record["basin"] for c in city.codes.values()} == {"yellow_river", "haihe"}
    city.at("2024-03-10")
    city.trace_and_plan()
    trace_compliant(city, compliant)
    assert ledger.get(compliant).record["rectification_status"] == "not_needed"
    assert engine.list_cases(workflow="responsibility", is_open=True, limit=1000) == []
    rectifying = engine.list_cases(workflow="rectification", limit=1000)
    assert len(rectifying) == 33
    assert {c.state for c in rectifying} == {"regularising"}
    deadlines = {c.data["outfall_code"]: c.data["deadline"] for c in rectifying}
    yellow_codes = {city.codes[f"{c}-{i + 1}"] for c, rs in YELLOW.items() for i in range(len(rs))}
    assert len(yellow_codes) == 6
    assert {deadlines[c] for c in yellow_codes} == {"2024-06-30"}
    others = set(deadlines) - yellow_codes
    assert len(others) == 27
    assert {deadlines[c] for c in others} == {"2025-12-31"}
    assert {ledger.get(c).record["sub_type"] for c in city.codes.values()} == set(SUB_TYPES)

    # 2. the Yellow River deadline: four on time, 阳谷县 late with two outfalls
    city.finish(list(ON_TIME_YELLOW), ("2024-05-20", "2024-05-27", "2024-06-03"))
    city.at("2024-06-30")
    assert engine.list_cases(workflow="escalation", limit=1000) == []
    city.at("2024-07-01")
    ladders = engine.list_cases(workflow="escalation", limit=1000)
    assert [c.data["target"] for c in ladders] == ["yanggu"]  # one ladder per county
    city.at("2024-07-20")
    assert city.rung("yanggu") == "notice"
    city.at("2024-08-10")
    assert city.rung("yanggu") == "warning_proposed"  # proposed, not climbed
    city.confirm("yanggu")
    assert city.rung("yanggu") == "warning"
    city.at("2024-09-10")
    assert city.rung("yanggu") == "interview_proposed"
    city.finish(["yanggu-2"], ("2024-10-01", "2024-10-08", "2024-10-15"))

    # report as of the Yellow River deadline, taken after the fact
    at_yellow = reports.deadlines(ledger, date(2024, 6, 30))
    assert scope(at_yellow, "黄河流域") == {
        "阳谷县": (3, 1, 0, 2),
        "莘县": (1, 1, 0, 0),
        "东阿县": (2, 2, 0, 0),
        "合计": (6, 4, 0, 2),
    }
    assert scope(at_yellow, "全市")["合计"] == (33, 4, 0, 29)
    yellow = {r["county"]: r for r in rows(at_yellow) if r["scope"] == "黄河流域"}
    assert (yellow["东阿县"]["not_needed"], yellow["东阿县"]["done_rate"]) == (1, "100.0%")
    assert (yellow["合计"]["outfalls"], yellow["合计"]["done_rate"]) == (7, "66.7%")
    progress = rows(reports.progress(ledger, date(2024, 6, 30)))[-1]
    assert (progress["total"], progress["rectifying"], progress["done"]) == (34, 29, 4)
    assert (progress["not_needed"], progress["due"], progress["done_rate"]) == (1, 33, "12.1%")
    assert reports.overdue(ledger, date(2024, 6, 30)).rows == []
    july = rows(reports.overdue(ledger, date(2024, 7, 20)))
    assert [(r["outfall"], r["days_overdue"], r["escalation_rung"]) for r in july] == [
        (city.codes["yanggu-2"], 20, "通报"),
        (city.codes["yanggu-3"], 20, "通报"),
    ]

    # 3. 24 Hai He outfalls done in June 2025; a city spot-check in 东昌府区
    haihe = [k for k in city.codes if k not in (*ON_TIME_YELLOW, "yanggu-2", "guanxian-1", *NEVER)]
    assert len(haihe) == 24
    city.finish(haihe, ("2025-06-06", "2025-06-13", "2025-06-20"))
    city.at("2025-07-01")
    check = engine.create_case(
        "effectiveness_check",
        {"county": "dongchangfu", "year": 2025},
        city.actor("dongchangfu", "county_eeb"),
        subject="dongchangfu:2025",
    ).id
    eeb = city.actor("dongchangfu", "county_eeb")
    engine.fire(check, "submit_plan", eeb, {"plan": {"summary": "每季度自查一轮"}})
    engine.fire(check, "report_self_check", eeb, {"results": []})
    draw = {"inspectors": INSPECTORS, "inspection_date": "2025-07-08"}
    drawn = engine.fire(check, "draw_sample", CITY, draw)
    record = drawn.data["spot_check"]
    targets = drawn.data["spot_check_targets"]
    pool_codes = {city.codes[f"dongchangfu-{i}"] for i in (1, 2, 3)}
    assert {p["code"] for p in record["pool"]} == pool_codes
    assert record["commitment"]["pool_sha256"] == pool_digest(pool_codes)
    assert len(targets) == sample_size(3, 0.05) == 1  # the city's ratio, not the drawer's
    assert {t["outfall_code"] for t in targets} <= pool_codes
    assert all(len(t["inspectors"]) == 2 for t in targets)
    # 东昌府区 does not see what will be inspected, nor when, until the day (三(三) 双随机)
    before = engine.get_case(check, eeb)
    assert {"spot_check_targets", "inspection_date", "draw_secret"} <= before.hidden
    city.at("2025-07-08")
    assert engine.get_case(check, eeb).data["spot_check_targets"] == targets
    results = [{"outfall_code": t["outfall_code"], "passed": True} for t in targets]
    view = engine.fire(check, "report_spot_check", CITY, {"results": results})
    publication = view.data["publication"]  # 一公开: revealed secret and results
    assert (publication["published_on"], publication["results"]) == ("2025-07-08", results)
    assert verify_draw(publication).ok
    assert view.state == "provincial_verification"

    # 4. the citywide deadline: 冠县 late with two outfalls
    city.finish(["guanxian-1"], ("2025-11-03", "2025-11-10", "2025-11-17"))
    city.at("2025-12-31")
    assert city.rung("yanggu") == "interview_proposed"
    at_end = reports.deadlines(ledger, date(2025, 12, 31))
    assert scope(at_end, "黄河流域")["阳谷县"] == (3, 1, 1, 1)
    assert scope(at_end, "黄河流域")["合计"] == (6, 4, 1, 1)
    citywide = scope(at_end, "全市")
    assert citywide["合计"] == (33, 30, 0, 3)
    assert citywide["冠县"] == (3, 1, 0, 2)
    assert citywide["阳谷县"] == (3, 2, 0, 1)
    assert all(citywide[n][1] == 3 for n in citywide if n not in ("冠县", "阳谷县", "合计"))
    final = rows(reports.progress(ledger, date(2025, 12, 31)))[-1]
    assert (final["total"], final["rectifying"], final["done"], final["done_rate"]) == (
        34,
        3,
        30,
        "90.9%",  # 30 of the 33 to be rectified; the compliant one is 无需整治
    )
    assert (final["not_needed"], final["untraced"], final["pending"]) == (1, 0, 0)
    late = rows(reports.overdue(ledger, date(2025, 12, 31)))
    assert [(r["outfall"], r["days_overdue"], r["escalation_rung"]) for r in late] == [
        (city.codes["yanggu-3"], 549, "约谈（已提出，待批准）")
    ]
    city.at("2026-01-10")
    assert city.rung("guanxian") == "notice"
    january = rows(reports.overdue(ledger, date(2026, 1, 10)))
    assert [(r["outfall"], r["days_overdue"], r["escalation_rung"]) for r in january] == [
        (city.codes["yanggu-3"], 559, "约谈（已提出，待批准）"),
        (city.codes["guanxian-2"], 10, "通报"),
        (city.codes["guanxian-3"], 10, "通报"),
    ]
    city.at("2026-02-10")
    assert city.rung("guanxian") == "warning_proposed"
    city.confirm("guanxian")
    assert city.rung("guanxian") == "warning"
    delisted = engine.list_cases(workflow="rectification", state="delisted", limit=1000)
    assert len(delisted) == 30

    # 5. every case replays to its stored state and the audit chain is sound
    with engine.store.read() as tx:
        case_ids = list(tx.case_ids())
    assert len(case_ids) == 33 + 33 + 2 + 1 + 1  # the compliant outfall's tracing
    for case_id in case_ids:
        row, replayed = engine.replay(case_id)
        assert replayed.matches(row), (case_id, replayed.problems)
    assert engine.verify_audit() == []


def test_new_outfalls_are_approved_into_the_ledger_and_published(city: City) -> None:
    """Issue 15 items 5-7 across 2025: two 临清市 enterprises apply for new outfalls, one into
    徒骇河 (the city decides), one into 卫运河 (the 海河 basin bureau decides); the first is
    left unanswered and is accepted by law on receipt. Both enter the ledger, and what the
    public column will show is recorded."""
    engine, ledger = city.engine, city.ledger
    city.at("2025-03-03")  # Monday
    applications = {
        "371581-IW-0001": ("tuhaihe", "临清市某纺织公司", "聊审批排〔2025〕21号"),
        "371581-IW-0002": ("weiyunhe", "临清市某造纸公司", "海河北海环审〔2025〕4号"),
    }
    cases = {}
    for code, (river, unit, _) in applications.items():
        data = {
            "outfall_code": code,
            "county": "linqing",
            "sub_type": "industrial_enterprise",
            "kind": "new",
            "eia_level": "city",
            "river": river,
            "name": f"{unit}废水排污口",
            "discharging_unit": unit,
        }
        applicant = Actor(unit, "applicant", "linqing")
        cases[code] = engine.create_case("setup_approval", data, applicant, subject=code).id
    bureau = Actor("聊城市行政审批服务局", "approval_bureau", "liaocheng")
    haihe = Actor("生态环境部海河流域北海海域生态环境监督管理局", "basin_bureau", None)
    city.at("2025-03-05")
    engine.fire(cases["371581-IW-0002"], "accept", bureau)
    city.at("2025-03-11")  # 5 working days after receipt: the silence is acceptance
    deemed = engine.get_case(cases["371581-IW-0001"])
    assert (deemed.state, deemed.data["acceptance"]) == (
        "reviewing",
        {"deemed": True, "accepted_on": "2025-03-03"},
    )
    city.at("2025-03-20")
    for code, (_, _, number) in applications.items():
        decider = haihe if code.endswith("2") else bureau
        engine.fire(cases[code], "approve", decider, {"decision_number": number})
    listed = {o.code: o.record for o in ledger.list(county="linqing")}
    assert set(applications) <= set(listed)
    for code, (river, unit, number) in applications.items():
        record = listed[code]
        assert (record["river"], record["responsible_party"]) == (river, unit)
        assert (record["setup_basis"], record["setup_decision"]) == ("approval", number)
        assert record["setup"]["decided_on"] == "2025-03-20"
        published = engine.get_case(cases[code]).data["publication"]
        assert (published["decision_number"], published["outfall_code"]) == (number, code)
        assert published["result"] == "批准"
    assert engine.get_case(cases["371581-IW-0002"]).data["publication"]["authority"] == (
        "生态环境部海河流域北海海域生态环境监督管理局"
    )
    with engine.store.read() as tx:
        case_ids = list(tx.case_ids())
    for case_id in case_ids:
        row, replayed = engine.replay(case_id)
        assert replayed.matches(row), (case_id, replayed.problems)


def test_an_outfall_found_after_the_yellow_river_deadline_gets_its_own(
    city: City, admin: Actor
) -> None:
    """Issue 15 item 2 (新增排污口动态清零, 三(一)): 阳谷县 finds a new outfall on the 黄河 on
    2024-09-02, after the basin's 2024-06-30. It is not overdue the day it is found: its deadline
    is the 6-month period, then the county's own plan (一口一策); missing that, it escalates on
    its own date. The deadline report shows it as 新增, outside the campaign's 应整治."""
    engine, ledger = city.engine, city.ledger
    city.at("2024-09-02")
    code = f"{ref.division_code(engine.reference, 'yanggu')}-0021"
    record = {"code": code, "name": "阳谷县某食品公司废水排污口", "county": "yanggu"}
    record |= {"sub_type": "industrial_enterprise", "river": "huanghe", "entry_mode": "管道"}
    ledger.add({**record, "found_at": "2024-09-02"}, admin)
    eeb = Actor("阳谷县生态环境分局", "county_eeb", "yanggu")
    (tracing,) = [c for c in ledger.get(code).cases if c.workflow == "responsibility"]
    payload = {"responsible_party": "阳谷县某食品公司", "needs_rectification": True}
    engine.fire(tracing.id, "identify", eeb, payload)
    (case,) = [c for c in ledger.get(code).cases if c.workflow == "rectification"]
    view = engine.get_case(case.id)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2025-03-02", "period")
    city.at("2024-09-03")
    assert engine.list_cases(workflow="escalation", subject="yanggu:rectification") == []
    plan = {"mode": "regularise", "planned_completion": "2024-12-31"}
    view = engine.fire(case.id, "choose_mode", eeb, plan)
    assert (view.data["deadline"], view.data["deadline_basis"]) == ("2024-12-31", "plan")
    city.at("2024-12-31")
    assert not engine.get_case(case.id).data.get("overdue")
    city.at("2025-01-02")
    assert engine.get_case(case.id).data["overdue"] is True
    assert len(engine.list_cases(workflow="escalation", subject="yanggu:rectification")) == 1
    (yellow,) = [
        r
        for r in rows(reports.deadlines(ledger, date(2025, 1, 2)))
        if r["scope"] == "黄河流域" and r["county"] == "阳谷县"
    ]
    assert (yellow["outfalls"], yellow["total"], yellow["new"], yellow["new_cleared"]) == (
        0,
        0,
        1,
        0,
    )
