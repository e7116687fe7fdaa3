"""待办 and 督办看板 in a real browser: a county clerk finds a case in its work list and opens
it; the city opens the board, clicks a red count and lands on the cases it counted."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.console.conftest import Console, open_page, screenshot, sign_in


def test_a_clerk_opens_a_case_from_the_inbox(page: Any, console: Console) -> None:
    sign_in(page, console, "dongchangfu.eeb")
    page.locator("nav.menu").get_by_role("link", name="待办").click()
    page.wait_for_url(console.at("/inbox"))
    assert page.get_by_role("heading", name="待办").is_visible()
    rows = page.locator("table.cases tbody tr")
    assert rows.count() >= 1
    first = rows.first
    assert re.match(r"剩余 \d+ 个工作日|已逾期 \d+ 天", first.locator(".badge").inner_text())
    assert "东昌府区" in first.inner_text()
    assert "共" in page.locator(".counts").inner_text()
    screenshot(page, "inbox")
    case_id = first.locator("td").first.inner_text().strip()
    first.get_by_role("link", name=case_id).click()
    page.wait_for_url(console.at(f"/cases/{case_id}"))


def test_the_city_clicks_a_red_count_on_the_board(browser: Any, console: Console) -> None:
    start = console.clock.now()
    console.clock.set(start + timedelta(days=130))  # past the first deadlines, before the sweep
    page = open_page(browser, console)
    try:
        sign_in(page, console, "city.eeb")
        page.locator("nav.menu").get_by_role("link", name="督办看板").click()
        page.wait_for_url(console.at("/board"))
        assert page.get_by_role("heading", name=re.compile("督办看板")).is_visible()
        red = page.locator("table.board a.badge.red").first
        count = int(red.inner_text())
        label = red.get_attribute("aria-label") or ""
        screenshot(page, "board")
        red.click()
        page.wait_for_url(re.compile(r"/cases\?.*overdue=true"))
        rows = page.locator("table.cases tbody tr")
        assert rows.count() == count
        for i in range(count):
            text = rows.nth(i).inner_text()
            assert "已逾期" in text
            assert label.split()[0] in text  # the county the count was for
        assert page.get_by_label("逾期").input_value() == "true"
    finally:
        console.clock.set(start)
        offsite = page.offsite.requests
        page.context.close()
    assert offsite == []
