"""Reports on a small city driven through its flows on the fake clock.

A 371521-0001 阳谷县 黄河      rectified, de-listed 2024-05-10 (on time)
B 371521-0002 阳谷县 金堤河    rectified, de-listed 2024-09-02 (late for 2024-06-30)
C 371524-0001 东阿县 黄河      never finished: overdue, escalated
D 371502-0001 东昌府区 徒骇河  de-listed 2024-06-03 (Hai He basin: citywide deadline)
E 371581-0001 临清市 卫运河    responsibility still being traced
F 371525-0001 冠县 马颊河      traced, needs no rectification (无需整治): out of 应整治
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.clock import FakeClock
from engine.handlers import Actor
from engine.time.sweep import sweep
from handlers import reports
from handlers.dates import CST
from handlers.ledger import Ledger
from handlers.ledger.tabular import format_table, read_sheet, write_table
from handlers.reports import Report
from tests.attachkit import stand_ins
from tests.conftest import ROOT
from tests.handlers.conftest import Record

OUTFALLS = {
    "A": ("371521-0001", "yanggu", "huanghe"),
    "B": ("371521-0002", "yanggu", "jindihe"),
    "C": ("371524-0001", "donge", "huanghe"),
    "D": ("371502-0001", "dongchangfu", "tuhaihe"),
    "E": ("371581-0001", "linqing", "weiyunhe"),
    "F": ("371525-0001", "guanxian", "majiahe"),
}
CITY = Actor("市生态环境局", "eeb_city", "liaocheng")


def cst(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CST) + timedelta(
        hours=hour
    )


class City:
    def __init__(self, ledger: Ledger, clock: FakeClock) -> None:
        self.ledger, self.clock = ledger, clock

    def at(self, day: str) -> None:
        self.clock.set(cst(day))
        sweep(self.ledger.engine, self.clock.now())

    def confirm_proposed_rungs(self) -> None:
        """视情: the city EEB confirms every rung the schedule proposed."""
        engine, city = self.ledger.engine, Actor("聊城市生态环境局", "eeb_city", "liaocheng")
        for view in engine.list_cases(workflow="escalation"):
            if view.state.endswith("_proposed") and "proposal" in view.data:
                engine.fire(view.id, "confirm_rung", city, {"decision": "逐级升级"})

    def case(self, key: str, workflow: str) -> int:
        code = OUTFALLS[key][0]
        return next(c.id for c in self.ledger.get(code).cases if c.workflow == workflow)

    def fire(self, key: str, workflow: str, trigger: str, role: str, **payload: Any) -> None:
        actor = Actor(role, role, OUTFALLS[key][1] if role.startswith("county") else "liaocheng")
        engine, case_id = self.ledger.engine, self.case(key, workflow)
        filled = stand_ins(engine, actor, workflow, payload, trigger=trigger, case_id=case_id)
        engine.fire(case_id, trigger, actor, filled)

    def trace(self, key: str, rectify: bool = True) -> None:
        self.fire(
            key,
            "responsibility",
            "identify",
            "county_eeb",
            responsible_party=f"{key}公司",
            needs_rectification=rectify,
        )

    def regularise(self, key: str) -> None:
        self.fire(key, "rectification", "choose_mode", "county_eeb", mode="regularise")

    def finish(self, key: str, days: list[str]) -> None:
        self.at(days[0])
        self.fire(
            key,
            "rectification",
            "complete",
            "county_eeb",
            evidence={"photos": ["p.jpg"]},
            standardisation={"signboard": True, "sampling_point": True, "qr_code": True},
        )
        self.at(days[1])
        self.fire(key, "rectification", "pre_close", "county_gov")
        self.at(days[2])
        self.fire(key, "rectification", "approve_delisting", "eeb_city")


@pytest.fixture
def city(ledger: Ledger, clock: FakeClock, admin: Actor, record: Record) -> City:
    town = City(ledger, clock)
    town.at("2024-03-01")
    for code, county, river in OUTFALLS.values():
        ledger.add(record(code, county=county, river=river), admin)
    town.at("2024-03-10")
    for key in "ABCD":
        town.trace(key)
        town.regularise(key)
    town.trace("F", rectify=False)
    town.finish("A", ["2024-04-20", "2024-05-01", "2024-05-10"])
    town.finish("D", ["2024-05-20", "2024-05-27", "2024-06-03"])
    town.at("2024-07-01")  # the Yellow River deadline passes: B and C overdue
    town.at("2024-08-15")  # a month later the schedule proposes 预警 ...
    town.confirm_proposed_rungs()  # ... and the city confirms it
    town.finish("B", ["2024-08-20", "2024-08-27", "2024-09-02"])
    town.at("2025-01-10")
    return town


def rows(report: Report) -> list[dict[str, Any]]:
    return list(report.to_json()["rows"])


def test_progress_by_county_type_and_stage(city: City) -> None:
    report = reports.progress(city.ledger, date(2024, 6, 30))
    got = {
        (
            r["county"],
            r["total"],
            r["tracing"],
            r["not_needed"],
            r["pending"],
            r["rectifying"],
            r["done"],
            r["due"],
        )
        for r in rows(report)
    }
    assert got == {
        ("东昌府区", 1, 0, 0, 0, 0, 1, 1),
        ("临清市", 1, 1, 0, 0, 0, 0, 1),
        ("阳谷县", 2, 0, 0, 0, 1, 1, 2),
        ("东阿县", 1, 0, 0, 0, 1, 0, 1),
        ("冠县", 1, 0, 1, 0, 0, 0, 0),
        ("合计", 6, 1, 1, 0, 2, 2, 5),
    }
    assert rows(report)[-1]["done_rate"] == "40.0%"  # 2 of the 5 that need it
    early = reports.progress(city.ledger, date(2024, 3, 5))
    assert rows(early)[-1] == {
        "county": "合计",
        "sub_type": "",
        "total": 6,
        "untraced": 0,
        "tracing": 6,
        "not_needed": 0,
        "retained": 0,
        "pending": 0,
        "rectifying": 0,
        "done": 0,
        "due": 6,  # not yet traced: to be rectified until the tracing says otherwise
        "done_rate": "0.0%",
        "new": 0,
        "new_cleared": 0,
    }
    before = reports.progress(city.ledger, date(2024, 2, 28))
    assert rows(before)[-1]["total"] == 0


def deadline_rows(report: Report, scope: str) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["county"]: (r["total"], r["on_time"], r["late"], r["open"])
        for r in rows(report)
        if r["scope"] == scope
    }


def test_completion_against_each_deadline(city: City) -> None:
    at_deadline = reports.deadlines(city.ledger, date(2024, 6, 30))
    assert deadline_rows(at_deadline, "黄河流域") == {
        "阳谷县": (2, 1, 0, 1),
        "东阿县": (1, 0, 0, 1),
        "合计": (3, 1, 0, 2),
    }
    # 冠县's F needs no rectification: not 应整治; 临清市's E is still being traced: not done
    assert deadline_rows(at_deadline, "全市")["合计"] == (5, 2, 0, 3)
    assert deadline_rows(at_deadline, "全市")["冠县"] == (0, 0, 0, 0)
    total = rows(at_deadline)[-1]
    assert (total["outfalls"], total["not_needed"], total["untraced"]) == (6, 1, 1)
    assert {r["status"] for r in rows(at_deadline) if r["scope"] == "黄河流域"} == {"未到期"}
    later = reports.deadlines(city.ledger, date(2025, 1, 10))
    assert deadline_rows(later, "黄河流域") == {
        "阳谷县": (2, 1, 1, 0),
        "东阿县": (1, 0, 0, 1),
        "合计": (3, 1, 1, 1),
    }
    assert {r["status"] for r in rows(later) if r["scope"] == "黄河流域"} == {"已到期"}
    assert deadline_rows(later, "全市")["合计"] == (5, 3, 0, 2)
    assert rows(later)[2]["done_rate"] == "66.7%"
    assert rows(later)[-1]["done_rate"] == "60.0%"


def test_overdue_cases_with_their_escalation_rung(city: City) -> None:
    assert reports.overdue(city.ledger, date(2024, 6, 30)).rows == []
    july = rows(reports.overdue(city.ledger, date(2024, 7, 15)))
    assert [(r["outfall"], r["county"], r["days_overdue"]) for r in july] == [
        ("371521-0002", "阳谷县", 15),
        ("371524-0001", "东阿县", 15),
    ]
    assert {r["escalation_rung"] for r in july} == {"通报"}
    assert all(r["escalation_case_id"] for r in july)
    august = rows(reports.overdue(city.ledger, date(2024, 8, 16)))
    assert {r["escalation_rung"] for r in august} == {"预警"}
    later = rows(reports.overdue(city.ledger, date(2025, 1, 10)))
    assert [r["outfall"] for r in later] == ["371524-0001"]
    assert later[0]["state"] == "规范整治-施工中"


def test_a_county_sees_only_its_own_figures(city: City) -> None:
    yanggu = Actor("阳谷县生态环境分局", "county_eeb", "yanggu")
    report = reports.progress(city.ledger, date(2024, 6, 30), yanggu)
    assert [r["county"] for r in rows(report)] == ["阳谷县", "合计"]
    assert [
        r["outfall"] for r in rows(reports.overdue(city.ledger, date(2024, 7, 15), yanggu))
    ] == ["371521-0002"]


def test_reports_export_as_tables(city: City, tmp_path: Path) -> None:
    report = reports.deadlines(city.ledger, date(2024, 6, 30))
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"deadlines.{suffix}"
        write_table(path, report.header, report.rows)
        sheet = read_sheet(path)
        assert sheet.header == report.header
        assert len(sheet.rows) == len(report.rows)
    text = format_table(report.header, report.rows)
    assert text.splitlines()[0].startswith("范围")
    assert json.loads(json.dumps(report.to_json(), ensure_ascii=False))["as_of"] == "2024-06-30"


def test_report_command(
    city: City, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.reports.cli import report_command

    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    shown = runner.invoke(report_command, ["deadlines", "--as-of", "2024-06-30"])
    assert shown.exit_code == 0, shown.output
    assert "黄河流域" in shown.output
    assert "截至 2024-06-30" in shown.output
    as_json = runner.invoke(
        report_command, ["overdue", "--as-of", "2024-07-15", "--format", "json"]
    )
    assert json.loads(as_json.output)["count"] == 2
    progress = runner.invoke(
        report_command, ["progress", "--as-of", "2024-06-30", "--format", "json"]
    )
    total = json.loads(progress.output)["rows"][-1]
    assert (total["not_needed"], total["retained"], total["due"]) == (1, 0, 5)
    assert "无需整治" in runner.invoke(report_command, ["deadlines"]).output
    out = tmp_path / "progress.xlsx"
    written = runner.invoke(
        report_command, ["progress", "--as-of", "2024-06-30", "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    assert read_sheet(out).header[0] == "县区"
    refused = runner.invoke(report_command, ["progress", "--format", "csv"])
    assert refused.exit_code == 2
    assert "needs --out" in refused.output


def test_the_id_card_shows_the_escalation_and_china_times(city: City) -> None:
    from handlers.ledger.idcard import build_card, render_html
    from handlers.titles import Titles

    card = build_card(city.ledger, "371524-0001", "http://localhost:8000")
    assert [h.case.workflow for h in card.histories] == [
        "responsibility",
        "rectification",
        "escalation",
    ]
    page = render_html(card, city.ledger.reference, Titles(city.ledger.engine))
    supervision = page.split("<h2>监督检查</h2>")[1]
    assert "排污口监督管理督办" in supervision
    assert "响应期满未整改，提出升级为预警的建议" in supervision  # the schedule proposes
    assert "确认升级为预警" in supervision  # the city decides (视情)
    assert "2024-03-01 10:00" in page  # added at 10:00 China time


DONGE_EEB = Actor("东阿县生态环境分局", "county_eeb", "donge")


def _donge(ledger: Ledger, admin: Actor, record: Record, seq: int, sub_type: str) -> str:
    code = f"371524-{seq:04d}"
    ledger.add(record(code, county="donge", river="huanghe", sub_type=sub_type), admin)
    return code


def _case_of(ledger: Ledger, code: str, workflow: str) -> int:
    return next(c.id for c in ledger.get(code).cases if c.workflow == workflow)


def test_an_outfall_that_needs_no_rectification_is_out_of_the_count(
    ledger: Ledger, clock: FakeClock, admin: Actor, record: Record
) -> None:
    """东阿县: a compliant urban WWTP outfall (无需整治), one kept as it is on the filed retained
    list (保留), one rectified and de-listed, one still being traced. 完成率 = 1 of the 2 that
    are to be rectified: the untraced one is not done, the compliant ones are not counted."""
    engine = ledger.engine
    engine.load([ROOT / "workflows" / "retained_list.yaml"])
    clock.set(cst("2024-03-01"))
    compliant = _donge(ledger, admin, record, 1, "urban_wwtp")
    kept = _donge(ledger, admin, record, 2, "urban_wwtp")
    rectified = _donge(ledger, admin, record, 3, "industrial_enterprise")
    _donge(ledger, admin, record, 4, "industrial_enterprise")  # still being traced
    clock.set(cst("2024-03-10"))
    for code, needs in ((compliant, False), (kept, False), (rectified, True)):
        engine.fire(
            _case_of(ledger, code, "responsibility"),
            "identify",
            DONGE_EEB,
            {"responsible_party": f"{code}单位", "needs_rectification": needs},
        )
    assert ledger.get(compliant).record["rectification_status"] == "not_needed"
    listing = engine.create_case(
        "retained_list", {"county": "donge", "year": 2024}, DONGE_EEB, subject="donge:2024"
    ).id
    engine.fire(listing, "submit", DONGE_EEB, {"outfalls": [kept]})
    clock.set(cst("2024-03-20"))
    engine.fire(listing, "file", CITY)
    case = _case_of(ledger, rectified, "rectification")
    engine.fire(case, "choose_mode", DONGE_EEB, {"mode": "regularise"})
    done = {
        "evidence": {"photos": ["p.jpg"]},
        "standardisation": {"signboard": True, "sampling_point": True, "qr_code": True},
    }
    payload = stand_ins(engine, DONGE_EEB, "rectification", done, trigger="complete", case_id=case)
    engine.fire(case, "complete", DONGE_EEB, payload)
    engine.fire(case, "pre_close", Actor("东阿县人民政府", "county_gov", "donge"))
    clock.set(cst("2024-05-10"))
    engine.fire(case, "approve_delisting", CITY)

    progress = rows(reports.progress(ledger, date(2024, 6, 30)))
    by_type = {r["sub_type"]: r for r in progress if r["county"] == "东阿县"}
    wwtp = by_type["城镇污水处理厂排污口"]
    assert (wwtp["total"], wwtp["not_needed"], wwtp["retained"], wwtp["pending"]) == (2, 1, 1, 0)
    assert (wwtp["due"], wwtp["done_rate"]) == (0, "-")
    industrial = by_type["工矿企业排污口"]
    assert (industrial["tracing"], industrial["done"], industrial["due"]) == (1, 1, 2)
    assert progress[-1]["done_rate"] == "50.0%"
    # before the list was filed the kept outfall was only 无需整治
    march = rows(reports.progress(ledger, date(2024, 3, 15)))[-1]
    assert (march["not_needed"], march["retained"], march["rectifying"]) == (2, 0, 1)

    deadline = [
        r for r in rows(reports.deadlines(ledger, date(2024, 6, 30))) if r["scope"] == "黄河流域"
    ]
    assert deadline[-1] == {
        "scope": "黄河流域",
        "deadline": "2024-06-30",
        "status": "未到期",
        "county": "合计",
        "outfalls": 4,
        "not_needed": 1,
        "retained": 1,
        "total": 2,
        "on_time": 1,
        "late": 0,
        "open": 1,
        "untraced": 1,
        "done_rate": "50.0%",
        "new": 0,
        "new_cleared": 0,
    }
