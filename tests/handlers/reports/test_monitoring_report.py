"""``qingliu report monitoring``: plans, rounds, due, done, on time, overdue, over limit and
enforcement by county for the year of --as-of, through the actor's read scope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")


def cst(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+08:00").astimezone(UTC)


def _approve(engine: Engine, county: str) -> None:
    eeb = Actor(f"{county}生态环境分局", "county_eeb", county)
    data = {"county": county, "year": 2024}
    case_id = engine.create_case("monitoring_plan", data, eeb, subject=f"{county}:2024").id
    engine.fire(case_id, "submit", eeb, {})
    engine.fire(case_id, "approve", CITY)


def _round(engine: Engine, code: str, number: int, cod: float) -> None:
    with engine.store.read() as tx:
        tasks = tx.list_cases(workflow="monitoring_task", limit=100)
    [task] = [t for t in tasks if t.subject == f"{code}:2024-{number}"]
    eeb = Actor("县生态环境分局", "county_eeb", task.data["county"])
    sampled = {"sampled_at": engine.clock.now().isoformat(), "sampler": "监测站"}
    engine.fire(task.id, "record_sampling", eeb, sampled)
    engine.fire(task.id, "record_results", eeb, {"results": [{"parameter": "COD", "value": cod}]})


@pytest.fixture
def year(engine: Engine, clock: FakeClock) -> None:
    """东阿县: one enterprise on 徒骇河 (IV, 4 rounds); 阳谷县: one urban WWTP on 黄河 (II, 2)."""
    clock.set(cst("2024-01-10"))
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall("371524-0001", river="tuhaihe", basin="haihe"),
        outfall("371521-0001", county="yanggu", sub_type="urban_wwtp"),
    )
    _approve(engine, "donge")
    _approve(engine, "yanggu")
    pass_time(engine, clock, cst("2024-03-20"))
    _round(engine, "371524-0001", 1, 60)  # within 100 (GB 8978-1996 一级)
    pass_time(engine, clock, cst("2024-06-20"))
    _round(engine, "371524-0001", 2, 160)  # over: enforcement
    pass_time(engine, clock, cst("2024-07-15"))  # 阳谷县 round 1 (06-30) not done: overdue


def test_report_monitoring_by_county_with_a_total(
    year: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.reports.cli import report_command

    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    shown = runner.invoke(
        report_command, ["monitoring", "--as-of", "2024-07-15", "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["year"] == 2024
    counts = {r.pop("county"): r for r in body["rows"]}
    assert counts["东阿县"] == {
        "outfalls": 1,
        "rounds": 4,
        "due": 2,
        "done": 2,
        "on_time": 2,
        "overdue": 0,
        "over_limit": 1,
        "enforcement": 1,
    }
    assert counts["阳谷县"] == {
        "outfalls": 1,
        "rounds": 2,
        "due": 1,
        "done": 0,
        "on_time": 0,
        "overdue": 1,
        "over_limit": 0,
        "enforcement": 0,
    }
    assert counts["合计"]["rounds"] == 6
    assert counts["合计"]["overdue"] == 1
    early = runner.invoke(
        report_command, ["monitoring", "--as-of", "2024-03-01", "--format", "json"]
    )
    assert json.loads(early.output)["rows"][-1]["due"] == 0
    table = runner.invoke(report_command, ["monitoring", "--as-of", "2024-07-15"])
    assert "逾期未完成" in table.output
    assert "移送执法" in table.output
    own = runner.invoke(
        report_command,
        [
            "monitoring",
            "--as-of",
            "2024-07-15",
            "--format",
            "json",
            "--as",
            "county_eeb",
            "--jurisdiction",
            "yanggu",
        ],
    )
    assert [r["county"] for r in json.loads(own.output)["rows"]] == ["阳谷县", "合计"]
