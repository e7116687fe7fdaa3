"""A county clerk fires a trigger through its generated form in a real browser: a field error
first, then the fix, a double click that fires once, the timeline and the diagram moving."""

from __future__ import annotations

from typing import Any

from engine.handlers import Actor
from tests.console.conftest import Console, open_page, screenshot, sign_in

CLERK = Actor("dongchangfu.eeb", "county_eeb", "dongchangfu")


def _current(page: Any) -> str:
    found: str = page.locator("svg g.state.current").get_attribute("data-state")
    return found


def test_a_clerk_fires_a_trigger_through_its_form(
    page: Any, browser: Any, console: Console
) -> None:
    case = next(
        v
        for v in console.engine.list_cases(CLERK, workflow="public_report")
        if v.state == "investigating"
    )
    sign_in(page, console, "dongchangfu.eeb")
    # found in 待办, as a clerk finds it
    page.get_by_role("navigation").get_by_role("link", name="待办").click()
    page.locator("main").get_by_role("link", name=str(case.id), exact=True).click()
    page.wait_for_url(console.at(f"/cases/{case.id}"))
    assert _current(page) == "investigating"
    events = page.locator("ol.timeline li.event")
    before = events.count()
    screenshot(page, "case")

    phone = open_page(browser, console, 390, 844)
    try:
        sign_in(phone, console, "dongchangfu.eeb")
        phone.goto(console.at(f"/cases/{case.id}"))
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # stacked: only the diagram scrolls sideways, inside its box
        screenshot(phone, "case-phone")
        assert phone.offsite.requests == []
    finally:
        phone.context.close()

    form = page.get_by_role("form", name="核实不属实")
    form.get_by_role("button", name="核实不属实").click()
    error = page.get_by_role("form", name="核实不属实").locator('[data-field="finding"] .error')
    assert error.inner_text() == "必填"
    assert page.get_by_role("form", name="核实不属实").locator(".summary").is_visible()

    form = page.get_by_role("form", name="核实不属实")
    form.get_by_label("核实情况").fill("现场核实，沟渠内为雨水，无生活污水直排")
    form.get_by_role("button", name="核实不属实").dblclick()
    page.get_by_role("status").wait_for()
    assert "已办理" in page.get_by_role("status").inner_text()
    assert events.count() == before + 1
    assert "核实不属实" in events.first.inner_text()
    assert "东昌府区分局 王科员" in events.first.inner_text()  # who, by display name
    assert _current(page) == "unfounded"
    assert len(console.engine.history(case.id, CLERK)) == before + 1
