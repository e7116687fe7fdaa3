"""Users and tokens for administrators: ``/admin/users`` and ``/admin/users/tokens``.

An administrator lists the console's users, creates one (user name, name, role, jurisdiction,
password twice), disables or enables one and sets a new password; lists the API's tokens,
creates one (its secret is shown once, on the answer to the form) and revokes one. The work is
done by ``engine.console.accounts.Accounts`` and ``engine.api.tokens``, as ``qingliu user`` and
``qingliu token`` do it; this module reads the forms, checks each field so that its error shows
at the field, and answers with a page. Every form is checked against the session's form token
(``engine.console.web``); each action ends on its list with a notice (post, redirect, get).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from engine.api import tokens
from engine.api.models import MAX_ID
from engine.console.accounts import check_password, check_username
from engine.console.web import ConsoleRoute, SignedAdmin, accounts_of, engine_of, labels_of, render
from engine.definition.model import ADMIN
from engine.errors import NotFound, TokenError
from engine.runtime import Engine
from engine.store._accounts import UserRow

__all__ = ["EXPIRIES", "router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# The lifetimes a token may be given here (``engine.api.tokens.expiry`` reads them).
EXPIRIES: Mapping[str, str] = {
    "30d": "30 天",
    "90d": "90 天",
    "180d": "180 天",
    "365d": "365 天",
    "never": "永不过期",
}

# What each action's notice says; ``who`` is the user or token it was done to.
_NOTICES: Mapping[str, str] = {
    "created": "已创建用户 {who}。",
    "disabled": "已停用用户 {who}，其会话已结束。",
    "enabled": "已启用用户 {who}。",
    "password": "已为用户 {who} 设置新密码，其会话已结束。",
    "revoked": "已吊销令牌 {who}。",
}

Text = Annotated[str, Form(max_length=200)]


def _notice(request: Request) -> str | None:
    kind = request.query_params.get("notice", "")
    if kind not in _NOTICES:
        return None
    return _NOTICES[kind].format(who=request.query_params.get("who", "")[:200])


def _done(path: str, notice: str, who: str) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice, 'who': who})}", 303)


def _roles(request: Request) -> list[tuple[str, str]]:
    """The roles a user or token may be given, with their titles: the administrator, then in
    the order of config/reference/roles.yaml (county, city, province ... as it lists them),
    then roles only a workflow declares."""
    labels = labels_of(request)
    listed = {code: n for n, code in enumerate(labels.roles.titles)}
    codes = tokens.known_roles(engine_of(request))
    ordered = sorted(codes, key=lambda c: (c != ADMIN, listed.get(c, len(listed)), c))
    return [(code, labels.role(code)) for code in ordered]


def _grant_errors(engine: Engine, role: str, jurisdiction: str | None) -> dict[str, str]:
    """Errors of the role and jurisdiction fields, in Chinese, at their fields."""
    errors: dict[str, str] = {}
    if role not in tokens.known_roles(engine):
        errors["role"] = "请选择一个角色"
    elif jurisdiction is None and engine.roles.needs_jurisdiction(role):
        errors["jurisdiction"] = "此角色只在一个辖区内办理，请选择辖区"
    if jurisdiction is not None and not engine.scope.knows(jurisdiction):
        errors["jurisdiction"] = "未知辖区"
    return errors


def _password_errors(password: str, again: str) -> dict[str, str]:
    try:
        check_password(password)
    except TokenError:
        return {"password": "密码至少 10 个字符，须含字母和数字"}
    if password != again:
        return {"password_again": "两次输入的密码不一致"}
    return {}


# -- users ------------------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request, signed: SignedAdmin) -> Response:
    accounts = accounts_of(request)
    rows = [(user, _status(accounts.locked(user), user)) for user in accounts.users()]
    return render(request, "admin_users/users.html", {"rows": rows, "notice": _notice(request)})


def _status(locked: bool, user: UserRow) -> tuple[str, str]:
    """The user's status: a badge colour and its words."""
    if user.disabled_at is not None:
        return "grey", "已停用"
    if locked:
        return "red", "已锁定"
    return "green", "正常"


def _user_form(
    request: Request,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    context = {
        "roles": _roles(request),
        "jurisdictions": labels_of(request).jurisdictions,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "admin_users/new_user.html", context, status=422 if errors else 200)


@router.get("/admin/users/new")
def new_user_form(request: Request, signed: SignedAdmin) -> Response:
    return _user_form(request)


@router.post("/admin/users/new")
def create_user(
    request: Request,
    signed: SignedAdmin,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Text = "",
    role: Text = "",
    jurisdiction: Text = "",
    password: Text = "",
    password_again: Text = "",
) -> Response:
    username = username.strip()
    values = {
        "username": username,
        "display_name": display_name.strip(),
        "role": role,
        "jurisdiction": jurisdiction,
    }
    errors: dict[str, str] = {}
    try:
        check_username(username)
    except TokenError:
        errors["username"] = "用户名须为 2 至 64 个小写字母、数字、“.”“_”或“-”，以字母或数字开头"
    if not display_name.strip():
        errors["display_name"] = "请填写姓名"
    engine = engine_of(request)
    errors |= _grant_errors(engine, role, jurisdiction or None)
    errors |= _password_errors(password, password_again)
    accounts = accounts_of(request)
    if not errors and any(u.username == username for u in accounts.users()):
        errors["username"] = "已有同名用户"
    if errors:
        return _user_form(request, values, errors)
    try:
        accounts.create_user(
            username, password, role, jurisdiction or None, display_name.strip() or None
        )
    except TokenError as error:  # e.g. created meanwhile by another administrator
        return _user_form(request, values, {"username": str(error)})
    return _done("/admin/users", "created", username)


def _user(request: Request, username: str) -> UserRow:
    for user in accounts_of(request).users():
        if user.username == username:
            return user
    raise NotFound(f"没有名为 {username!r} 的用户 (no such user)")


@router.post("/admin/users/{username}/disable")
def disable_user(request: Request, signed: SignedAdmin, username: str) -> Response:
    user = _user(request, username)
    if user.id == signed.user.id:
        raise TokenError("不能停用自己的账号 (an administrator cannot disable themselves)")
    accounts_of(request).disable(username)
    return _done("/admin/users", "disabled", username)


@router.post("/admin/users/{username}/enable")
def enable_user(request: Request, signed: SignedAdmin, username: str) -> Response:
    _user(request, username)
    accounts_of(request).enable(username)
    return _done("/admin/users", "enabled", username)


def _password_form(
    request: Request, user: UserRow, errors: Mapping[str, str] | None = None
) -> Response:
    context = {"user": user, "errors": errors or {}}
    return render(request, "admin_users/password.html", context, status=422 if errors else 200)


@router.get("/admin/users/{username}/password")
def password_form(request: Request, signed: SignedAdmin, username: str) -> Response:
    return _password_form(request, _user(request, username))


@router.post("/admin/users/{username}/password")
def set_password(
    request: Request,
    signed: SignedAdmin,
    username: str,
    password: Text = "",
    password_again: Text = "",
) -> Response:
    user = _user(request, username)
    errors = _password_errors(password, password_again)
    if errors:
        return _password_form(request, user, errors)
    accounts_of(request).set_password(username, password)
    return _done("/admin/users", "password", username)


# -- tokens -----------------------------------------------------------------------------------


@router.get("/admin/users/tokens")
def tokens_page(request: Request, signed: SignedAdmin) -> Response:
    engine = engine_of(request)
    now = engine.clock.now()
    rows = []
    for token in tokens.list_tokens(engine):
        if token.revoked_at is not None:
            status = ("grey", "已吊销")
        elif tokens.is_expired(token, now):
            status = ("red", "已过期")
        else:
            status = ("green", "有效")
        rows.append((token, status))
    context = {"rows": rows, "notice": _notice(request)}
    return render(request, "admin_users/tokens.html", context)


def _token_form(
    request: Request,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    context = {
        "roles": _roles(request),
        "jurisdictions": labels_of(request).jurisdictions,
        "expiries": EXPIRIES,
        "values": values or {"expires": tokens.DEFAULT_EXPIRES},
        "errors": errors or {},
    }
    return render(request, "admin_users/new_token.html", context, status=422 if errors else 200)


@router.get("/admin/users/tokens/new")
def new_token_form(request: Request, signed: SignedAdmin) -> Response:
    return _token_form(request)


@router.post("/admin/users/tokens/new")
def create_token(
    request: Request,
    signed: SignedAdmin,
    name: Text = "",
    role: Text = "",
    jurisdiction: Text = "",
    expires: Annotated[str, Form(max_length=16)] = tokens.DEFAULT_EXPIRES,
) -> Response:
    name = name.strip()
    values = {"name": name, "role": role, "jurisdiction": jurisdiction, "expires": expires}
    engine = engine_of(request)
    errors = _grant_errors(engine, role, jurisdiction or None)
    if not name:
        errors["name"] = "请填写令牌名称（调用方系统的名称，记入办理记录）"
    if expires not in EXPIRIES:
        errors["expires"] = "请选择有效期"
    if errors:
        return _token_form(request, values, errors)
    try:
        token, secret = tokens.create_token(
            engine, name, role, jurisdiction or None, expires=expires
        )
    except TokenError as error:  # a name in use, or one the token rules refuse
        return _token_form(request, values, {"name": str(error)})
    page = render(request, "admin_users/token_made.html", {"token": token, "secret": secret})
    page.headers["Cache-Control"] = "no-store"  # the secret is in this page, and only here
    return page


@router.post("/admin/users/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, signed: SignedAdmin, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    token = tokens.revoke_token(engine_of(request), token_id)  # TokenError: a page with why
    return _done("/admin/users/tokens", "revoked", token.name)
