"""The security headers of every answer (``SecurityHeaders``, a pure ASGI middleware, the
outermost of ``engine.api.app``, so error answers carry them too).

Every answer: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` (answers hold case data and
tokens' views of it: no shared or browser cache keeps them). JSON answers get the API's
policy, ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``; HTML answers
(the interactive docs at ``/docs``) get a policy that allows Swagger UI's bundle from its CDN
and the page's own inline scripts by their SHA-256 only (``docs_policy``). The header lists
are built once; an answer adds none that it sets itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

__all__ = ["API_POLICY", "SecurityHeaders", "docs_policy", "inline_script_hashes"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Header = tuple[bytes, bytes]

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_COMMON: list[Header] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
_CDN = "https://cdn.jsdelivr.net"
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> list[str]:
    """The CSP source expressions (``'sha256-...'``) of the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _SCRIPT.findall(html)
    ]


def docs_policy(app: FastAPI) -> str:
    """The policy of the docs pages, with the hashes of the inline scripts FastAPI renders for
    this app (served without a ``root_path``: behind a proxy that adds one, the page's script
    changes and the policy must be rebuilt for it)."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=app.swagger_ui_parameters,
    ).body
    redirect = get_swagger_ui_oauth2_redirect_html().body
    found = [h for html in (page, redirect) for h in inline_script_hashes(bytes(html).decode())]
    scripts = " ".join(dict.fromkeys(found))
    return (
        f"default-src 'none'; script-src {_CDN} {scripts}; style-src {_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {_CDN} https://fastapi.tiangolo.com; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _headers(policy: str) -> list[Header]:
    return [*_COMMON, (b"content-security-policy", policy.encode())]


def _added(present: Iterable[Header], extra: list[Header]) -> list[Header]:
    names = {name.lower() for name, _ in present}
    return [header for header in extra if header[0] not in names]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, html_policy: str) -> None:
        self.app = app
        self._api = _headers(API_POLICY)
        self._html = _headers(html_policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                html = any(
                    name == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                headers += _added(headers, self._html if html else self._api)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)
