"""The demo's river patrols (河长巡河, 三(四)5) and daily supervision (日常监督检查, 三(四)3)
over 2024:

- the river chiefs and grid inspectors of four counties patrol their busiest section each
  quarter, checking the outfalls of the ledger on it; in June each finds a problem, notified to
  the outfall's department and replied on time; in September 东阿县's chief finds a 市政雨洪排口
  discharging in dry weather, and 市城管局 lets the notice lapse: it turns overdue, 市城管局 is
  escalated (通报), replies late, and the city closes the escalation;
- two 市政雨洪排口 are added to the ledger (found in February 2024) and inspected by 城管 and
  住建: one clean, one ordered to fix its sign board and re-inspected, and in October one
  found discharging in dry weather (雨水口晴天排水), referred to enforcement; a county branch
  inspects an enterprise's stormwater outfall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from engine.errors import Refused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.demo.names import county_eeb_name
from handlers.demo.record_fields import record_fields
from handlers.flows.patrol_notice import department_for
from handlers.ledger import Ledger
from handlers.reference import data as ref

__all__ = ["STORM_OUTFALLS", "plan"]

PATROLLED = ("donge", "yanggu", "dongchangfu", "gaotang")
QUARTERS = ((3, 5), (6, 4), (9, 3), (12, 3))  # a Tuesday of each quarter, 2024
LAPSING = "donge"  # its September notice lapses: overdue and escalated
OK = {"signboard_ok": True, "no_dry_weather_flow": True, "no_abnormal_colour_odour": True}
STORM_CLEAN = {
    "signboard_ok": True,
    "no_hidden_pipe": True,
    "no_sewage_into_storm_drain": True,
    "no_dry_weather_discharge": True,
}
# 市政雨洪排口 the driver adds (found 2024-02-20), with the towns' urban management bureaus
STORM_OUTFALLS = (
    {
        "code": "371524-15-901",
        "name": "东阿县城区新城路雨水排口",
        "county": "donge",
        "river": "huanghe",
        "responsible_party": "东阿县综合行政执法局",
        "longitude": 116.2481,
        "latitude": 36.3352,
    },
    {
        "code": "371502-15-901",
        "name": "东昌府区古楼街道光岳路雨水排口",
        "county": "dongchangfu",
        "river": "xiaoyunhe",
        "responsible_party": "聊城市东昌府区城市管理局",
        "longitude": 115.9902,
        "latitude": 36.4521,
    },
)


class Planned(Protocol):
    @property
    def record(self) -> dict[str, Any]: ...
    @property
    def found(self) -> datetime: ...


class _Story(Protocol):
    engine: Engine
    ledger: Ledger
    city: Actor
    result: Any  # handlers.demo.city.DemoResult: counts the outfalls added

    def at(self, when: datetime, what: str, step: Callable[[], None]) -> None: ...


def _at(month: int, day: int, year: int = 2024) -> datetime:
    return datetime(year, month, day, 1, 0, tzinfo=UTC)  # 09:00 in Liaocheng


def _department_actor(reference: Any, department: str, county: str) -> Actor:
    """Who answers for ``department`` in ``county``: the EEB's county branch, or the city
    department itself."""
    if department == "eeb_city":
        return Actor(
            county_eeb_name(ref.jurisdiction_name(reference, county)), "county_eeb", county
        )
    found = ref.department(reference, department) or {}
    role = str((found.get("roles") or [department])[0])
    return Actor(f"聊城{found.get('name', department)}", role, "liaocheng")


def _fire(
    story: _Story, when: datetime, what: str, ids: dict[str, int], key: str, *args: Any
) -> None:
    def step() -> None:
        if key not in ids:  # the step that opens it was refused (reported as such)
            raise Refused(f"{what}: no {key} case")
        story.engine.fire(ids[key], *args)

    story.at(when, what, step)


def plan(story: _Story, planned: Sequence[Planned]) -> None:
    _add_storm_outfalls(story)
    for county in PATROLLED:
        _patrols(story, county, planned)
    _inspections(story, planned)


def _section(reference: Any, county: str, planned: Sequence[Planned]) -> dict[str, Any]:
    """The county's section with the most outfalls of the demo on its river."""
    sections = ref.river_sections(reference, county=county)
    on = {
        s["code"]: sum(
            1 for p in planned if p.record["county"] == county and p.record["river"] == s["river"]
        )
        for s in sections
    }
    return max(sections, key=lambda s: on[s["code"]])


def _patrols(story: _Story, county: str, planned: Sequence[Planned]) -> None:
    reference = story.engine.reference
    section = _section(reference, county, planned)
    chief = Actor(f"{section['name']}河长", "river_chief", county)
    grid = Actor(f"{ref.jurisdiction_name(reference, county)}环保网格员", "grid_inspector", county)
    storm = [o for o in STORM_OUTFALLS if o["county"] == county and o["river"] == section["river"]]
    for n, (month, day) in enumerate(QUARTERS):
        when = _at(month, day)
        codes = [
            p.record["code"]
            for p in planned
            if p.record["county"] == county
            and p.record["river"] == section["river"]
            and p.found < when
        ][:4]
        outfalls: list[dict[str, Any]] = [{"outfall_code": c, "checks": dict(OK)} for c in codes]
        problem: tuple[str, str] | None = None  # (outfall, its sub_type)
        if month == 6 and codes:
            outfalls[0] = {
                "outfall_code": codes[0],
                "checks": {**OK, "signboard_ok": False},
                "problem": "标识牌缺失，无法核对排污口信息",
            }
            problem = (
                codes[0],
                next(p.record["sub_type"] for p in planned if p.record["code"] == codes[0]),
            )
        if month >= 3 and storm:
            dry = month == 9
            entry: dict[str, Any] = {
                "outfall_code": storm[0]["code"],
                "checks": {**OK, "no_dry_weather_flow": not dry},
            }
            if dry:
                entry["problem"] = "连续晴天，雨水排口有浑浊污水排出"
                problem = (storm[0]["code"], "municipal_storm")
            outfalls.append(entry)
        actor = chief if n % 2 == 0 else grid
        subject = f"{section['code']}:{when.date().isoformat()}"
        data = {
            "section": section["code"],
            "county": county,
            "date": when.date().isoformat(),
            "route": f"{section['name']}沿河巡查",
            "outfalls": outfalls,
        }
        ids: dict[str, int] = {}

        def patrol(
            data: dict[str, Any] = data,
            actor: Actor = actor,
            subject: str = subject,
            ids: dict[str, int] = ids,
        ) -> None:
            view = story.engine.create_case("river_patrol", data, actor, subject=subject)
            done = story.engine.fire(view.id, "submit", actor)
            for notice in done.data.get("notices") or []:
                ids["notice"] = int(notice["case_id"])

        story.at(when + timedelta(hours=2), f"{subject} patrol", patrol)
        if problem is not None:
            _answer(
                story, county, when, ids, chief, problem[1], late=month == 9 and county == LAPSING
            )


def _answer(
    story: _Story,
    county: str,
    when: datetime,
    ids: dict[str, int],
    chief: Actor,
    sub: str,
    late: bool,
) -> None:
    """The department answers the notice: on time, or (``late``) after it lapsed and its
    escalation opened; the river chief confirms."""
    reference = story.engine.reference
    dept = _department_actor(reference, department_for(reference, sub), county)
    start = when + timedelta(days=1) if not late else when + timedelta(days=21)
    what = f"{county} {when.date()} notice"
    _fire(story, start, f"{what} acknowledged", ids, "notice", "acknowledge", dept)
    reply = {"measures": "已现场核查并督促责任单位整改", "reply": "问题已整改到位"}
    if late:
        reply = {
            "measures": "封堵雨水管网混接的生活污水管，排口已无晴天排水",
            "reply": "已整改（逾期答复）",
        }
    _fire(story, start + timedelta(days=2), f"{what} replied", ids, "notice", "reply", dept, reply)
    _fire(story, start + timedelta(days=4), f"{what} confirmed", ids, "notice", "confirm", chief)
    if late:

        def resolve() -> None:
            escalation = story.engine.get_case(ids["notice"]).data["escalation_case_id"]
            story.engine.fire(escalation, "resolve", story.city)

        story.at(start + timedelta(days=7), f"{what} escalation resolved", resolve)


def _add_storm_outfalls(story: _Story) -> None:
    for given in STORM_OUTFALLS:
        county = str(given["county"])
        eeb = _department_actor(story.engine.reference, "eeb_city", county)
        record = {
            **given,
            "sub_type": "municipal_storm",
            "entry_mode": "管道",
            "found_at": "2024-02-20",
        }
        record["address"] = str(given["name"]).removesuffix("雨水排口")
        party = str(record.pop("responsible_party"))
        record |= record_fields(story.engine.reference, record)  # zone, regime, supervisor ...

        def add(record: dict[str, Any] = record, eeb: Actor = eeb, party: str = party) -> None:
            story.ledger.add(record, eeb)
            story.result.outfalls += 1
            (case,) = story.engine.list_cases(workflow="responsibility", subject=record["code"])
            payload = {"responsible_party": party, "needs_rectification": True}
            story.engine.fire(case.id, "identify", eeb, payload)

        story.at(_at(2, 20), f"{record['code']} screened", add)


def _inspect(
    story: _Story,
    when: datetime,
    code: str,
    county: str,
    actor: Actor,
    trigger: str,
    checklist: dict[str, bool],
    reinspect: datetime | None = None,
) -> None:
    ids: dict[str, int] = {}

    def inspect() -> None:
        data = {"outfall_code": code, "county": county, "date": when.date().isoformat()}
        view = story.engine.create_case("daily_supervision", data, actor, subject=code)
        ids["case"] = view.id
        story.engine.fire(view.id, trigger, actor, {"checklist": checklist})

    story.at(when, f"{code} inspected {when.date()}", inspect)
    if reinspect is not None:
        note = {"rectified": True, "note": "已按规范设置标识牌"}
        _fire(story, reinspect, f"{code} re-inspected", ids, "case", "reinspect", actor, note)


def _inspections(story: _Story, planned: Sequence[Planned]) -> None:
    reference = story.engine.reference
    urban = _department_actor(reference, "urban_mgmt_city", "donge")
    housing = _department_actor(reference, "housing_city", "dongchangfu")
    donge, dongchangfu = (str(o["code"]) for o in STORM_OUTFALLS)
    _inspect(story, _at(4, 16), donge, "donge", urban, "conclude", dict(STORM_CLEAN))
    _inspect(
        story,
        _at(7, 9),
        dongchangfu,
        "dongchangfu",
        housing,
        "order_rectification",
        {**STORM_CLEAN, "signboard_ok": False},
        reinspect=_at(7, 23),
    )
    dry = {**STORM_CLEAN, "no_dry_weather_discharge": False}
    _inspect(story, _at(10, 22), donge, "donge", urban, "conclude", dry)
    enterprise = next((p for p in planned if p.record["sub_type"] == "enterprise_storm"), None)
    if enterprise is not None:
        county = str(enterprise.record["county"])
        eeb = _department_actor(reference, "eeb_city", county)
        code = str(enterprise.record["code"])
        _inspect(story, _at(5, 14), code, county, eeb, "conclude", dict(STORM_CLEAN))
