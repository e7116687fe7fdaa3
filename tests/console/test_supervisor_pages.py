"""The supervisors' domain pages (handlers/reports/console.py, ladder.py,
handlers/ledger/console.py): reports with charts and their .xlsx, the ledger, outfall pages
with the ID card and QR code, the escalation ladders. Fast checks through a TestClient on the
console's app; one walk through them in a real browser."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from handlers.ledger import Ledger
from handlers.ledger.idcard import qr, record_url
from handlers.reports import compute
from tests.console.conftest import PASSWORD, Console, screenshot, sign_in

CITY_ONLY = ("统计报表", "督办升级")


def _client(console: Console, username: str) -> TestClient:
    client = TestClient(console.app, follow_redirects=False)
    signed = console.app.state.accounts.sign_in(username, PASSWORD, "testclient")
    client.cookies.set("qingliu_session", signed.secret)
    return client


@pytest.fixture(scope="module")
def city(console: Console) -> TestClient:
    return _client(console, "city.eeb")


@pytest.fixture(scope="module")
def county(console: Console) -> TestClient:
    return _client(console, "dongchangfu.eeb")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def _cells(html: str, table: str) -> list[list[str]]:
    """The body rows of the page's first ``table.<table>`` (or ``#<table>``), cell texts."""
    start = re.search(rf'<table[^>]*(id="{table}"|class="grid {table}")', html)
    assert start is not None, f"no table {table}"
    body = html[start.end() :].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        rows.append([_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)])
    return rows


def _header(html: str) -> list[str]:
    head = html.split('id="report-table"', 1)[1].split("</thead>", 1)[0]
    return [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def _sheet(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _menu(html: str) -> list[str]:
    nav = html.split('<nav class="menu">', 1)[1].split("</nav>", 1)[0]
    return [_text(a) for a in re.findall(r"<a [^>]*>(.*?)</a>", nav, re.S)]


# -- reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(compute.REPORTS))
@pytest.mark.parametrize("as_of", ["", "2024-06-30"])
def test_the_xlsx_holds_exactly_the_table_of_the_page(
    city: TestClient, console: Console, name: str, as_of: str
) -> None:
    page = city.get(f"/reports/{name}", params={"as_of": as_of} if as_of else {})
    assert page.status_code == 200
    day = as_of or "2025-03-31"  # the demo's clock: the engine's today by default
    assert f'value="{day}"' in page.text
    link = f"/reports/{name}.xlsx?as_of={day}"
    assert f'href="{link}"' in page.text
    answer = city.get(link)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer.headers["content-disposition"]
    sheet = _sheet(answer.content)
    assert sheet[0] == _header(page.text)
    assert sheet[1:] == _cells(page.text, "report-table")
    if not as_of:
        assert len(sheet) > 1  # today, every report has rows


def test_the_progress_report_has_chinese_headers_a_bar_chart_and_the_totals(
    city: TestClient,
) -> None:
    page = city.get("/reports/progress").text
    assert _header(page)[:3] == ["县区", "排污口类型", "总数"]
    assert "完成率" in _header(page)
    assert re.search(r'<svg class="bars"[^>]*role="img"', page)
    widths = [
        int(w)
        for w in re.findall(
            r'class="bar-value" width="(\d+)"|width="(\d+)"[^>]*class="bar-value"', page
        )
        for w in w
        if w
    ]
    assert widths
    assert all(0 <= w <= 480 for w in widths)
    assert any(w > 0 for w in widths)
    assert "style=" not in page  # the CSP allows no style attribute
    rows = _cells(page, "report-table")
    assert rows[-1][0] == "合计"
    # the 合计 row sums the outfalls of the rows above it
    assert int(rows[-1][2]) == sum(int(r[2]) for r in rows[:-1])


def test_a_county_user_sees_only_its_own_county_in_the_reports(
    county: TestClient, console: Console
) -> None:
    page = county.get("/reports/progress").text
    rows = _cells(page, "report-table")
    assert {r[0] for r in rows} == {"东昌府区", "合计"}
    outfalls = Ledger(console.engine).count(None, county="dongchangfu")
    assert int(rows[-1][2]) == outfalls
    sheet = _sheet(county.get("/reports/progress.xlsx?as_of=2025-03-31").content)
    assert sheet[1:] == rows  # the download is in the same scope
    deadlines = _cells(county.get("/reports/deadlines").text, "report-table")
    assert {r[3] for r in deadlines} <= {"东昌府区", "合计"}


def test_a_bad_day_or_an_unknown_report_is_a_page_in_chinese(city: TestClient) -> None:
    bad = city.get("/reports/progress?as_of=31.03.2025")
    assert bad.status_code == 422
    assert "日期" in bad.text
    assert "YYYY-MM-DD" in bad.text
    for day in ("0001-01-01", "9999-12-31", "2025-02-30"):
        assert city.get(f"/reports/deadlines.xlsx?as_of={day}").status_code == 422
    assert city.get("/reports/nothing").status_code == 404
    assert city.get("/reports/nothing.xlsx").status_code == 404
    assert city.get("/reports").headers["location"] == "/reports/progress"


def test_signed_out_the_pages_ask_to_sign_in(console: Console) -> None:
    anonymous = TestClient(console.app, follow_redirects=False)
    for path in ("/reports/progress", "/reports/progress.xlsx", "/ledger", "/escalation"):
        answer = anonymous.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


# -- the menu and the escalation ladders ------------------------------------------------------


def test_the_menu_offers_reports_and_ladders_to_supervisors_and_the_ledger_to_all(
    city: TestClient, county: TestClient
) -> None:
    mine = _menu(city.get("/ledger").text)
    assert {"统计报表", "督办升级", "排污口台账"} <= set(mine)
    theirs = _menu(county.get("/ledger").text)
    assert "排污口台账" in theirs
    assert not set(CITY_ONLY) & set(theirs)


def test_the_escalation_ladders_show_each_late_county_on_its_rung(
    city: TestClient, county: TestClient
) -> None:
    answer = county.get("/escalation")
    assert answer.status_code == 403
    assert "督办升级仅供市级及以上监督部门查看" in answer.text
    page = city.get("/escalation").text
    rows = _cells(page, "ladders")
    yanggu = next(r for r in rows if r[0] == "阳谷县")
    assert yanggu[1].startswith("排污口整治")  # the topic: the workflow's title
    assert "通报2024-07-01" in yanggu[2].replace("\n", "").replace(" ", "")
    assert "通报" in yanggu[3]
    assert re.search(r'<li class="current" aria-current="step">通报', page)
    assert re.search(r'href="/cases/\d+"', page)


# -- the ledger -------------------------------------------------------------------------------


def _codes(client: TestClient, query: str) -> tuple[list[str], int, str | None]:
    page = client.get(f"/ledger?{query}").text
    codes = re.findall(r'<td><a href="/ledger/([^"]+)">', page)
    total = int(re.search(r"共 (\d+) 个排污口", page).group(1))  # type: ignore[union-attr]
    following = re.search(r'<a href="(/ledger\?[^"]+)" rel="next">', page)
    return codes, total, following.group(1).replace("&amp;", "&") if following else None


def test_the_ledger_pages_through_every_outfall_the_user_may_read(
    city: TestClient, county: TestClient, console: Console
) -> None:
    everything = [v.code for v in Ledger(console.engine).list(None)]
    seen: list[str] = []
    query = ""
    while True:
        codes, total, following = _codes(city, query)
        assert total == len(everything)
        assert len(codes) <= 20
        seen += codes
        if following is None:
            break
        query = following.split("?", 1)[1]
    assert seen == everything
    theirs, total, _ = _codes(county, "")
    mine = [v.code for v in Ledger(console.engine).list(None, county="dongchangfu")]
    assert total == len(mine)
    assert theirs == mine[:20]
    other = next(c for c in everything if c not in mine)
    assert county.get(f"/ledger/{other}").status_code == 404  # another county's: not there
    assert county.get("/ledger?county=chiping").text.count('<td><a href="/ledger/') == 0
    offered = re.findall(r'<option value="([^"]*)"', county.get("/ledger").text)
    assert "dongchangfu" in offered
    assert "chiping" not in offered  # only the counties the user may read are offered


def test_the_ledger_filters_by_county_type_river_status_stage_and_text(
    city: TestClient, console: Console
) -> None:
    ledger = Ledger(console.engine)
    every = ledger.list(None)
    for name in ("county", "sub_type", "river", "status"):
        value = str(every[0].record[name])
        codes, total, _ = _codes(city, f"{name}={value}")
        wanted = [v.code for v in every if v.record.get(name) == value]
        assert (codes, total) == (wanted[:20], len(wanted)), name
    stage = "done"
    codes, total, _ = _codes(city, f"stage={stage}&county=chiping")
    wanted = [
        v.code
        for v in every
        if v.record.get("rectification_status") == stage and v.record["county"] == "chiping"
    ]
    assert wanted
    assert (codes, total) == (wanted[:20], len(wanted))
    word = str(every[3].record["name"])[3:7]
    codes, total, _ = _codes(city, f"q={word}")
    assert every[3].code in codes
    assert all(word in str(v.record["name"]) or word in v.code for v in every if v.code in codes)
    codes, total, _ = _codes(city, f"q={every[5].code[:9]}")
    assert every[5].code in codes
    assert all(c.startswith(every[5].code[:9]) for c in codes)
    assert _codes(city, "q=不存在的排污口")[:2] == ([], 0)


def test_the_outfall_page_shows_its_id_card_qr_code_cases_and_history(
    city: TestClient, console: Console
) -> None:
    ledger = Ledger(console.engine)
    full = next(f for v in ledger.list(None) if (f := ledger.get(v.code, None)).cases)
    view = full
    answer = city.get(f"/ledger/{view.code}")
    assert answer.status_code == 200
    page = answer.text
    assert f"入河排污口身份证 · {view.record['name']}" in page
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page))
    assert fields["编码"] == view.code
    assert fields["所在县区"] == "东昌府区"
    # the ID card's QR, inline, encoding the configured public address (settings.yaml)
    url = record_url(console.settings.public_base_url, view.code)
    assert qr(url).svg_inline(scale=4, title=view.code) in page
    # and links to the outfall's public page and its sign board (the page the QR opens)
    assert f'href="/o/{view.code}">公开页面</a>' in page
    assert f'href="/o/{view.code}/sign">打印标识牌</a>' in page
    for case in full.cases:
        assert f'href="/cases/{case.id}"' in page
    changes = _cells(page, "changes")
    assert changes[0][1] == "录入台账"
    assert city.get("/ledger/999999-99-999").status_code == 404
    assert "未找到" in city.get("/ledger/999999-99-999").text


# -- in a real browser ------------------------------------------------------------------------


def test_the_city_reads_reports_downloads_the_xlsx_and_opens_an_outfall(
    page: Any, console: Console, tmp_path: Path
) -> None:
    sign_in(page, console, "city.eeb")
    page.locator("nav.menu").get_by_role("link", name="统计报表").click()
    page.wait_for_url(re.compile(r".*/reports/progress$"))
    table = page.locator("#report-table")
    table.get_by_role("columnheader", name="完成率").wait_for()
    chart = page.get_by_role("img", name="各县区完成率（已完成 / 应整治）")
    assert chart.locator("rect.bar-value").count() > 0
    screenshot(page, "reports")
    rows = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    header = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 Excel（.xlsx）").click()
    target = tmp_path / "report.xlsx"
    info.value.save_as(target)
    sheet = _sheet(target.read_bytes())
    assert sheet[0] == header
    assert sheet[1:] == rows

    page.locator("nav.menu").get_by_role("link", name="排污口台账").click()
    page.get_by_label("所在县区").select_option(label="茌平区")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r".*/ledger\?.*county=chiping"))
    counties = page.locator("table.ledger tbody tr td:nth-child(4)").all_inner_texts()
    assert counties
    assert set(counties) == {"茌平区"}
    screenshot(page, "ledger")
    first = page.locator("table.ledger tbody tr td a").first
    code = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(rf".*/ledger/{re.escape(code)}$"))
    page.get_by_role("heading", name="基本信息").wait_for()
    assert page.locator("figure.qr svg").count() == 1
    assert page.locator("figure.qr").inner_text().startswith(code)
    screenshot(page, "outfall")

    page.locator("nav.menu").get_by_role("link", name="督办升级").click()
    page.wait_for_url(re.compile(r".*/escalation$"))
    yanggu = page.get_by_role("row").filter(has_text="阳谷县")
    assert yanggu.get_by_role("list", name="阳谷县的督办阶梯").inner_text().startswith("通报")
    screenshot(page, "escalation")
