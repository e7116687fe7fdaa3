"""Signing in and out: ``/login``, ``/logout``, and ``/``, the signed-in user's start page.

The sign-in form carries its own form token (a cookie and a hidden field that must match:
there is no session yet to hold one). A refused password counts against the account
(``engine.console.accounts``: lock-out) and against the address, as refused tokens do
(``engine.api.auth.failures``).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.api.auth import TooManyRequests, client_address, failures
from engine.console.accounts import IDLE_MINUTES, MAX_HOURS
from engine.console.web import COOKIE, ConsoleRoute, Signed, accounts_of, render
from engine.errors import Unauthorized

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_LOGIN_CSRF = "qingliu_login"


def _secure(request: Request) -> bool:
    """Cookies are ``Secure`` when the console is reached over TLS (directly, or through a
    proxy that uvicorn's ``--forwarded-allow-ips`` trusts)."""
    return request.url.scheme == "https"


def _next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    page = render(
        request,
        "login.html",
        {"login_token": token, "next": _next(request.query_params.get("next")), "error": error},
        status=status,
    )
    page.set_cookie(
        _LOGIN_CSRF, token, httponly=True, samesite="strict", secure=_secure(request), path="/login"
    )
    return page


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    login_token: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(_LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_token.encode()):
        return _login_page(request, "页面已过期，请重新登录", status=403)
    address = client_address(request)
    key = ("console:" + request.app.state.engine.store.url, address)
    try:
        failures.check(key)
        signed = await run_in_threadpool(
            accounts_of(request).sign_in, username.strip(), password, address
        )
    except TooManyRequests as error:
        return _login_page(request, f"尝试次数过多，请 {error.retry_after} 秒后再试", status=429)
    except Unauthorized:
        failures.failed(key)
        return _login_page(request, "用户名或密码错误，或账号已锁定", status=401)
    assert signed.secret is not None
    answer = RedirectResponse(_next(next), status_code=303)
    answer.set_cookie(
        COOKIE,
        signed.secret,
        max_age=MAX_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    answer.delete_cookie(_LOGIN_CSRF, path="/login")
    return answer


@router.post("/logout")
def logout(request: Request, signed: Signed) -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        accounts_of(request).sign_out(secret)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/")
    return answer


@router.get("/")
def home(request: Request, signed: Signed) -> Response:
    return render(request, "home.html", {"idle_minutes": IDLE_MINUTES})
