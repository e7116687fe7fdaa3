"""The console's request plumbing: who is signed in, the form token, templates and errors.

Every console route is a ``ConsoleRoute``: a ``QingliuError`` raised while answering becomes a
page in Chinese with the error's status (``Unauthorized``: a redirect to the sign-in page), not
a problem document. Pages get the signed-in user with the ``Signed`` dependency (it redirects to
``/login`` when there is none); every request that changes something is checked against the
session's form token (``csrf``: a hidden ``csrf_token`` field, or the ``X-CSRF-Token`` header
that htmx sends), so another site cannot submit a form in the user's name.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, MutableMapping, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from engine.api.problems import request_error
from engine.console.accounts import Accounts, SignedIn
from engine.console.labels import Labels
from engine.errors import Forbidden, PayloadTooLarge, QingliuError, Unauthorized
from engine.runtime import Engine

__all__ = [
    "COOKIE",
    "ConsoleRoute",
    "Signed",
    "SignedAdmin",
    "accounts_of",
    "csrf",
    "render",
    "templates_for",
]

COOKIE = "qingliu_session"
_CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class _SignInFirst(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""


def templates_for(dirs: Sequence[str | Path] = ()) -> Jinja2Templates:
    """The console's templates: the domain's folders first, then the engine's own."""
    loaders: list[Any] = [FileSystemLoader([str(d) for d in dirs])] if dirs else []
    loaders.append(PackageLoader("engine.console", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(("html", "xml", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def accounts_of(request: Request) -> Accounts:
    found: Accounts = request.app.state.accounts
    return found


def engine_of(request: Request) -> Engine:
    found: Engine = request.app.state.engine
    return found


def labels_of(request: Request) -> Labels:
    found: Labels = request.app.state.labels
    return found


async def _signed(request: Request) -> SignedIn:
    secret = request.cookies.get(COOKIE)
    signed = accounts_of(request).session(secret) if secret else None
    if signed is None:
        raise _SignInFirst
    request.state.signed = signed
    if request.method not in _SAFE:
        csrf(request, await _form_token(request))
    return signed


async def _form_token(request: Request) -> str | None:
    header = request.headers.get(_CSRF_HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def csrf(request: Request, given: str | None) -> None:
    """``Forbidden`` unless ``given`` is the signed-in session's form token."""
    signed: SignedIn = request.state.signed
    if not given or not hmac.compare_digest(given.encode(), signed.csrf_token.encode()):
        raise Forbidden(
            "表单已过期或来源不明，请刷新页面后重试 (missing or wrong form token)",
            role=signed.user.role,
        )


async def _admin(signed: Annotated[SignedIn, Depends(_signed)]) -> SignedIn:
    if signed.user.role != "admin":
        raise Forbidden("只有系统管理员可以访问此页面 (admin only)", role=signed.user.role)
    return signed


Signed = Annotated[SignedIn, Depends(_signed)]
SignedAdmin = Annotated[SignedIn, Depends(_admin)]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page: ``template`` with ``context``, the signed-in user, its form token, the
    reference names (``labels``) and the menu."""
    signed: SignedIn | None = getattr(request.state, "signed", None)
    values: dict[str, Any] = {
        "request": request,
        "signed": signed,
        "csrf_token": signed.csrf_token if signed else "",
        "labels": labels_of(request),
        "menu": request.app.state.console_menu(signed) if signed else [],
        **(context or {}),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, values, status_code=status)


def _error_page(request: Request, error: QingliuError) -> Response:
    if isinstance(error, Unauthorized):
        return _to_sign_in(request)
    return render(
        request, "error.html", {"error": error, "status": error.status}, status=error.status
    )


_TOO_LARGE = "提交的内容过大（所附文件合计超过本页面的上限），未办理。请减少或压缩照片后重新提交。"


def refused_page(scope: MutableMapping[str, Any], error: QingliuError) -> Response | None:
    """What ``engine.api.limits.BodyLimits`` answers a console page it refuses before any
    route runs (a form over its body ceiling): the error page in Chinese, with its status;
    None for the API (``/api/``: problem+json) or an app without the console."""
    request = Request(scope)
    if request.url.path.startswith("/api/") or not hasattr(request.app.state, "templates"):
        return None
    if not isinstance(error, PayloadTooLarge):  # uploads busy: the limits' own page, Retry-After
        return None
    context = {"error": _TOO_LARGE, "status": error.status}
    return render(request, "error.html", context, status=error.status)


def _to_sign_in(request: Request) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    if request.method not in _SAFE:  # a form sent after the session ended: back to the start
        return RedirectResponse("/login", status_code=303)  # page, not to a GET of its action
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


class ConsoleRoute(APIRoute):
    """A console page: errors of the tree become pages, no session a redirect to sign in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except _SignInFirst:
                return _to_sign_in(request)
            except QingliuError as error:
                return _error_page(request, error)
            except RequestValidationError as error:  # e.g. /cases/abc: a page, not JSON
                return _error_page(request, request_error(error))

        return answer
