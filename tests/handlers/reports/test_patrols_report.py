"""``qingliu report patrols``: patrols, notices and routine inspections by county, as of a
day, through the reader's scope, with a total row; and its CLI output."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.runtime import Engine
from handlers.ledger import Ledger
from handlers.reports import compute
from tests.conftest import ROOT
from tests.handlers.flows.support import outfall, pass_time, seed_ledger

CHIEF = Actor("东阿县河长", "river_chief", "donge")
YANGGU_CHIEF = Actor("阳谷县河长", "river_chief", "yanggu")
URBAN = Actor("聊城市城管局", "urban_mgmt_city", "liaocheng")
DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")
CITY = Actor("聊城市生态环境局", "eeb_city", "liaocheng")
OK = {"signboard_ok": True, "no_dry_weather_flow": True}
STORM_CLEAN = {
    "no_hidden_pipe": True,
    "no_sewage_into_storm_drain": True,
    "no_dry_weather_discharge": True,
}


def _patrol(engine: Engine, actor: Actor, section: str, day: str, outfalls: list[Any]) -> Any:
    county = actor.jurisdiction
    data = {"section": section, "county": county, "date": day, "outfalls": outfalls}
    view = engine.create_case("river_patrol", data, actor, subject=f"{section}:{day}")
    return engine.fire(view.id, "submit", actor)


@pytest.fixture
def patrolled(engine: Engine, clock: FakeClock) -> Engine:
    """东阿: two patrols of 黄河东阿县段 (two problems: one notice replied on time, one left to
    lapse on 2024-03-08), an inspection referring 晴天排水; 阳谷: one patrol, nothing found."""
    engine.load([ROOT / "workflows"])
    seed_ledger(
        engine,
        outfall("371524-0001"),
        outfall("371524-0002", sub_type="municipal_storm"),
        outfall("371521-0001", county="yanggu"),
    )
    problem = {"checks": {**OK, "signboard_ok": False}, "problem": "标识牌缺失"}
    first = _patrol(
        engine,
        CHIEF,
        "donge-huanghe",
        "2024-03-01",
        [{"outfall_code": "371524-0001", **problem}, {"outfall_code": "371524-0002", **problem}],
    )
    on_time, lapsing = (n["case_id"] for n in first.data["notices"])
    engine.fire(on_time, "acknowledge", DONGE_EEB)
    engine.fire(on_time, "reply", DONGE_EEB, {"measures": "已补设", "reply": "已整改"})
    pass_time(engine, clock, datetime(2024, 3, 4, 2, 0, tzinfo=UTC))
    _patrol(
        engine,
        CHIEF,
        "donge-huanghe",
        "2024-03-04",
        [{"outfall_code": "371524-0001", "checks": OK}],
    )
    _patrol(
        engine,
        YANGGU_CHIEF,
        "yanggu-huanghe",
        "2024-03-04",
        [{"outfall_code": "371521-0001", "checks": OK}],
    )
    data = {"outfall_code": "371524-0002", "county": "donge", "date": "2024-03-04"}
    view = engine.create_case("daily_supervision", data, URBAN, subject="371524-0002")
    checklist = {**STORM_CLEAN, "no_dry_weather_discharge": False}
    engine.fire(view.id, "conclude", URBAN, {"checklist": checklist})
    pass_time(engine, clock, datetime(2024, 3, 11, 2, 0, tzinfo=UTC))  # the notice lapses
    return engine


def _row(report: Any, county: str) -> dict[str, Any]:
    return next(r for r in report.to_json()["rows"] if r["county"] == county)


def test_patrols_by_county_with_notices_and_inspections(patrolled: Engine) -> None:
    report = compute.run("patrols", Ledger(patrolled), date(2024, 3, 31), CITY)
    donge = _row(report, "东阿县")
    assert donge["sections"] == 2
    assert (donge["sections_patrolled"], donge["patrols"], donge["outfalls_checked"]) == (1, 2, 3)
    assert (donge["problems"], donge["notices"]) == (2, 2)
    assert (donge["replied_on_time"], donge["replied_late"], donge["open"], donge["overdue"]) == (
        1,
        0,
        0,
        1,
    )
    assert (donge["inspections"], donge["findings"], donge["referred"]) == (1, 1, 1)
    yanggu = _row(report, "阳谷县")
    assert (yanggu["patrols"], yanggu["problems"]) == (1, 0)
    total = _row(report, "合计")
    assert (total["patrols"], total["notices"], total["sections"]) == (3, 2, 19)
    # as of 2024-03-05 the second notice was still within its period
    early = _row(compute.run("patrols", Ledger(patrolled), date(2024, 3, 5), CITY), "东阿县")
    assert (early["open"], early["overdue"], early["patrols"]) == (1, 0, 2)
    # before any patrol: nothing
    before = _row(compute.run("patrols", Ledger(patrolled), date(2024, 2, 28), CITY), "合计")
    assert (before["patrols"], before["notices"], before["inspections"]) == (0, 0, 0)


def test_a_county_sees_only_its_own_row(patrolled: Engine) -> None:
    report = compute.run("patrols", Ledger(patrolled), date(2024, 3, 31), YANGGU_CHIEF)
    assert [r["county"] for r in report.to_json()["rows"]] == ["阳谷县", "合计"]
    assert _row(report, "合计")["notices"] == 0


def test_report_patrols_command(
    patrolled: Engine, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from handlers.reports.cli import report_command

    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    shown = runner.invoke(report_command, ["patrols", "--as-of", "2024-03-31"])
    assert shown.exit_code == 0, shown.output
    assert "河长巡河与日常监督检查（截至 2024-03-31）" in shown.output
    assert "逾期未答复" in shown.output
    assert "合计" in shown.output
    as_json = runner.invoke(
        report_command, ["patrols", "--as-of", "2024-03-31", "--format", "json"]
    )
    total = json.loads(as_json.output)["rows"][-1]
    assert (total["county"], total["patrols"], total["overdue"], total["referred"]) == (
        "合计",
        3,
        1,
        1,
    )
    out = tmp_path / "patrols.csv"
    written = runner.invoke(report_command, ["patrols", "--as-of", "2024-03-31", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("县区,河段数")
