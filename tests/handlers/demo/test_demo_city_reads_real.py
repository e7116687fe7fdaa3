"""``qingliu demo`` reads like a real city (issue 15 item 12): names an official would write,
dispositions that fit each type (plan 三(三)), every shipped workflow with cases, and the
installation's clock left at the simulated date so reports are dated then, not today."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from engine.settings import Settings, build_engine, load_settings
from handlers.demo.city import END, DemoResult
from handlers.ledger import Ledger
from handlers.reference import data as ref
from tests.conftest import ROOT, Run

# What an official's name of each sub-type says, and what it never says.
NAMED: dict[str, tuple[str | tuple[str, ...], tuple[str, ...]]] = {
    "industrial_enterprise": ("有限公司", ("污水处理厂", "养殖", "灌区")),
    "park_wwtp": (("园", "污水处理厂排污口"), ("养殖", "灌区", "城区")),
    "enterprise_storm": ("雨水排口", ("污水处理厂", "养殖")),
    "municipal_storm": ("雨水排口", ("有限公司", "污水处理厂", "养殖")),  # handlers/demo/patrols.py
    "urban_wwtp": ("污水处理厂排污口", ("有限公司", "园区", "化工", "纸业", "农牧", "养殖")),
    "livestock_large": ("养殖", ("污水处理厂", "化工", "纸业", "热电")),
    "aquaculture_small": ("养殖", ("污水处理厂", "化工", "纸业", "热电")),
    "irrigation_district": ("灌区", ("有限公司", "污水处理厂")),
    "urban_scattered": ("生活污水散排口", ("有限公司", "农村")),
    "rural_facility": ("污水处理站排污口", ("有限公司", "城区")),
    "rural_scattered": ("村生活污水散排口", ("有限公司", "城区")),
}
# Dispositions that fit the type: a plant that treats a town's sewage is rebuilt to standard,
# never banned or merged away; the rest may be any of the three modes.
KEPT_AS_THEY_ARE = {"urban_wwtp", "park_wwtp", "rural_facility"}


@pytest.fixture
def city(demo_city: tuple[Settings, DemoResult]) -> tuple[Settings, DemoResult]:
    return demo_city


def _ledger(settings: Settings) -> Iterator[Ledger]:
    engine = build_engine(settings)
    try:
        yield Ledger(engine)
    finally:
        engine.store.dispose()


def test_outfall_names_read_as_an_official_writes_them(city: tuple[Settings, DemoResult]) -> None:
    settings, result = city
    assert result.refused == []
    for ledger in _ledger(settings):
        outfalls = ledger.list()
        assert {o.record["sub_type"] for o in outfalls} <= set(NAMED)
        for view in outfalls:
            record = view.record
            name, sub = str(record["name"]), str(record["sub_type"])
            county = ref.jurisdiction_name(ledger.engine.reference, record["county"])
            spec = ref.sub_type(ledger.engine.reference, sub)
            assert spec is not None
            assert name.startswith(county), name
            needed, never = NAMED[sub]
            wanted = (needed,) if isinstance(needed, str) else needed
            assert all(word in name for word in wanted), (sub, name)
            assert not any(word in name for word in never), (sub, name)
            assert spec["name"] not in name or sub == "urban_scattered", name  # no type tag
            assert "号" not in name, name  # no "农牧2号": a serial number is the code's job
            party = record.get("responsible_party")
            if party and sub in ("urban_wwtp", "park_wwtp"):
                assert "污水处理" in party or "水务" in party, (sub, party)
        names = [str(o.record["name"]) for o in outfalls]
        assert len(set(names)) == len(names)  # two outfalls never share a name


def test_dispositions_fit_the_type_and_no_urban_wwtp_is_banned(
    city: tuple[Settings, DemoResult],
) -> None:
    settings, _ = city
    for ledger in _ledger(settings):
        by_code = {o.code: o.record for o in ledger.list()}
        modes: dict[str, set[str]] = {}
        for case in ledger.engine.list_cases(workflow="rectification", limit=10_000):
            sub = by_code[str(case.case.subject)]["sub_type"]
            mode = case.data.get("mode")
            if mode:
                modes.setdefault(sub, set()).add(str(mode))
        assert modes["urban_wwtp"] == {"regularise"}
        for sub in KEPT_AS_THEY_ARE & set(modes):
            assert modes[sub] == {"regularise"}, sub
        assert {"ban", "merge", "regularise"} <= set().union(*modes.values())
        for record in by_code.values():
            if record["sub_type"] in KEPT_AS_THEY_ARE:
                assert record["status"] == "active", record["code"]


def test_every_shipped_workflow_has_cases(city: tuple[Settings, DemoResult]) -> None:
    settings, result = city
    shipped = {p.stem for p in (ROOT / "workflows").glob("*.yaml")}
    assert len(shipped) == 17
    assert {w for w, _, _ in result.cases} == shipped
    engine = build_engine(settings)
    try:
        for workflow in shipped:  # each one driven past its first state somewhere
            initial = engine.definition(workflow)[1].initial
            assert {s for w, s, _ in result.cases if w == workflow} - {initial}, workflow
    finally:
        engine.store.dispose()


def test_reports_are_dated_at_the_simulated_date(
    city: tuple[Settings, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.reports.cli import report_command

    settings, _ = city
    engine = build_engine(settings)
    try:
        assert engine.clock.now() == END
    finally:
        engine.store.dispose()
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    for which in ("progress", "deadlines", "overdue"):
        shown = runner.invoke(report_command, [which])
        assert shown.exit_code == 0, shown.output
        assert f"（截至 {END.date().isoformat()}）" in shown.output.splitlines()[0]
    overdue = runner.invoke(report_command, ["overdue", "--format", "json"])
    assert '"as_of": "2025-03-31"' in overdue.output


def test_people_read_chinese_names_in_the_demo_and_the_ledger(run: Run) -> None:
    shown = run("demo")
    assert "模拟日期 2025-03-31" in shown
    assert "排污口整治" in shown  # workflow and state titles
    assert "已销号" in shown
    for code in ("rectification", "responsibility", "delisted", "eeb_city", "county_eeb"):
        assert code not in shown, code
    listing = run("ledger", "list")
    code = listing.splitlines()[2].split()[0]
    history = run("ledger", "history", code)
    assert "县级生态环境分局" in history
    assert "(county_eeb)" not in history
    assert "2025-03-31 09:00" in run("time")


def test_ledger_show_gives_the_names_people_read(run: Run) -> None:
    run("demo")
    listing = run("ledger", "list", "--county", "yanggu")
    code = listing.splitlines()[2].split()[0]
    shown = json.loads(run("ledger", "show", code))
    names = shown["names"]
    assert names["county"] == "阳谷县"
    assert names["sub_type"] == ref_name(shown["sub_type"])
    assert names["status"] in ("在用", "已取缔", "已合并", "已注销")
    assert names["river"] in ("黄河（干流）", "金堤河")
    titles = {c["workflow"]: c["workflow_title"] for c in shown["cases"]}
    assert titles["responsibility"] == "排污口溯源与责任主体确定"


def ref_name(sub_type: str) -> str:
    spec = ref.sub_type(load_settings(ROOT / "config").reference, sub_type)
    assert spec is not None
    return str(spec["name"])


def test_some_outfalls_are_compliant_and_kept(
    city: tuple[Settings, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 item 12: as in a real city, some plants already meet the standard: traced as not
    needing rectification (no rectification case), several kept on their county's filed list
    (保留, 三(三)) and others 无需整治; the 完成率 counts only the outfalls to be rectified."""
    from handlers.reports.cli import report_command

    settings, result = city
    assert result.refused == []
    for ledger in _ledger(settings):
        rectified = {
            str(c.case.subject)
            for c in ledger.engine.list_cases(workflow="rectification", limit=10_000)
        }
        compliant = [
            o for o in ledger.list() if o.record.get("rectification_status") == "not_needed"
        ]
        assert 6 <= len(compliant) <= 10
        assert len({o.record["county"] for o in compliant}) >= 4
        assert not {o.code for o in compliant} & rectified
        plants = ("urban_wwtp", "park_wwtp", "industrial_enterprise")
        assert all(o.record["sub_type"] in plants for o in compliant)
        assert any(o.record.get("retained") for o in compliant)
    monkeypatch.setenv("QINGLIU_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    shown = runner.invoke(report_command, ["progress", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    total = json.loads(shown.output)["rows"][-1]
    assert total["not_needed"] > 0
    assert total["retained"] > 0
    assert total["due"] == total["total"] - total["not_needed"] - total["retained"]
    assert total["done_rate"] == f"{100 * total['done'] / total['due']:.1f}%"
    assert total["done"] < total["due"]
    text = runner.invoke(report_command, ["progress"]).output.splitlines()
    header, last = text[1].split(), text[-1].split()
    assert last[header.index("无需整治") - 1] != "0"  # 合计 has no 排污口类型 cell
    assert last[header.index("保留") - 1] != "0"
    deadlines = runner.invoke(report_command, ["deadlines", "--format", "json"])
    city_total = [r for r in json.loads(deadlines.output)["rows"] if r["county"] == "合计"][-1]
    assert city_total["not_needed"] + city_total["retained"] > 0
