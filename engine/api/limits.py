"""What every request's body meets before any route sees it: a size limit and, for JSON, a
nesting-depth limit (``BodyLimits``, a pure ASGI middleware mounted by ``engine.api.app``).

- **Size**: a ``Content-Length`` over the limit is answered 413 at once, without reading a
  byte of the body; a body sent without one (chunked) is counted as it arrives and answered
  413 as soon as it passes the limit. The limit is ``max_body_bytes`` in
  ``config/settings.yaml`` (default 1 MiB), for JSON and YAML bodies alike. A route may have
  its own ceiling (``ceilings``: a path pattern and its limit, for a ``multipart/form-data``
  ``POST`` only): the upload routes and the console's forms take files up to the largest
  ``max_bytes`` a definition may give (``engine.api.routes_attachments``); every other route
  keeps ``max_body_bytes``.
- **Refusals** are problem+json, or what ``page`` answers for the request (the console's
  error page, for a path outside ``/api/``).
- **Depth**: a JSON body nested more than ``MAX_JSON_DEPTH`` levels is 400: nothing deeper
  reaches the parser, the schemas or the engine, so no RecursionError can come of it.

The body is read here, whole, before the route runs (it is at most the limit), and handed on
(``engine.api.spool``): a small one from memory as one message (usually the one chunk it came
in, the common case costs two ``bytes.count`` calls of ``too_deep``); one past ``SPOOL_AT``
(1 MiB: an upload) from a temporary file in chunks, never joined, and at most ``MAX_LARGE``
(4) such bodies at once per process; the next one is 503 with ``Retry-After`` (``UploadsBusy``:
a problem document, or a short page in Chinese when the client asks for HTML).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.responses import HTMLResponse, Response

from engine.api.problems import engine_problem
from engine.api.spool import Body, Gate, UploadsBusy
from engine.errors import FieldError, PayloadTooLarge, QingliuError, RequestError

__all__ = ["MAX_JSON_DEPTH", "BodyCheck", "BodyLimits", "body_size", "too_deep"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# A route's check before its body is read: a response to answer instead, or None to read on.
BodyCheck = Callable[[Scope], Awaitable[Response | None]]

MAX_JSON_DEPTH = 64
_SIZE = "qingliu.body_bytes"  # the scope key where the body's size is left for the routes

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` deep.

    Linear, and in C but for one loop of at most ``limit`` turns: escapes, then strings are
    cut out, the brackets left become ``(`` and ``)``, and each ``replace("()", "")`` takes
    one level off; what is still reducible after ``limit`` turns is deeper. Text that is not
    JSON (unbalanced brackets) is not called deep: the parser says what is wrong with it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    shape = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        reduced = shape.replace(b"()", b"")
        if len(reduced) == len(shape):
            return False
        shape = reduced
    return b"()" in shape


def _is_json(content_type: bytes) -> bool:
    media = content_type.partition(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def body_size(scope: Scope) -> int:
    """The size of the request's body in bytes, as ``BodyLimits`` read it (0 without one)."""
    size: int = scope.get(_SIZE, 0)
    return size


class BodyLimits:
    """Refuse a body over ``max_bytes`` (413) or a JSON body nested deeper than
    ``max_depth`` (400), before the app runs."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_depth: int = MAX_JSON_DEPTH,
        ceilings: Sequence[tuple[re.Pattern[str], int]] = (),
        checks: Sequence[tuple[re.Pattern[str], BodyCheck]] = (),
        page: Callable[[Scope, QingliuError], Response | None] | None = None,
    ) -> None:
        self.app = app
        self.page = page  # a refusal as a page (the console's), else problem+json
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.ceilings = list(ceilings)
        self.checks = list(checks)
        self.gate = Gate()  # the large bodies in flight at once (engine.api.spool)

    def limit(self, scope: Scope, content_type: bytes | None) -> int:
        """The body limit of this request: a ceiling whose pattern matches the whole path of a
        multipart POST (a form with files), else ``max_bytes``."""
        multipart = content_type is not None and content_type.lower().startswith(b"multipart/")
        if scope.get("method") == "POST" and multipart:
            path = scope.get("path", "")
            for pattern, ceiling in self.ceilings:
                if pattern.fullmatch(path):
                    return ceiling
        return self.max_bytes

    @staticmethod
    def _too_large(limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the request body is larger than {limit} bytes, the limit of this server"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_type = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
        limit = self.limit(scope, content_type) if self.ceilings else self.max_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, self._too_large(limit))
            return
        for pattern, check in self.checks:
            if scope.get("method") == "POST" and pattern.fullmatch(scope.get("path", "")):
                refusal = await check(scope)
                if refusal is not None:  # answered without reading the body
                    refusal.headers["Connection"] = "close"
                    await refusal(scope, receive, send)
                    return
        is_json = content_type is not None and _is_json(content_type)
        body = Body(self.gate, spool=not is_json)
        try:
            await self._pass(scope, receive, send, body, limit, is_json)
        finally:
            body.close()

    async def _pass(
        self, scope: Scope, receive: Receive, send: Send, body: Body, limit: int, is_json: bool
    ) -> None:
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            chunk = message.get("body", b"")
            if body.size + len(chunk) > limit:
                await self._refuse(scope, receive, send, self._too_large(limit))
                return
            try:
                await body.add(chunk)
            except UploadsBusy as busy:
                await self._refuse(scope, receive, send, busy)
                return
            more = message.get("more_body", False)
        if is_json and too_deep(body.in_memory(), self.max_depth):
            problem = f"nested more than {self.max_depth} levels deep"
            error = RequestError(f"the JSON body is {problem}", [FieldError("$", problem)])
            await self._refuse(scope, receive, send, error)
            return
        scope[_SIZE] = body.size
        await self.app(scope, body.receive(receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: QingliuError
    ) -> None:
        page = self.page(scope, error) if self.page is not None else None
        response = page if page is not None else engine_problem(error, scope.get("path"))
        if page is None and isinstance(error, UploadsBusy) and _wants_html(scope):
            response = HTMLResponse(_BUSY_PAGE, status_code=error.status, headers=error.headers())
        if isinstance(error, PayloadTooLarge | UploadsBusy):  # the rest of the body is not read
            response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _wants_html(scope: Scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return b"text/html" in accept


_BUSY_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>请稍后重新提交</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>请稍后重新提交</h1>
<p>服务器正在接收其他上传的照片或附件，请过几秒钟后返回上一页重新提交。</p></main></body></html>
"""
