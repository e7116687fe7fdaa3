"""Signing in to the console in a real browser, and the rules behind it."""

from __future__ import annotations

import re
from typing import Any

from tests.console.conftest import PASSWORD, Console, sign_in


def test_a_clerk_signs_in_and_sees_the_start_page_in_chinese(page: Any, console: Console) -> None:
    page.goto(console.at("/"))
    assert "/login" in page.url  # no session: the sign-in page
    sign_in(page, console, "dongchangfu.eeb")
    assert page.url == console.at("/")
    header = page.locator("header").inner_text()
    assert "东昌府区分局 王科员" in header
    assert "县级生态环境分局" in header  # the role's title from config/reference/roles.yaml
    assert "东昌府区" in header
    menu = page.locator("nav.menu")
    assert menu.get_by_role("link", name="待办").count() == 1
    assert menu.get_by_role("link", name="流程管理").count() == 0  # not an admin


def test_a_wrong_password_is_refused_in_chinese_without_saying_which_part(
    page: Any, console: Console
) -> None:
    page.goto(console.at("/login"))
    page.get_by_label("用户名").fill("dongchangfu.eeb")
    page.get_by_label("密码").fill("not-the-password-1")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误，或账号已锁定"
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误，或账号已锁定"


def test_signing_out_ends_the_session(page: Any, console: Console) -> None:
    sign_in(page, console, "city.eeb")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(console.at("/"))
    assert "/login" in page.url


def test_the_api_docs_work_offline(page: Any, console: Console) -> None:
    page.goto(console.at("/docs"))
    page.wait_for_selector("text=Qingliu (清流) API")
    page.goto(console.at("/redoc"))
    page.wait_for_selector("text=Qingliu (清流) API")
