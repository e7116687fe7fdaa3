"""The demo's 2024 key-river campaign (三(四)5) and 2023 screening rounds (三(一)), read from
``demo_city`` through the engine and ``qingliu report campaign|screening``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from engine.errors import Forbidden
from engine.settings import Settings
from handlers.demo.campaigns import CAMPAIGN, LATE_INSPECTOR, PARTIAL_SCREENER
from handlers.demo.city import DemoResult
from handlers.reference import data as ref
from handlers.reports.cli import report_command
from tests.conftest import ROOT
from tests.handlers.demo.conftest import demo_ledger


def _report(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    shown = CliRunner().invoke(report_command, list(args))
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_the_campaign_ran_in_the_counties_with_a_finding_and_a_late_county(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    settings, result = demo_city
    assert result.refused == []
    for ledger in demo_ledger(settings):
        engine = ledger.engine
        (campaign,) = engine.list_cases(workflow="key_river_campaign")
        assert campaign.case.subject == CAMPAIGN
        assert campaign.state == "closed"
        report = campaign.data["report"]
        assert "黄河（干流）" not in report["rivers"]
        assert {"徒骇河", "马颊河", "卫运河"} <= set(report["rivers"])
        tasks = engine.list_cases(workflow="campaign_inspection")
        assert len(tasks) == len(campaign.data["scope"]) >= 5
        assert all(t.state == "submitted" for t in tasks)
        late = [t for t in tasks if t.data.get("overdue")]
        assert [t.data["county"] for t in late] == [LATE_INSPECTOR]
        ladder = engine.get_case(late[0].data["escalation_case_id"])
        assert ladder.case.subject == f"{LATE_INSPECTOR}:campaign"
        findings = [i for t in tasks for i in t.data["inspections"] if i["result"] == "finding"]
        assert len(findings) == 1
        case = engine.get_case(findings[0]["enforcement_case_id"])
        assert case.data["source"] == "campaign"
        assert findings[0]["enforcement_opened"] is True


def test_every_county_screened_in_2023_and_one_did_not_cover_its_sections(
    demo_city: tuple[Settings, DemoResult],
) -> None:
    settings, _ = demo_city
    for ledger in demo_ledger(settings):
        rounds = {c.data["county"]: c for c in ledger.engine.list_cases(workflow="screening")}
        assert set(rounds) == set(ref.county_codes(ledger.reference))
        partial = rounds.pop(PARTIAL_SCREENER)
        assert partial.state == "screening"
        assert partial.data["overdue"] is True
        assert {c.state for c in rounds.values()} == {"confirmed"}
        assert all(c.data["unscreened"] == [] for c in rounds.values())


def test_the_campaign_report_on_the_command_line(
    demo_city: tuple[Settings, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = demo_city
    table = _report(settings, monkeypatch, "campaign", "--as-of", "2024-07-31")
    assert "重点河流入河排污口专项执法检查" in table
    assert "截至 2024-07-31" in table
    rows = json.loads(
        _report(settings, monkeypatch, "campaign", "--as-of", "2024-07-31", "--format", "json")
    )["rows"]
    total = rows[-1]
    assert total["campaign"] == "合计"
    assert total["outfalls"] == total["inspected"] > 0
    assert (total["findings"], total["enforcement_opened"], total["overdue"]) == (1, 1, 1)
    by_county = {r["county"]: r for r in rows[:-1]}
    assert by_county["冠县"]["overdue"] == "是"
    before = json.loads(
        _report(settings, monkeypatch, "campaign", "--as-of", "2024-05-31", "--format", "json")
    )["rows"]
    assert before[-1]["inspected"] == 0  # launched, nothing inspected yet
    mine = json.loads(
        _report(
            settings,
            monkeypatch,
            "campaign",
            "--as-of",
            "2024-07-31",
            "--format",
            "json",
            "--as",
            "county_eeb",
            "--jurisdiction",
            "guanxian",
        )
    )["rows"]
    assert [r["county"] for r in mine] == ["冠县", ""]  # its own task, and the total


def test_the_screening_report_on_the_command_line(
    demo_city: tuple[Settings, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = demo_city
    table = _report(settings, monkeypatch, "screening", "--as-of", "2024-01-31")
    assert "全域覆盖" in table
    out = json.loads(
        _report(settings, monkeypatch, "screening", "--as-of", "2024-01-31", "--format", "json")
    )
    rows = {r["county"]: r for r in out["rows"]}
    assert out["counties"] == 11
    assert out["counties_fully_covered"] == 10
    assert rows["莘县"]["full_coverage"] == "否"
    assert rows["莘县"]["coverage"] == "50.0%"
    assert rows["东阿县"]["full_coverage"] == "是"
    assert all(r["new_cleared"] <= r["new_outfalls"] for r in rows.values())
    early = json.loads(
        _report(settings, monkeypatch, "screening", "--as-of", "2023-05-31", "--format", "json")
    )
    assert {r["screened"] for r in early["rows"]} == {0}
    county = json.loads(
        _report(
            settings,
            monkeypatch,
            "screening",
            "--as-of",
            "2024-01-31",
            "--format",
            "json",
            "--as",
            "county_eeb",
            "--jurisdiction",
            "shenxian",
        )
    )
    assert [r["county"] for r in county["rows"]] == ["莘县"]


def test_a_party_reads_neither_report(
    demo_city: tuple[Settings, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = demo_city
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    for name in ("campaign", "screening"):
        args = [name, "--as", "discharger", "--actor", "某化工有限公司", "--jurisdiction", "donge"]
        refused = CliRunner().invoke(report_command, args)
        assert isinstance(refused.exception, Forbidden), refused.output
