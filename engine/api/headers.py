"""The security headers of every answer (``SecurityHeaders``, a pure ASGI middleware, the
outermost of ``engine.api.app``, so error answers carry them too).

Every answer: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` (answers hold case data and
tokens' views of it: no shared or browser cache keeps them). JSON answers get the API's
policy, ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``; HTML answers
(the console, engine/console) get ``HTML_POLICY``: this site's own scripts, styles and images
only. The header lists are built once; an answer adds none that it sets itself (the docs pages
set their own policy).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["API_POLICY", "HTML_POLICY", "SecurityHeaders", "inline_script_hashes"]

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
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> list[str]:
    """The CSP source expressions (``'sha256-...'``) of the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _SCRIPT.findall(html)
    ]


# HTML answers (the console, engine/console): this site's scripts, styles and images only, no
# inline script or style, forms posted to this site only. The docs pages (/docs, /redoc) set
# their own policy (engine/console/docs.py).
HTML_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def _headers(policy: str) -> list[Header]:
    return [*_COMMON, (b"content-security-policy", policy.encode())]


def _added(present: Iterable[Header], extra: list[Header]) -> list[Header]:
    names = {name.lower() for name, _ in present}
    return [header for header in extra if header[0] not in names]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, html_policy: str = HTML_POLICY) -> None:
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
