"""强化环境监测 (三(四)4) and 超标溯源联动 (三(四)5) over a year on the fake clock: the county's
plan is drawn by 双随机 (not steerable, verifiable after approval), approval opens the sampling
rounds with their due dates, results within limits close a round, an exceedance opens an
enforcement case by itself, and a round not done is marked overdue and then escalated."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.errors import InvalidInput, Refused
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.reference.monitoring import due_dates
from handlers.sampling.commit import verify_draw
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

COUNTY = Actor("东阿县生态环境分局", "county_eeb", "donge")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
ADMIN = Actor("运维管理员", "admin")
QUARTERS = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
CLASSES = {"industrial_enterprise", "park_wwtp", "urban_wwtp"}


def cst(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(UTC)


@pytest.fixture
def donge(engine: Engine, clock: FakeClock) -> list[dict[str, Any]]:
    """东阿县: 4 enterprises on 徒骇河 (IV: quarterly), 3 urban WWTPs on 黄河 (II: twice), a park
    WWTP with a permit and its own limits, two storm outfalls and a closed enterprise outside
    the pool; and one enterprise of 阳谷县."""
    clock.set(cst("2024-01-08"))
    engine.load([ROOT / "workflows"])
    records = [
        *(outfall(f"371524-01{i:02d}", river="tuhaihe", basin="haihe") for i in range(4)),
        *(outfall(f"371524-02{i:02d}", sub_type="urban_wwtp") for i in range(3)),
        outfall(
            "371524-0300",
            sub_type="park_wwtp",
            permit_number="91371524MA3C0000XX001P",
            responsible_party="东阿县化工园区污水处理厂",
            limits={"COD": 40, "NH3-N": 2},
        ),
        *(outfall(f"371524-04{i:02d}", sub_type="enterprise_storm") for i in range(2)),
        outfall("371524-0500", status="abolished"),
        outfall("371521-0100", county="yanggu"),
    ]
    seed_ledger(engine, *records)
    return records


def _plan(engine: Engine) -> int:
    case_id = engine.create_case(
        "monitoring_plan", {"county": "donge", "year": 2024}, COUNTY, subject="donge:2024"
    ).id
    engine.fire(case_id, "submit", COUNTY, {"summary": "2024年监督监测计划"})
    return case_id


def _tasks(engine: Engine) -> list[Any]:
    with engine.store.read() as tx:
        return tx.list_cases(workflow="monitoring_task", limit=1000)


def test_the_draw_takes_the_three_classes_and_cannot_be_steered(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    case_id = engine.create_case(
        "monitoring_plan", {"county": "donge", "year": 2024}, COUNTY, subject="donge:2024"
    ).id
    for steer in ({"seed": 7}, {"ratio": 1.0}):
        with pytest.raises(InvalidInput):
            engine.fire(case_id, "submit", COUNTY, steer)
    engine.fire(case_id, "submit", COUNTY, {})
    data = engine.get_case(case_id, COUNTY).data
    pool = {p["code"] for p in data["draw"]["pool"]}
    assert pool == {r["code"] for r in donge[:8]}  # active, of the three classes, of 东阿县
    assert "draw_secret" not in data
    assert "secret" not in data["draw"]
    drawn = [o["outfall_code"] for o in data["outfalls"]]
    assert len(drawn) == 3  # ceil(0.3 × 8)
    assert {o["sub_type"] for o in data["outfalls"]} <= CLASSES
    # every outfall of the classes has its self-monitoring duty or is flagged for lacking a permit
    assert [d["outfall_code"] for d in data["self_monitoring"]] == ["371524-0300"]
    assert "91371524MA3C0000XX001P" in data["self_monitoring"][0]["duty"]
    assert len(data["unpermitted"]) == 7

    # returned and submitted again: the first draw stands (no redraw until a wanted sample)
    engine.fire(case_id, "return_plan", CITY, {"reason": "补充说明"})
    engine.fire(case_id, "submit", COUNTY, {"summary": "补充后再报"})
    again = engine.get_case(case_id, COUNTY).data
    assert again["draw"]["commitment"] == data["draw"]["commitment"]
    assert [o["outfall_code"] for o in again["outfalls"]] == drawn

    engine.fire(case_id, "approve", CITY)
    revealed = engine.get_case(case_id, COUNTY).data["draw"]
    assert revealed["secret"]
    assert verify_draw(revealed).ok  # anyone can repeat the draw once the secret is public


def test_approval_opens_every_round_with_its_due_date(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    case_id = _plan(engine)
    engine.fire(case_id, "approve", CITY)
    plan = engine.get_case(case_id).data
    by_code = {o["outfall_code"]: o for o in plan["outfalls"]}
    for item in plan["outfalls"]:
        quarterly = item["river"] == "tuhaihe"
        assert item["frequency"] == (4 if quarterly else 2)
        assert item["water_quality"] == ("IV" if quarterly else "II")
    tasks = _tasks(engine)
    assert len(tasks) == plan["rounds_planned"] == sum(o["frequency"] for o in by_code.values())
    assert sorted(plan["task_ids"]) == sorted(t.id for t in tasks)
    for task in tasks:
        item = by_code[task.data["outfall_code"]]
        assert task.subject == f"{task.data['outfall_code']}:2024-{task.data['round']}"
        assert task.data["due_date"] == item["due_dates"][task.data["round"] - 1]
        assert task.data["escalate_on"] > task.data["due_date"]
    assert due_dates(2024, 4) == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    assert due_dates(2024, 2) == ["2024-06-30", "2024-12-31"]
    assert due_dates(2024, 12)[1] == "2024-02-29"


def _approved_plan(engine: Engine, *codes: str) -> None:
    """The record an approved plan of 东阿县 2024 leaves (quarterly rounds of ``codes``)."""
    record = {
        "county": "donge",
        "year": 2024,
        "case_id": None,
        "state": "approved",
        "rounds": {code: QUARTERS for code in codes},
    }
    with engine.store.write() as tx:
        tx.put_subject("monitoring_plan", "donge:2024", record, "donge", engine.clock.now())


def _task(engine: Engine, code: str = "371524-0300", number: int = 1) -> int:
    """A round of an approved plan, opened as an admin would reopen it (the plan's own
    approval opens them as the approver, see test_approval_opens_every_round...)."""
    _approved_plan(engine, code)
    data = {"county": "donge", "year": 2024, "outfall_code": code, "round": number}
    data["due_date"] = QUARTERS[number - 1]
    subject = f"{code}:2024-{number}"
    return engine.create_case("monitoring_task", data, ADMIN, subject=subject).id


def _sample(engine: Engine, case_id: int, results: list[dict[str, Any]]) -> Any:
    engine.fire(
        case_id,
        "record_sampling",
        COUNTY,
        {"sampled_at": "2024-03-12T09:30:00+08:00", "sampler": "东阿县环境监测站"},
    )
    return engine.fire(case_id, "record_results", COUNTY, {"results": results})


def _enforcement(engine: Engine) -> list[Any]:
    with engine.store.read() as tx:
        return tx.list_cases(workflow="enforcement", limit=100)


def test_results_within_the_limits_close_the_round(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    clock.set(cst("2024-03-12"))
    view = _sample(
        engine,
        _task(engine, "371524-0200"),
        [{"parameter": "COD", "value": 32, "unit": "mg/L"}, {"parameter": "TP", "value": 0.3}],
    )
    assert view.state == "done"
    assert view.data["over_limit"] is False
    assert view.data["done_on_time"] is True
    assert "GB 18918-2002" in view.data["limits_standard"]  # the urban WWTP default, 一级A
    cod = view.data["comparisons"][0]
    assert (cod["limit"], cod["over"], cod["ratio"]) == (50.0, False, 0.64)
    assert _enforcement(engine) == []


def test_an_exceedance_opens_an_enforcement_case_by_itself(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    clock.set(cst("2024-03-12"))
    case_id = _task(engine)  # the park WWTP: its ledger limits (COD 40, NH3-N 2) apply
    view = _sample(
        engine,
        case_id,
        [
            {"parameter": "COD", "value": 60},  # 1.5 × its limit
            {"parameter": "NH3-N", "value": 5},  # 2.5 × its limit: the worst
            {"parameter": "TP", "value": 0.2},  # within the default
        ],
    )
    assert view.data["over_limit"] is True
    assert [c["over"] for c in view.data["comparisons"]] == [True, True, False]
    [case] = _enforcement(engine)
    assert view.data["enforcement_case_id"] == case.id
    assert case.subject == "371524-0300"
    assert case.data["county"] == "donge"
    assert (case.data["source"], case.data["violation_type"]) == ("exceedance", "over_limit")
    assert case.data["exceedance"] == {
        "parameter": "NH3-N",
        "value": 5.0,
        "limit": 2.0,
        "unit": "mg/L",
        "sampled_at": "2024-03-12T09:30:00+08:00",
    }
    assert "化学需氧量" in case.data["description"]
    assert case.data["source_case_id"] == case_id
    assert case.data["outfall"]["sub_type"] == "park_wwtp"  # linked to its ledger record
    assert case.data["suspected_units"][0] == "东阿县化工园区污水处理厂"


@pytest.mark.parametrize(
    ("result", "path"),
    [
        ({"parameter": "BOD9", "value": 1}, "$.results[1].parameter"),
        ({"parameter": "TN", "value": -1}, "$.results[1].value"),
        ({"parameter": "TN", "value": 3, "unit": "g/L"}, "$.results[1].unit"),
    ],
)
def test_refused_results_stay_422_at_their_path(
    engine: Engine, donge: list[dict[str, Any]], result: dict[str, Any], path: str
) -> None:
    case_id = _task(engine)
    engine.fire(
        case_id,
        "record_sampling",
        COUNTY,
        {"sampled_at": "2024-01-08T09:30:00+08:00", "sampler": "东阿县环境监测站"},
    )
    with pytest.raises(InvalidInput) as caught:
        engine.fire(
            case_id,
            "record_results",
            COUNTY,
            {"results": [{"parameter": "COD", "value": 10}, result]},
        )
    assert caught.value.status == 422
    assert [e.json_path for e in caught.value.errors] == [path]
    assert engine.get_case(case_id).state == "sampled"


def test_a_round_not_done_is_overdue_then_escalated_over_the_year(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    plan_id = _plan(engine)
    engine.fire(plan_id, "approve", CITY)
    first = [t for t in _tasks(engine) if t.data["due_date"] == "2024-06-30"]
    assert first
    task = first[0]
    # nobody samples it: the end of its due day marks it overdue, the grace period escalates
    pass_time(engine, clock, cst("2024-06-30", 23))
    assert not engine.get_case(task.id).data.get("overdue")
    pass_time(engine, clock, cst("2024-07-01", 9))
    view = engine.get_case(task.id)
    assert view.data["overdue"] is True
    assert view.data["overdue_at"] == cst("2024-07-01", 0).isoformat()  # the end of its due day
    assert "escalation_case_id" not in view.data
    pass_time(engine, clock, cst("2024-07-30", 23))
    assert "escalation_case_id" not in engine.get_case(task.id).data
    pass_time(engine, clock, cst("2024-08-02"))
    view = engine.get_case(task.id)
    escalation = engine.get_case(view.data["escalation_case_id"])
    assert escalation.data["target"] == "donge"
    assert escalation.data["topic"] == "monitoring"
    assert escalation.case.subject == "donge:monitoring"
    # done late at last: recorded as not on time
    clock.set(cst("2024-08-05"))
    done = _sample(engine, task.id, [{"parameter": "COD", "value": 10}])
    assert done.state == "done"
    assert done.data["done_on_time"] is False
    assert date.fromisoformat(done.data["due_date"]) < date(2024, 8, 5)


def test_a_sampling_in_the_future_is_refused_at_its_path(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    case_id = _task(engine)
    later = {"sampled_at": "2024-02-01T09:30:00+08:00", "sampler": "东阿县环境监测站"}
    with pytest.raises(InvalidInput) as caught:
        engine.fire(case_id, "record_sampling", COUNTY, later)
    assert [e.json_path for e in caught.value.errors] == ["$.sampled_at"]
    assert engine.get_case(case_id).state == "scheduled"


def _open(engine: Engine, actor: Actor, **changes: Any) -> int:
    data = {"county": "donge", "year": 2024, "outfall_code": "371524-0300", "round": 1}
    data.update({"due_date": "2024-03-31", **changes})
    subject = f"{data['outfall_code']}:2024-{data['round']}"
    return engine.create_case("monitoring_task", data, actor, subject=subject).id


def test_only_the_plans_approval_opens_a_task_of_a_planned_round(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    # no plan approved: nobody opens a task, not the county, not the city, not an admin
    for actor in (COUNTY, CITY, ADMIN):
        with pytest.raises(Refused, match="opened by the approval"):
            _open(engine, actor)
    _approved_plan(engine, "371524-0300")
    # approved: the county still cannot open one (it would inflate its own report)
    for changes in ({}, {"outfall_code": "371524-9999"}, {"outfall_code": "371521-0100"}):
        with pytest.raises(Refused, match="opened by the approval"):
            _open(engine, COUNTY, **changes)
    # an admin reopening one: only an outfall and round of the plan, with the plan's dates
    for changes in (
        {"outfall_code": "371524-9999"},
        {"round": 5, "due_date": "2024-12-31"},
        {"due_date": "2024-12-31"},
        {"escalate_on": "2025-06-30"},
    ):
        with pytest.raises(Refused):
            _open(engine, ADMIN, **changes)
    assert _tasks(engine) == []
    task = engine.get_case(_open(engine, ADMIN))
    assert (task.data["escalate_on"], task.data["rounds"]) == ("2024-04-30", 4)


def test_one_plan_per_county_and_year_so_the_draw_is_not_rerolled(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    data = {"county": "donge", "year": 2024}
    for subject in ("whatever", None, "donge:2025", "yanggu:2024"):
        with pytest.raises(Refused):
            engine.create_case("monitoring_plan", data, COUNTY, subject=subject)
    first = _plan(engine)
    engine.fire(first, "approve", CITY)
    with pytest.raises(Refused, match="already has a monitoring plan"):
        engine.create_case("monitoring_plan", data, COUNTY, subject="donge:2024")
    with engine.store.read() as tx:
        assert [c.id for c in tx.list_cases(workflow="monitoring_plan", limit=10)] == [first]
    # a returned plan is the same plan: it goes back to drafting and keeps its draw
    other = engine.create_case(
        "monitoring_plan", {"county": "donge", "year": 2025}, COUNTY, subject="donge:2025"
    ).id
    engine.fire(other, "submit", COUNTY, {})
    targets = engine.get_case(other).data["draw"]["targets"]
    engine.fire(other, "return_plan", CITY, {"reason": "补充说明"})
    engine.fire(other, "submit", COUNTY, {"summary": "已补充"})
    assert engine.get_case(other).data["draw"]["targets"] == targets


def test_a_late_approved_plan_opens_its_past_rounds_overdue_and_the_report_counts_them(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    from handlers.ledger import Ledger
    from handlers.reports.monitoring import monitoring

    plan_id = _plan(engine)
    pass_time(engine, clock, cst("2024-11-15"))
    engine.fire(plan_id, "approve", CITY)
    plan = engine.get_case(plan_id).data
    tasks = _tasks(engine)
    assert len(tasks) == plan["rounds_planned"] == sum(o["frequency"] for o in plan["outfalls"])
    pass_time(engine, clock, cst("2024-11-15", 11))
    past = [t for t in _tasks(engine) if t.data["due_date"] < "2024-11-15"]
    assert past
    for task in past:
        data = engine.get_case(task.id).data
        assert data["overdue"] is True
        # escalated when its grace period from the due date ran out (09-30 + 30 days: 10-30)
        assert (data.get("escalation_case_id") is not None) == (data["escalate_on"] < "2024-11-15")
    [row, total] = monitoring(Ledger(engine), date(2024, 11, 15)).to_json()["rows"]
    assert row["rounds"] == total["rounds"] == plan["rounds_planned"]
    assert row["overdue"] == len(past)


def test_ph_is_judged_against_its_range_and_a_parameter_without_limit_is_not_evaluated(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    clock.set(cst("2024-03-12"))
    view = _sample(
        engine,
        _task(engine, "371524-0100"),  # an enterprise: GB 8978-1996, no TP limit
        [{"parameter": "pH", "value": 7.2}, {"parameter": "TP", "value": 3}],
    )
    ph, tp = view.data["comparisons"]
    assert (ph["limit"], ph["over"], ph["verdict"]) == ({"min": 6.0, "max": 9.0}, False, "达标")
    assert (tp["limit"], tp["over"], tp["evaluated"], tp["verdict"]) == (
        None,
        False,
        False,
        "未评价",
    )
    assert view.data["over_limit"] is False
    for value, above in ((10.5, True), (4.0, False)):  # too alkaline, too acid: both exceed
        view = _sample(engine, _task(engine, "371524-0200"), [{"parameter": "pH", "value": value}])
        assert view.data["comparisons"][0]["verdict"] == "超标"
        case = engine.get_case(view.data["enforcement_case_id"])
        assert ("exceedance" in case.data) is above  # a value above a bound (9) only
        assert case.data["source"] == ("exceedance" if above else "violation")
        assert case.data["violation_type"] == "over_limit"
        assert f"pH值（pH）{value:g} 无量纲，限值 6–9" in case.data["description"]


def test_each_exceedance_opens_its_own_enforcement_case(
    engine: Engine, clock: FakeClock, donge: list[dict[str, Any]]
) -> None:
    """一事一案: a second exceedance of the outfall opens a second case, though the first is
    still open."""
    clock.set(cst("2024-03-12"))
    first = _sample(engine, _task(engine, "371524-0300", 1), [{"parameter": "COD", "value": 90}])
    second = _sample(engine, _task(engine, "371524-0300", 2), [{"parameter": "COD", "value": 70}])
    cases = _enforcement(engine)
    assert len(cases) == 2
    assert all(c.is_open for c in cases)
    assert {c.subject for c in cases} == {"371524-0300"}
    assert first.data["enforcement_case_id"] != second.data["enforcement_case_id"]


def test_a_sampling_before_the_plans_year_is_refused_at_its_path(
    engine: Engine, donge: list[dict[str, Any]]
) -> None:
    case_id = _task(engine)
    early = {"sampled_at": "2023-12-31T09:30:00+08:00", "sampler": "东阿县环境监测站"}
    with pytest.raises(InvalidInput) as caught:
        engine.fire(case_id, "record_sampling", COUNTY, early)
    assert [e.json_path for e in caught.value.errors] == ["$.sampled_at"]
    assert engine.get_case(case_id).state == "scheduled"


def test_the_public_draw_names_no_party_and_sample_verify_rechecks_a_plan(
    engine: Engine, donge: list[dict[str, Any]], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from handlers.sampling.cli import sample_group

    monkeypatch.setenv("QINGLIU_DATABASE_URL", database_url)
    monkeypatch.setenv("QINGLIU_CONFIG", str(ROOT / "config"))
    case_id = _plan(engine)
    draw = engine.get_case(case_id).data["draw"]
    assert all(set(p) == {"code", "sub_type", "county"} for p in draw["pool"])
    assert "东阿县化工园区污水处理厂" not in str(draw)
    runner = CliRunner()
    early = runner.invoke(sample_group, ["verify", str(case_id)])
    assert early.exit_code == 1, early.output
    assert "not revealed yet" in early.output
    engine.fire(case_id, "approve", CITY)
    done = runner.invoke(sample_group, ["verify", str(case_id)])
    assert done.exit_code == 0, done.output
    assert f"case {case_id}: the draw verifies" in done.output
