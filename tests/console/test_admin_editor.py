"""The administrators' YAML editor in a real browser (issue 17's Done-when): break a YAML and
see the error at its line, fix it, run the workflow's scenario, publish, see the new version."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.console.conftest import Console, screenshot, sign_in

WORKFLOW = "retained_list"


def test_an_admin_breaks_fixes_simulates_and_publishes_a_workflow(
    page: Any, console: Console
) -> None:
    version = console.engine.definition(WORKFLOW)[0].version
    sign_in(page, console, "admin")
    page.get_by_role("navigation").get_by_role("link", name="流程管理").click()
    expect(page.get_by_role("heading", name="流程管理")).to_be_visible()
    listing = page.get_by_role("row").filter(has_text="需保留排污口清单报送")
    expect(listing).to_contain_text(f"第 {version} 版")
    screenshot(page, "workflows")

    listing.get_by_role("link", name="编辑").click()
    page.wait_for_url(re.compile(rf".*/admin/workflows/{WORKFLOW}/edit$"))
    status = page.locator("#check-status")
    expect(status).to_have_text("没有发现问题")
    expect(page.locator("#gutter .ln")).to_have_count(
        len(console.engine.definition(WORKFLOW)[0].source.split("\n"))
    )

    # an unknown key typed on line 3
    editor = page.get_by_label("流程定义（YAML）")
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("colour: red")
    problem = page.get_by_role("button", name=re.compile(r"^第 3 行 第 1 列："))
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("colour")
    expect(status).to_have_text("发现 1 个问题")
    expect(page.locator("#gutter .ln.bad")).to_have_text(["3"])
    screenshot(page, "editor")

    # clicking the problem puts the cursor at its line and column; the fix clears it
    page.keyboard.press("Control+End")
    problem.click()
    start_of_line_3 = page.evaluate(
        "() => { const s = document.getElementById('source'); "
        "return s.value.split('\\n').slice(0, 2).join('\\n').length + 1; }"
    )
    assert editor.evaluate("e => e.selectionStart") == start_of_line_3
    page.keyboard.press("Shift+End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("End")
    page.keyboard.type("（修订）")
    expect(status).to_have_text("没有发现问题")
    expect(page.locator("#gutter .ln.bad")).to_have_count(0)
    assert "title: 需保留排污口清单报送（修订）\n" in editor.input_value()

    page.get_by_role("button", name="运行模拟场景").click()
    results = page.locator("#scenario-results")
    expect(results.locator(".scenario")).to_have_count(1)
    expect(results.locator(".badge")).to_have_text("通过")
    expect(results).to_contain_text("第 1 步")
    expect(results.locator(".step.failed")).to_have_count(0)

    page.get_by_role("button", name="发布").click()
    page.wait_for_url(re.compile(rf".*/admin/workflows/{WORKFLOW}\?published={version + 1}$"))
    expect(page.get_by_role("status")).to_have_text(f"已发布第 {version + 1} 版")
    expect(page.get_by_role("heading", level=1)).to_contain_text("需保留排污口清单报送（修订）")
    newest = page.locator("table.versions tbody tr").first
    expect(newest).to_contain_text(f"第 {version + 1} 版")
    expect(newest).to_contain_text("管理员在线发布（admin）")
    expect(page.locator("table.diff td.ins")).to_contain_text(
        ["title: 需保留排污口清单报送（修订）"]
    )
    screenshot(page, "workflow")
    assert console.engine.definition(WORKFLOW)[0].version == version + 1
