"""The public column (/gk) over the demo city: the same numbers as ``qingliu report``, the
downloads, validators, and no confidential value anywhere. Read-only: the demo as it is."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from handlers.dates import local_day
from handlers.public.web import PAST_PAGES
from handlers.reports.cli import report_command
from tests.conftest import ROOT
from tests.public.conftest import Console, screenshot

DAYS = ["2024-06-30", "2025-03-31"]
LISTS = ["decisions", "inspections", "enforcement"]
DOWNLOADS = ["progress", "deadlines", *LISTS]
PAGES = ["/gk", *(f"/gk/{name}" for name in LISTS)]
STAGES = ["total", "untraced", "tracing", "not_needed", "retained", "pending", "rectifying"]
SUMMED = [*STAGES, "done", "due", "new", "new_cleared"]


def _cli_report(console: Console, name: str, day: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``qingliu report NAME --as-of DAY --format json`` on the console's database (the
    command the CLI adds from the domain)."""
    monkeypatch.setenv("QINGLIU_DATABASE_URL", console.settings.database_url)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(report_command, [name, "--as-of", day, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _county_sums(report: dict[str, Any], county: str) -> dict[str, Any]:
    rows = [r for r in report["rows"] if r["county"] == county]
    assert rows, f"{county} has no row in the report"
    sums = {key: sum(r[key] for r in rows) for key in SUMMED}
    sums["done_rate"] = f"{100 * sums['done'] / sums['due']:.1f}%" if sums["due"] else "-"
    return sums


@pytest.mark.parametrize("day", DAYS)
def test_progress_downloads_are_the_reports_of_the_cli(
    anonymous: TestClient, console: Console, day: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("progress", "deadlines"):
        answer = anonymous.get(f"/gk/{name}.json", params={"as_of": day})
        assert answer.status_code == 200
        assert answer.json() == _cli_report(console, name, day, monkeypatch)


@pytest.mark.parametrize("day", DAYS)
def test_the_front_page_shows_each_countys_progress_of_the_cli(
    anonymous: TestClient, console: Console, day: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _cli_report(console, "progress", day, monkeypatch)
    page = anonymous.get("/gk", params={"as_of": day}).text
    assert f'<strong id="as-of">{day}</strong>' in page
    for county in sorted({r["county"] for r in report["rows"]} - {"合计"}):
        sums = _county_sums(report, county)
        row = page.split(f'<tr data-county="{county}"', 1)[1].split("</tr>", 1)[0]
        for key in [*SUMMED, "done_rate"]:
            assert f'data-key="{key}">{sums[key]}</td>' in row, (county, key)


def test_the_default_day_is_the_engines_today(anonymous: TestClient, console: Console) -> None:
    today = local_day(console.clock.now()).isoformat()
    assert f'<strong id="as-of">{today}</strong>' in anonymous.get("/gk").text
    assert anonymous.get("/gk/decisions.json").json()["as_of"] == today


def test_csv_opens_with_a_bom_and_chinese_headers(anonymous: TestClient) -> None:
    expected = {
        "progress": ["县区", "排污口类型", "总数"],
        "deadlines": ["范围", "时限", "到期", "县区"],
        "decisions": ["决定日期", "文号", "类别", "决定"],
        "inspections": ["公开日期", "被检查县区", "年度"],
        "enforcement": ["决定日期", "处罚决定书文号", "当事人", "违法行为类型"],
    }
    for name in DOWNLOADS:
        answer = anonymous.get(f"/gk/{name}.csv")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert f"{name}_2025-03-31.csv" in answer.headers["content-disposition"]
        assert answer.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert rows[0][: len(expected[name])] == expected[name]
        document = anonymous.get(f"/gk/{name}.json").json()
        assert len(rows) - 1 == len(document["rows"])
        assert all(key.isascii() for row in document["rows"] for key in row)


def test_each_answer_has_an_etag_and_a_conditional_request_gets_304(
    anonymous: TestClient,
) -> None:
    for path in [*PAGES, "/gk/progress.csv", "/gk/decisions.json"]:
        first = anonymous.get(path, params={"as_of": "2024-06-30"})
        assert first.status_code == 200
        assert first.headers["cache-control"].startswith("public")
        etag = first.headers["etag"]
        again = anonymous.get(path, params={"as_of": "2024-06-30"}, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        other = anonymous.get(path, params={"as_of": "2024-01-01"}, headers={"If-None-Match": etag})
        assert other.status_code == 200  # another day, another page


def test_a_bad_day_is_a_422_and_an_unknown_list_a_404(anonymous: TestClient) -> None:
    for path in PAGES:
        page = anonymous.get(path, params={"as_of": "2024-13-01"})
        assert page.status_code == 422
        assert "请按 YYYY-MM-DD 填写" in page.text
        assert 'href="/static/public/column.css"' in page.text  # the public layout
    problem = anonymous.get("/gk/decisions.json", params={"as_of": "yesterday"})
    assert problem.status_code == 422
    assert problem.headers["content-type"] == "application/problem+json"
    assert anonymous.get("/gk/reporters.json").status_code == 404
    assert anonymous.get("/gk/reporters.csv").status_code == 404


def test_a_day_after_today_or_before_the_plans_year_is_a_422(
    console: Console, anonymous: TestClient
) -> None:
    today = local_day(console.engine.clock.now())
    for day in (today + timedelta(days=1), date(2999, 12, 31), date(2022, 12, 31)):
        for path in PAGES:
            page = anonymous.get(path, params={"as_of": day.isoformat()})
            assert page.status_code == 422
            assert "超出范围" in page.text
            assert 'href="/static/public/column.css"' in page.text
        for name in ("decisions.json", "progress.csv"):
            problem = anonymous.get(f"/gk/{name}", params={"as_of": day.isoformat()})
            assert problem.status_code == 422
            assert problem.headers["content-type"] == "application/problem+json"
            assert problem.json()["errors"][0]["json_path"] == "$.as_of"
    for day in (today, date(2023, 1, 1)):
        assert anonymous.get("/gk", params={"as_of": day.isoformat()}).status_code == 200


def test_pages_of_past_days_are_kept_apart_so_they_cannot_push_todays_out(
    console: Console, anonymous: TestClient
) -> None:
    assert anonymous.get("/gk/decisions").status_code == 200  # today: the main cache
    main, past = console.app.state.public_cache, console.app.state.public_past_cache
    kept = len(main._pages)
    start = date(2024, 1, 1)
    for n in range(PAST_PAGES + 10):
        day = (start + timedelta(days=n)).isoformat()
        assert anonymous.get("/gk/decisions.json", params={"as_of": day}).status_code == 200
    assert len(main._pages) == kept
    assert len(past._pages) == PAST_PAGES


def test_the_lists_are_the_demos_decided_cases(anonymous: TestClient, console: Console) -> None:
    engine = console.engine
    decided = [
        c
        for c in engine.list_cases(None, workflow="setup_approval", limit=1000)
        if c.state in ("approved", "rejected", "registered")
    ]
    shown = anonymous.get("/gk/decisions.json").json()["rows"]
    assert sorted(r["decision_number"] + r["outfall_code"] for r in shown) == sorted(
        c.data["decision_number"] + c.data["outfall_code"] for c in decided
    )
    early = anonymous.get("/gk/decisions.json", params={"as_of": "2023-08-31"}).json()["rows"]
    assert 0 < len(early) < len(shown)
    assert all(r["decided_on"] <= "2023-08-31" for r in early)

    published = [
        c
        for c in engine.list_cases(None, workflow="effectiveness_check", limit=1000)
        if c.data.get("publication")
    ]
    rows = anonymous.get("/gk/inspections.json").json()["rows"]
    assert sorted(r["outfall_code"] for r in rows) == sorted(
        r["outfall_code"] for c in published for r in c.data["publication"]["results"]
    )
    assert {r["result"] for r in rows} == {"合格"}
    assert (
        anonymous.get("/gk/inspections.json", params={"as_of": "2024-12-09"}).json()["rows"] == []
    )  # published on the inspection day, 2024-12-10

    cases = engine.list_cases(None, workflow="enforcement", limit=1000)
    fined = [c for c in cases if c.data.get("penalty_decision")]
    penalties = anonymous.get("/gk/enforcement.json").json()["rows"]
    assert [p["decision_number"] for p in penalties] == [c.data["penalty_decision"] for c in fined]
    assert penalties[0]["violation"] == "超标排污"
    assert penalties[0]["fine_yuan"] == fined[0].data["fine_yuan"]
    page = anonymous.get("/gk/enforcement").text
    for case in cases:
        if case not in fined:  # still being traced: no decision to publish
            assert case.data["outfall_code"] not in page


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield str(value)


def confidential_values(console: Console) -> set[str]:
    """The reporters' names and phones of every 随手拍 report, and the value of every field a
    definition marks confidential that is not released (``until``) by today."""
    engine, today = console.engine, local_day(console.clock.now())
    found: set[str] = set()
    for row in engine.definitions():
        _, definition = engine.definition(row.name)
        for case in engine.list_cases(None, workflow=row.name, limit=1000):
            if row.name == "public_report":
                found |= set(_leaves(case.data.get("reporter")))
            released = engine.access.released(definition, case.data, today)
            for name in set(definition.confidential) - released:
                found |= set(_leaves(case.data.get(name)))
    return {v for v in found if len(v) >= 2}


def public_answers(client: TestClient) -> Iterator[tuple[str, str]]:
    for day in ["", *DAYS]:
        query = f"?as_of={day}" if day else ""
        for path in PAGES:
            yield path + query, client.get(path + query).text
        for name in DOWNLOADS:
            for suffix in ("csv", "json"):
                answer = client.get(f"/gk/{name}.{suffix}{query}")
                assert answer.status_code == 200
                yield f"/gk/{name}.{suffix}{query}", answer.content.decode("utf-8-sig")


def test_no_confidential_value_on_any_column_page_or_list(
    anonymous: TestClient, console: Console
) -> None:
    secrets = confidential_values(console)
    assert {"王先生", "13800000000"} <= secrets  # the demo's reporters are among them
    for path, text in public_answers(anonymous):
        leaked = sorted(v for v in secrets if v in text)
        assert leaked == [], f"{path} shows {leaked}"


def test_the_column_in_a_browser_shows_the_clis_numbers(
    page: Any, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = "2024-06-30"
    report = _cli_report(console, "progress", day, monkeypatch)
    page.goto(console.at("/gk"))
    page.get_by_label("截至日期").fill(day)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(console.at(f"/gk?as_of={day}"))
    assert page.locator("#as-of").inner_text() == day
    for county in ("东昌府区", "阳谷县", "合计"):
        row = page.locator(f'#progress tr[data-county="{county}"]')
        shown = {key: row.locator(f'td[data-key="{key}"]').inner_text() for key in SUMMED}
        shown["done_rate"] = row.locator('td[data-key="done_rate"]').inner_text()
        if county == "合计":
            total = next(r for r in report["rows"] if r["county"] == "合计")
            expected = {key: total[key] for key in [*SUMMED, "done_rate"]}
        else:
            expected = _county_sums(report, county)
        assert shown == {key: str(value) for key, value in expected.items()}, county
    assert page.locator("svg.gkbars rect title").count() == len(
        {r["county"] for r in report["rows"]} - {"合计"}
    )
    screenshot(page, "public-column")
    page.get_by_role("link", name="审批登记公示", exact=True).click()
    assert page.locator("#decisions tbody tr").count() > 0
    page.get_by_role("link", name="双随机抽查", exact=True).click()
    page.wait_for_url(console.at(f"/gk/inspections?as_of={day}"))
    assert page.locator("section.draw").count() == 0  # the first draws were in December
    assert page.get_by_text("截至该日暂无公开的抽查结果").is_visible()
    page.get_by_label("截至日期").fill("2025-03-31")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(console.at("/gk/inspections?as_of=2025-03-31"))
    assert page.locator("section.draw").count() > 0
    page.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES:
        page.goto(console.at(path))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
