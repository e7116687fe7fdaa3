"""The sign-in rules (engine/console/accounts.py, signin.py, web.py), with the wall clock
moved by the test: lock-out, time-outs, sessions ended by disabling or a new password, the
form tokens (CSRF), the cookie's flags, redirects only to this site, the per-address throttle,
the password policy, and no password or cookie secret kept in clear."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, select

from engine.api.tokens import create_token
from engine.console.accounts import IDLE_MINUTES, LOCK_MINUTES, MAX_FAILURES, check_password
from engine.console.signin import _next
from engine.console.web import COOKIE
from engine.errors import TokenError
from tests.console import accounts_kit
from tests.console.accounts_kit import PASSWORD, Kit, csrf_of, sign_in

kit = accounts_kit.kit


def _home(client: object) -> int:
    return client.get("/").status_code  # type: ignore[attr-defined,no-any-return]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    for _ in range(MAX_FAILURES):
        assert sign_in(client, "wang", "Wrong-password-1").status_code == 401
    refused = sign_in(client, "wang")  # the right password, while locked
    assert refused.status_code == 401
    assert "用户名或密码错误，或账号已锁定" in refused.text
    assert COOKIE not in refused.cookies
    kit.wall.advance(timedelta(minutes=LOCK_MINUTES - 1))
    assert sign_in(client, "wang").status_code == 401
    kit.wall.advance(timedelta(minutes=1, seconds=1))
    assert sign_in(client, "wang").status_code == 303
    assert _home(client) == 200


def test_a_success_resets_the_count_of_failures(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, "wang", "Wrong-password-1")
    assert sign_in(client, "wang").status_code == 303
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, "wang", "Wrong-password-1")
    assert sign_in(client, "wang").status_code == 303


def test_a_session_unused_for_31_minutes_is_gone(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    sign_in(client, "wang")
    assert _home(client) == 200
    kit.wall.advance(timedelta(minutes=IDLE_MINUTES + 1))
    answer = client.get("/admin/users")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/admin/users"
    kit.wall.advance(timedelta(minutes=-IDLE_MINUTES))  # even back in time: it was deleted
    assert _home(client) == 303


def test_a_form_sent_after_the_session_ended_asks_to_sign_in_again(kit: Kit) -> None:
    kit.user("boss", "admin")
    kit.user("wang")
    client = kit.client()
    sign_in(client, "boss")
    token = csrf_of(client)
    kit.wall.advance(timedelta(minutes=IDLE_MINUTES + 1))
    answer = client.post("/admin/users/wang/disable", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"  # not next= a path that only takes POST
    assert all(u.disabled_at is None for u in kit.accounts.users())


def test_a_session_used_every_20_minutes_lives_until_12_hours(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    sign_in(client, "wang")
    for _ in range(35):  # 11 h 40 min
        kit.wall.advance(timedelta(minutes=20))
        assert _home(client) == 200
    kit.wall.advance(timedelta(minutes=20))  # 12 h after signing in
    assert _home(client) == 303


def test_disabling_a_user_ends_its_sessions_and_refuses_it(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    sign_in(client, "wang")
    kit.accounts.disable("wang")
    assert _home(client) == 303
    assert sign_in(client, "wang").status_code == 401
    kit.accounts.enable("wang")
    assert sign_in(client, "wang").status_code == 303


def test_a_new_password_ends_the_sessions_and_the_old_password(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    sign_in(client, "wang")
    kit.accounts.set_password("wang", "Another-pass-42")
    assert _home(client) == 303
    assert sign_in(client, "wang").status_code == 401
    assert sign_in(client, "wang", "Another-pass-42").status_code == 303


def test_a_post_without_or_with_a_wrong_form_token_is_refused_and_changes_nothing(
    kit: Kit,
) -> None:
    kit.user("admin1", "admin")
    kit.user("wang")
    client = kit.client()
    sign_in(client, "admin1")
    token = csrf_of(client)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}, {"csrf_token": "令牌"}):
        refused = client.post("/admin/users/wang/disable", data=data)
        assert refused.status_code == 403
        assert "表单已过期或来源不明" in refused.text
        assert '<html lang="zh-CN">' in refused.text
        refused = client.post("/logout", data=data)
        assert refused.status_code == 403
    assert all(u.disabled_at is None for u in kit.accounts.users())
    assert _home(client) == 200  # not signed out either
    wrong_header = client.post("/logout", headers={"X-CSRF-Token": "forged"})
    assert wrong_header.status_code == 403
    # htmx sends the token as a header: that is accepted as the hidden field is
    assert client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 303
    assert _home(client) == 303


def test_the_sign_in_form_carries_its_own_token(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    data = {"username": "wang", "password": PASSWORD, "login_token": "made-up", "next": "/"}
    answer = client.post("/login", data=data)  # no token cookie: a forged form
    assert answer.status_code == 403
    assert "页面已过期" in answer.text
    assert COOKIE not in answer.cookies
    client.get("/login")  # the cookie, but not the token of the page
    assert client.post("/login", data=data).status_code == 403
    not_ascii = {**data, "login_token": "令牌"}  # compared as bytes: a refusal, not a 500
    assert client.post("/login", data=not_ascii).status_code == 403
    assert sign_in(client, "wang").status_code == 303


def _set_cookie(answer: object, name: str) -> str:
    headers = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(name + "=")]
    assert len(found) == 1, headers
    return str(found[0]).lower()


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(kit: Kit) -> None:
    kit.user("wang")
    plain = _set_cookie(sign_in(kit.client(), "wang"), COOKIE)
    assert "httponly" in plain
    assert "samesite=lax" in plain
    assert "path=/" in plain
    assert "secure" not in plain
    secure = kit.client("https://console.example")
    over_tls = _set_cookie(sign_in(secure, "wang"), COOKIE)
    assert "httponly" in over_tls
    assert "samesite=lax" in over_tls
    assert "secure" in over_tls
    assert "secure" in _set_cookie(secure.get("/login"), "qingliu_login")
    assert secure.get("/").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/inbox", "/\\evil.example", "https://evil.example/", "x"],
)
def test_the_sign_in_never_redirects_to_another_site(kit: Kit, target: str) -> None:
    kit.user("wang")
    client = kit.client()
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text
    answer = sign_in(client, "wang", next=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_the_sign_in_returns_to_the_page_asked_for() -> None:
    assert _next("/inbox?page=2") == "/inbox?page=2"
    assert _next(None) == "/"


def test_an_address_with_ten_refusals_in_a_minute_is_throttled(kit: Kit) -> None:
    kit.user("wang")
    client = kit.client()
    for n in range(10):  # names no one has: no account is locked by this
        assert sign_in(client, f"nobody{n}").status_code == 401
    throttled = sign_in(client, "wang")
    assert throttled.status_code == 429
    assert "尝试次数过多" in throttled.text
    assert COOKIE not in throttled.cookies


@pytest.mark.parametrize("password", ["Short1", "onlyletters-here", "1234567890123", "ａｂｃ"])
def test_the_password_policy_refuses_weak_passwords(kit: Kit, password: str) -> None:
    with pytest.raises(TokenError, match="至少 10 个字符"):
        check_password(password)
    with pytest.raises(TokenError):
        kit.accounts.create_user("wang", password, "county_eeb", "dongchangfu")
    assert kit.accounts.users() == []


def test_a_good_password_and_user_name_are_accepted(kit: Kit) -> None:
    check_password("letters-and-1-digit")
    with pytest.raises(TokenError, match="用户名"):
        kit.accounts.create_user("Wang Wu", PASSWORD, "county_eeb", "dongchangfu")
    kit.user("wang")
    with pytest.raises(TokenError, match="exists already"):
        kit.user("wang")


def test_no_password_or_session_secret_is_kept_or_logged_in_clear(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kit.user("wang")
    client = kit.client()
    answer = sign_in(client, "wang")
    secret = answer.cookies[COOKIE]
    client.get("/")
    kit.accounts.set_password("wang", "Another-pass-42")
    sign_in(client, "wang", "Another-pass-42")
    second = client.cookies[COOKIE]
    metadata = MetaData()
    with kit.engine.store.read() as tx:
        metadata.reflect(tx.conn)
        dump = "\n".join(
            repr(row) for table in metadata.sorted_tables for row in tx.conn.execute(select(table))
        )
    for clear in (PASSWORD, "Another-pass-42", secret, second):
        assert clear not in dump
        assert clear not in caplog.text
    assert hashlib.sha256(second.encode()).hexdigest() in dump  # only the digest
    assert all(u.password_hash.startswith("$argon2id$") for u in kit.accounts.users())


def test_a_user_and_a_token_never_share_a_name(kit: Kit) -> None:
    """The history records an actor by name: one name is one actor."""
    create_token(kit.engine, "wang.xf", "county_eeb", "dongchangfu")
    with pytest.raises(TokenError, match="API 令牌"):
        kit.accounts.create_user("wang.xf", PASSWORD, "county_eeb", "dongchangfu")
    kit.accounts.create_user("li.ming", PASSWORD, "county_eeb", "dongchangfu")
    with pytest.raises(TokenError, match="console user"):
        create_token(kit.engine, "li.ming", "county_eeb", "dongchangfu")
    assert [u.username for u in kit.accounts.users()] == ["li.ming"]
