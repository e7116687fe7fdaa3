"""The demo's supervision around the outfalls: the retained lists of May 2023 (三(三)), the
2024 effectiveness checks (县级自查、市级抽查、省级核查, 三(三)), enforcement of an exceedance
(三(四)5) and citizens' reports (四(四)). One small function per workflow, each scheduling its
steps on the story (``handlers.demo.city._Story``) and firing them through the engine facade as
the officials would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from engine.handlers import Actor
from engine.runtime import Engine
from handlers.demo.names import Named, county_eeb_name
from handlers.demo.photos import demo_photos
from handlers.ledger import Ledger
from handlers.reference import data as ref

__all__ = ["plan", "setup_decider"]


class Planned(Protocol):
    """An outfall of the demo (``handlers.demo.city.Planned``)."""

    @property
    def record(self) -> dict[str, Any]: ...
    @property
    def found(self) -> datetime: ...
    @property
    def named(self) -> Named: ...


class _Story(Protocol):
    """What these drivers use of the story (``handlers.demo.city._Story``)."""

    engine: Engine
    ledger: Ledger
    city: Actor
    modes: dict[str, str]

    def at(self, when: datetime, what: str, step: Callable[[], None]) -> None: ...


LATE_FILER = "guanxian"  # files its retained list after the plan's date: escalated
SPOT_CHECKED = ("dongchangfu", "donge", "gaotang", "linqing")
INSPECTORS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆"]
DESK = Actor("聊城市12345政务服务便民热线", "public")
PROVINCE = Actor("山东省生态环境厅", "eeb_province", "shandong")


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 1, 0, tzinfo=UTC)  # 09:00 in Liaocheng


def plan(story: _Story, planned: Sequence[Planned]) -> None:
    by_county: dict[str, list[Planned]] = {}
    for item in planned:
        by_county.setdefault(item.record["county"], []).append(item)
    for county, items in by_county.items():
        retained_list(story, county, items)
        effectiveness_check(story, county)
    industrial = [
        p
        for p in planned
        if p.record["sub_type"] == "industrial_enterprise"
        and story.modes.get(p.record["code"]) != "compliant"  # an exceedance: not compliant
    ]
    enforcement(story, [p for p in industrial if p.found < _at(2023, 10, 1)])
    public_report(story, planned)


def _county_eeb(story: _Story, county: str) -> Actor:
    name = ref.jurisdiction_name(story.engine.reference, county)
    return Actor(county_eeb_name(name), "county_eeb", county)


def _open(story: _Story, when: datetime, what: str, ids: dict[str, int], create: Any) -> None:
    def step() -> None:
        ids["case"] = create().id

    story.at(when, what, step)


def _then(
    story: _Story,
    when: datetime,
    what: str,
    ids: dict[str, int],
    trigger: str,
    actor: Actor,
    payload: Callable[[], dict[str, Any]] | dict[str, Any] | None = None,
) -> None:
    def step() -> None:
        body = payload() if callable(payload) else payload
        story.engine.fire(ids["case"], trigger, actor, body or {})

    story.at(when, what, step)


def retained_list(story: _Story, county: str, items: list[Planned]) -> None:
    """The county branch compiles the outfalls to keep and files them by 2023-05-15; one county
    is late and its filing goes to 督办."""
    eeb, ids = _county_eeb(story, county), dict[str, int]()
    late = county == LATE_FILER
    submitted = _at(2023, 5, 22) if late else _at(2023, 5, 12)
    kept = [
        p.record["code"]
        for p in items
        if p.found < submitted and story.modes.get(p.record["code"]) in ("regularise", "compliant")
    ]
    data = {"county": county, "year": 2023}
    _open(
        story,
        _at(2023, 5, 8),
        f"{county} retained list",
        ids,
        lambda: story.engine.create_case("retained_list", data, eeb, subject=f"{county}:2023"),
    )
    _then(story, submitted, f"{county} list submitted", ids, "submit", eeb, {"outfalls": kept})
    filed = submitted + timedelta(days=5)
    _then(story, filed, f"{county} list filed", ids, "file", story.city)


def effectiveness_check(story: _Story, county: str) -> None:
    """The 2024 round: the county's plan and self-check, then for some counties the city's
    双随机 spot-check and the province's verification."""
    eeb, ids = _county_eeb(story, county), dict[str, int]()
    data = {"county": county, "year": 2024, "self_check_due": "2024-12-31"}
    _open(
        story,
        _at(2024, 1, 10),
        f"{county} 2024 check",
        ids,
        lambda: story.engine.create_case(
            "effectiveness_check", data, eeb, subject=f"{county}:2024"
        ),
    )
    plan_body = {"plan": {"summary": "每季度自查一轮，覆盖本辖区台账内全部排污口", "rounds": 4}}
    _then(story, _at(2024, 1, 22), f"{county} check plan", ids, "submit_plan", eeb, plan_body)

    def self_checked() -> dict[str, Any]:
        done = [
            v.code
            for v in story.ledger.list()
            if v.record.get("county") == county
            and v.record.get("status") == "active"
            and v.record.get("rectification_status") == "done"
        ]
        return {"results": [{"outfall_code": c, "passed": True} for c in done]}

    _then(
        story,
        _at(2024, 11, 20),
        f"{county} self-check",
        ids,
        "report_self_check",
        eeb,
        self_checked,
    )
    if county not in SPOT_CHECKED:
        return
    draw = {"inspectors": INSPECTORS, "inspection_date": "2024-12-10"}
    _then(story, _at(2024, 12, 2), f"{county} draw", ids, "draw_sample", story.city, draw)

    def inspected() -> dict[str, Any]:
        targets = story.engine.get_case(ids["case"]).data.get("spot_check_targets") or []
        codes = [str(t["outfall_code"]) for t in targets]
        return {"results": [{"outfall_code": c, "passed": True} for c in codes]}

    _then(
        story,
        _at(2024, 12, 10),
        f"{county} spot-check",
        ids,
        "report_spot_check",
        story.city,
        inspected,
    )
    _then(
        story,
        _at(2025, 1, 15),
        f"{county} verified",
        ids,
        "report_verification",
        PROVINCE,
        inspected,
    )


def enforcement(story: _Story, industrial: list[Planned]) -> None:
    """An exceedance traced to its enterprise, fined, corrected and closed; a second one still
    being traced at the end."""
    for n, (item, opened) in enumerate(
        zip(industrial, (_at(2024, 4, 8), _at(2025, 3, 10)), strict=False)
    ):
        code, county = item.record["code"], item.record["county"]
        eeb, ids, party = _county_eeb(story, county), dict[str, int](), item.named.party
        data = {
            "source": "exceedance",
            "county": county,
            "violation_type": "over_limit",
            "outfall_code": code,
            "exceedance": {
                "parameter": "COD",
                "value": 86.0 + n,
                "limit": 50.0,
                "unit": "mg/L",
                "sampled_at": (opened - timedelta(days=1)).isoformat(),
            },
        }
        _open(
            story,
            opened,
            f"{code} exceedance",
            ids,
            lambda data=data, eeb=eeb, code=code: story.engine.create_case(
                "enforcement", data, eeb, subject=code
            ),
        )
        day = opened + timedelta(days=2)
        _then(story, day, f"{code} tracing", ids, "start_tracing", eeb)
        if n:
            continue
        units = {"units": [{"name": party, "main": True}]}
        short = ref.jurisdiction_name(story.engine.reference, county)[:2]
        penalty = {"penalty_decision": f"{short}环罚〔2024〕{code[-3:]}号", "fine_yuan": 100000}
        discharger = Actor(party, "discharger", county)
        report = {"rectification_report": "已完成污水处理设施提标改造，在线监测连续30日达标"}
        steps: list[tuple[int, str, Actor, dict[str, Any] | None]] = [
            (17, "record_units", eeb, units),
            (42, "decide_penalty", eeb, penalty),
            (42, "order_rectification", eeb, {"order_deadline": "2024-08-31"}),
            (134, "report_rectified", discharger, report),
            (150, "verify", eeb, None),
        ]
        for days, trigger, actor, body in steps:
            _then(
                story, opened + timedelta(days=days), f"{code} {trigger}", ids, trigger, actor, body
            )


def public_report(story: _Story, planned: Sequence[Planned]) -> None:
    """A 随手拍 report that proved unfounded, and a rewarded tip-off of a secret discharge that
    went on to enforcement."""
    urban = story.engine.reference
    first = next(p for p in planned if p.record["sub_type"] == "urban_scattered")
    county = first.record["county"]
    photo = {
        "channel": "snapshot",
        "reporter": {"name": "王先生", "phone": "13800000000"},
        "county": county,
        "area": "urban",
        "address": first.record["address"],
        "longitude": first.record["longitude"],
        "latitude": first.record["latitude"],
        "photos": demo_photos(
            story.engine, DESK, "public_report", "photos", ["photos/2024/06/0001.jpg"]
        ),
        "description": "河边排水口有白色泡沫",
        "sub_type": "urban_scattered",
    }
    ids: dict[str, int] = {}
    _open(
        story,
        _at(2024, 6, 3),
        "随手拍",
        ids,
        lambda: story.engine.create_case("public_report", photo, DESK),
    )
    name = ref.department(urban, "urban_mgmt_city")
    urban_mgmt = Actor(
        f"聊城{name['name'] if name else '市城管局'}", "urban_mgmt_city", "liaocheng"
    )
    _then(story, _at(2024, 6, 5), "随手拍 investigated", ids, "start_investigation", urban_mgmt)
    finding = {"finding": "为雨后市政雨水管道正常排水，未见污水"}
    _then(
        story, _at(2024, 6, 12), "随手拍 unfounded", ids, "conclude_unfounded", urban_mgmt, finding
    )
    _then(
        story,
        _at(2024, 6, 13),
        "随手拍 replied",
        ids,
        "reply",
        DESK,
        {"reply": "经核实不属实，感谢监督"},
    )

    target = [p for p in planned if p.record["sub_type"] == "industrial_enterprise"][-1]
    county, code = target.record["county"], target.record["code"]
    eeb, tip = _county_eeb(story, county), dict[str, int]()
    data = {
        **photo,
        "channel": "tip_off",
        "county": county,
        "area": "town",
        "address": target.record["address"],
        "longitude": target.record["longitude"],
        "latitude": target.record["latitude"],
        "photos": demo_photos(
            story.engine, DESK, "public_report", "photos", ["photos/2024/09/0007.jpg"]
        ),
        "description": "夜间有暗管往河里排黑水",
        "sub_type": "industrial_enterprise",
    }
    _open(
        story,
        _at(2024, 9, 2),
        "有奖举报",
        tip,
        lambda: story.engine.create_case("public_report", data, DESK),
    )
    _then(story, _at(2024, 9, 4), "有奖举报 investigated", tip, "start_investigation", eeb)
    founded = {"finding": "夜间通过暗管偷排", "found": ["violation"]}
    _then(story, _at(2024, 9, 10), "有奖举报 founded", tip, "conclude_founded", eeb, founded)
    refer = {"violation_type": "secret_discharge", "outfall_code": code}
    _then(story, _at(2024, 9, 11), "有奖举报 referred", tip, "refer_violation", eeb, refer)
    reward = {"rewarded": True, "reward_yuan": 2000}
    _then(story, _at(2024, 9, 20), "有奖举报 reward", tip, "decide_reward", story.city, reward)
    reply = {"reply": "经核实属实，已移送执法，奖励2000元"}
    _then(story, _at(2024, 9, 25), "有奖举报 replied", tip, "reply", DESK, reply)

    shot = demo_photos(story.engine, DESK, "public_report", "photos", ["photos/2025/03/0012.jpg"])
    grid = {**photo, "channel": "grid_officer", "photos": shot}
    grid.update(description="沟渠内有生活污水直排", area="rural", sub_type="rural_scattered")
    late: dict[str, int] = {}
    create = lambda: story.engine.create_case("public_report", grid, DESK)  # noqa: E731
    _open(story, _at(2025, 3, 20), "网格员报告", late, create)
    _then(
        story, _at(2025, 3, 24), "网格员报告 investigated", late, "start_investigation", story.city
    )


def setup_decider(engine: Engine, case_id: int | None, bureau: Actor) -> Actor:
    """The authority acceptance routed a setup application to: the basin bureau of a river in
    its scope (rivers.yaml), else the city approval bureau ``bureau``."""
    data = engine.get_case(case_id).data if case_id is not None else {}
    department = ref.department(engine.reference, str(data.get("authority_department")))
    if data.get("authority") == "basin_bureau" and department is not None:
        return Actor(str(department["name"]), "basin_bureau", None)
    return bureau
