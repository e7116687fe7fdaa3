"""An administrator creates a user in the browser; the new user signs in."""

from __future__ import annotations

import re
from typing import Any

from tests.console.conftest import Console, screenshot, sign_in

NEW_PASSWORD = "Xinyonghu-2025"


def test_an_admin_creates_a_user_who_then_signs_in(page: Any, console: Console) -> None:
    sign_in(page, console, "admin")
    page.get_by_role("navigation").get_by_role("link", name="用户与令牌").click()
    page.wait_for_url(re.compile(r".*/admin/users$"))
    assert page.get_by_role("cell", name="茌平区分局 刘科员").count() == 1
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("chiping.gov")
    page.get_by_label("姓名").fill("茌平区政府 孙主任")
    page.get_by_label("角色").select_option(label="县级政府/管委会")
    page.get_by_label("密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入密码").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="创建用户").click()
    # two errors, each at its field: no jurisdiction for a county role, passwords differ
    assert (
        page.locator("#jurisdiction-error").inner_text() == "此角色只在一个辖区内办理，请选择辖区"
    )
    assert page.locator("#password_again-error").inner_text() == "两次输入的密码不一致"
    page.get_by_label("辖区").select_option(label="茌平区")
    page.get_by_label("密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="创建用户").click()
    assert page.get_by_role("status").inner_text() == "已创建用户 chiping.gov。"
    row = page.get_by_role("row").filter(has_text="chiping.gov")
    assert "县级政府/管委会" in row.inner_text()
    assert "茌平区" in row.inner_text()
    screenshot(page, "users")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r".*/login$"))
    sign_in(page, console, "chiping.gov", NEW_PASSWORD)
    assert "茌平区政府 孙主任" in page.locator("header").inner_text()
    assert page.locator("nav.menu").get_by_role("link", name="用户与令牌").count() == 0


def test_an_admin_creates_a_token_sees_its_secret_once_and_revokes_it(
    page: Any, console: Console
) -> None:
    sign_in(page, console, "admin")
    page.goto(console.at("/admin/users/tokens"))
    page.get_by_role("link", name="新建令牌").click()
    page.get_by_label("名称").fill("市政务服务平台")
    page.get_by_label("角色").select_option(label="行政审批局")
    page.get_by_label("辖区").select_option(label="聊城市")
    page.get_by_label("有效期").select_option(label="90 天")
    page.get_by_role("button", name="创建令牌").click()
    assert "只显示这一次" in page.get_by_role("alert").inner_text()
    secret = page.get_by_label("令牌").input_value()
    assert secret.startswith("qlt_")
    screenshot(page, "token-created")
    page.get_by_role("link", name="返回令牌列表").click()
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has_text="市政务服务平台")
    assert "有效" in row.inner_text()
    row.get_by_role("button", name="吊销").click()
    assert page.get_by_role("status").inner_text() == "已吊销令牌 市政务服务平台。"
    assert "已吊销" in page.get_by_role("row").filter(has_text="市政务服务平台").inner_text()
