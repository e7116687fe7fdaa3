"""/admin/users and /admin/users/tokens (engine/console/admin_users.py) through TestClient:
the lists in Chinese, each form's errors at its field, every action with a notice and its
effect, the token's secret shown once, and only administrators let in."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.api import tokens
from tests.console import accounts_kit
from tests.console.accounts_kit import PASSWORD, Kit, csrf_of, sign_in

kit = accounts_kit.kit


@pytest.fixture
def admin(kit: Kit) -> Any:
    kit.user("boss", "admin")
    kit.user("wang")
    client = kit.client()
    assert sign_in(client, "boss").status_code == 303
    client.token = csrf_of(client, "/admin/users")
    return client


def _post(client: Any, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.token, **data})


def _follow(client: Any, answer: Any) -> Any:
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])


def _error_at(page: Any, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', page.text)
    assert found, f"no error at {field}"
    return found.group(1)


def test_the_users_list_names_roles_and_jurisdictions_in_chinese(admin: Any) -> None:
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert "<title>用户与令牌 · 入河排污口监督管理</title>" in page.text
    row = re.search(r"<tr>\s*<td>wang</td>.*?</tr>", page.text, re.S)
    assert row
    assert "县级生态环境分局" in row.group(0)
    assert "东昌府区" in row.group(0)
    assert "正常" in row.group(0)
    assert "2026-01-05 09:00" in row.group(0)  # created, in local time
    assert 'action="/admin/users/wang/disable"' in row.group(0)
    assert 'action="/admin/users/boss/disable"' not in page.text  # not oneself


def test_creating_a_user_shows_each_error_at_its_field_then_creates_it(
    admin: Any, kit: Kit
) -> None:
    bad = _post(
        admin,
        "/admin/users/new",
        username="Li Si",
        display_name="",
        role="county_eeb",
        jurisdiction="",
        password="short",
        password_again="short",
    )
    assert bad.status_code == 422
    assert "小写字母" in _error_at(bad, "username")
    assert _error_at(bad, "display_name") == "请填写姓名"
    assert "请选择辖区" in _error_at(bad, "jurisdiction")
    assert "至少 10 个字符" in _error_at(bad, "password")
    assert 'value="Li Si"' in bad.text  # what was typed stays
    mismatch = _post(
        admin,
        "/admin/users/new",
        username="lisi",
        display_name="李四",
        role="county_eeb",
        jurisdiction="chiping",
        password=PASSWORD,
        password_again=PASSWORD + "x",
    )
    assert _error_at(mismatch, "password_again") == "两次输入的密码不一致"
    assert 'value="chiping" selected' in mismatch.text
    assert PASSWORD not in mismatch.text  # a password is never sent back
    assert {u.username for u in kit.accounts.users()} == {"boss", "wang"}
    made = _post(
        admin,
        "/admin/users/new",
        username="lisi",
        display_name="茌平区分局 李四",
        role="county_eeb",
        jurisdiction="chiping",
        password=PASSWORD,
        password_again=PASSWORD,
    )
    page = _follow(admin, made)
    assert "已创建用户 lisi。" in page.text
    assert "茌平区分局 李四" in page.text
    assert sign_in(kit.client(), "lisi").status_code == 303
    again = _post(
        admin,
        "/admin/users/new",
        username="lisi",
        display_name="李四",
        role="admin",
        password=PASSWORD,
        password_again=PASSWORD,
    )
    assert _error_at(again, "username") == "已有同名用户"


def test_disabling_ends_the_sessions_enabling_lets_in_again(admin: Any, kit: Kit) -> None:
    clerk = kit.client()
    sign_in(clerk, "wang")
    page = _follow(admin, _post(admin, "/admin/users/wang/disable"))
    assert "已停用用户 wang，其会话已结束。" in page.text
    assert "已停用" in page.text
    assert clerk.get("/").status_code == 303
    assert sign_in(clerk, "wang").status_code == 401
    page = _follow(admin, _post(admin, "/admin/users/wang/enable"))
    assert "已启用用户 wang。" in page.text
    assert sign_in(clerk, "wang").status_code == 303
    assert _post(admin, "/admin/users/nobody/disable").status_code == 404
    assert _post(admin, "/admin/users/boss/disable").status_code == 422  # not oneself


def test_a_locked_user_is_shown_locked_and_can_be_unlocked(admin: Any, kit: Kit) -> None:
    clerk = kit.client()
    for _ in range(5):
        sign_in(clerk, "wang", "Wrong-password-1")
    page = admin.get("/admin/users")
    assert "已锁定" in page.text
    assert "至 2026-01-05 09:15" in page.text
    _follow(admin, _post(admin, "/admin/users/wang/enable"))
    assert sign_in(clerk, "wang").status_code == 303


def test_setting_a_password_checks_it_and_ends_the_sessions(admin: Any, kit: Kit) -> None:
    clerk = kit.client()
    sign_in(clerk, "wang")
    form = admin.get("/admin/users/wang/password")
    assert "wang 名（wang）" in form.text
    bad = _post(admin, "/admin/users/wang/password", password="abc", password_again="abc")
    assert bad.status_code == 422
    assert "至少 10 个字符" in _error_at(bad, "password")
    done = _post(
        admin,
        "/admin/users/wang/password",
        password="New-pass-2026",
        password_again="New-pass-2026",
    )
    assert "已为用户 wang 设置新密码" in _follow(admin, done).text
    assert clerk.get("/").status_code == 303
    assert sign_in(clerk, "wang", "New-pass-2026").status_code == 303
    assert admin.get("/admin/users/nobody/password").status_code == 404


def test_a_token_is_created_its_secret_shown_once_then_revoked(admin: Any, kit: Kit) -> None:
    bad = _post(admin, "/admin/users/tokens/new", name="", role="nobody", expires="7d")
    assert bad.status_code == 422
    assert "请填写令牌名称" in _error_at(bad, "name")
    assert _error_at(bad, "role") == "请选择一个角色"
    assert _error_at(bad, "expires") == "请选择有效期"
    made = _post(
        admin,
        "/admin/users/tokens/new",
        name="市政务服务平台",
        role="approval_bureau",
        jurisdiction="liaocheng",
        expires="90d",
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'value="(qlt_[^"]+)"', made.text)
    assert secret
    assert "只显示这一次" in made.text
    assert tokens.authenticate(kit.engine, secret.group(1)).name == "市政务服务平台"
    listing = admin.get("/admin/users/tokens")
    assert secret.group(1) not in listing.text
    row = re.search(
        r"<tr>\s*<td class=\"num\">(\d+)</td>\s*<td>市政务服务平台</td>.*?</tr>", listing.text, re.S
    )
    assert row
    assert "有效" in row.group(0)
    assert "聊城市" in row.group(0)
    same = _post(
        admin, "/admin/users/tokens/new", name="市政务服务平台", role="admin", expires="never"
    )
    assert "exists already" in _error_at(same, "name")
    page = _follow(admin, _post(admin, f"/admin/users/tokens/{row.group(1)}/revoke"))
    assert "已吊销令牌 市政务服务平台。" in page.text
    assert "已吊销" in page.text
    assert _post(admin, f"/admin/users/tokens/{row.group(1)}/revoke").status_code == 422
    assert _post(admin, "/admin/users/tokens/999/revoke").status_code == 422


@pytest.mark.parametrize(
    "path",
    ["/admin/users", "/admin/users/new", "/admin/users/tokens", "/admin/users/wang/password"],
)
def test_only_administrators_see_the_pages(kit: Kit, path: str) -> None:
    kit.user("wang")
    clerk = kit.client()
    assert clerk.get(path).status_code == 303  # signed out: to the sign-in page
    sign_in(clerk, "wang")
    refused = clerk.get(path)
    assert refused.status_code == 403
    assert "只有系统管理员可以访问此页面" in refused.text
    token = csrf_of(clerk)
    disable = clerk.post("/admin/users/wang/disable", data={"csrf_token": token})
    assert disable.status_code == 403
    assert all(u.disabled_at is None for u in kit.accounts.users())


def test_the_role_choices_follow_the_reference_order(admin: Any) -> None:
    form = admin.get("/admin/users/new")
    roles = form.text[form.text.index('name="role"') : form.text.index('name="jurisdiction"')]
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', roles)
    assert options[:4] == [
        ("admin", "系统管理员"),
        ("county_gov", "县级政府/管委会"),
        ("county_eeb", "县级生态环境分局"),
        ("city_gov", "市政府"),
    ]
    assert ("system", "系统") not in options  # timers' own role is never given


def test_revoking_a_token_number_past_any_id_is_a_page_not_a_500(admin: Any) -> None:
    answer = _post(admin, "/admin/users/tokens/9223372036854775808/revoke")
    assert answer.status_code == 422
    assert "无法完成" in answer.text
