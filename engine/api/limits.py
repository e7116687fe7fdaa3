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

The body is read here, whole, before the route runs (it is at most the limit) and handed on
as one message. A request's body is usually one chunk; the common case costs a join and two
``bytes.count`` calls (``too_deep``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.responses import Response

from engine.api.problems import engine_problem
from engine.errors import FieldError, PayloadTooLarge, QingliuError, RequestError

__all__ = ["MAX_JSON_DEPTH", "BodyLimits", "body_size", "too_deep"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

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
        page: Callable[[Scope, QingliuError], Response | None] | None = None,
    ) -> None:
        self.app = app
        self.page = page  # a refusal as a page (the console's), else problem+json
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.ceilings = list(ceilings)

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
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, self._too_large(limit))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if content_type is not None and _is_json(content_type) and too_deep(body, self.max_depth):
            problem = f"nested more than {self.max_depth} levels deep"
            error = RequestError(f"the JSON body is {problem}", [FieldError("$", problem)])
            await self._refuse(scope, receive, send, error)
            return
        scope[_SIZE] = size
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: QingliuError
    ) -> None:
        page = self.page(scope, error) if self.page is not None else None
        response = page if page is not None else engine_problem(error, scope.get("path"))
        if isinstance(error, PayloadTooLarge):  # the rest of the body is not read
            response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read, in one message, then the client's own
    messages (a disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
