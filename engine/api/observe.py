"""One pure ASGI middleware that observes every HTTP request (the outermost of
``engine.api.app``): its request id, its log fields and its metrics.

* The request id is the client's ``X-Request-ID`` when it is sane (1-128 characters of
  ``A-Z a-z 0-9 - _ . : @ + = /``), else a new one (32 hex digits); it is echoed in the answer's
  ``X-Request-ID`` header, put on every log line made while answering (``engine.api.logs``) and
  in problem documents as ``request_id`` (``engine.api.problems``).
* When the answer starts, the request is counted in ``qingliu_http_requests_total`` and its
  latency observed in ``qingliu_http_request_duration_seconds`` (``engine.metrics``), by the
  *template* of the route that answered (``/api/v1/cases/{case_id}``, never the raw path with a
  case id, an outfall code or a receipt), ``unmatched`` for a path no route has.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from engine.api.logs import REQUEST, RequestInfo
from engine.metrics import instruments

__all__ = ["UNMATCHED", "Observe", "route_template"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "unmatched"
# Label values of the method: these, else "other" (a client may send any token as a method).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9\-_.:@+=/]{1,128}")
# A new request id: 16 random hex digits of this process, then its requests' serial number
# (unique across the server's processes and restarts, and much cheaper than a UUID each).
_PROCESS = os.urandom(8).hex()
_SERIAL = itertools.count(1)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            if _SANE.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return f"{_PROCESS}{next(_SERIAL):016x}"


def _plain_routes(routes: Iterable[Any]) -> dict[Any, str]:
    """The templates of the app's routes that are not FastAPI's, by endpoint: Starlette
    routes (the transition route, the probes) and mounts (static files: the mount, not the
    file). FastAPI names its own routes in the scope; for these it leaves only the endpoint."""
    found: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            found[route.app] = f"{route.path}/{{path}}"
        elif isinstance(route, Route):
            found[route.endpoint] = route.path
    return found


def route_template(scope: Scope, plain: Mapping[Any, str]) -> str:
    """The path template of the route that answered (after routing), ``unmatched`` if none."""
    route = scope.get("route")
    if isinstance(route, APIRoute):
        return route.path
    path = getattr(route, "path", None)  # the console's routes
    if isinstance(path, str) and not isinstance(route, Mount):
        return path
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED
    try:
        return plain.get(endpoint, UNMATCHED)
    except TypeError:  # an endpoint that cannot be a key
        return UNMATCHED


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._plain: dict[Any, str] | None = None  # made at the first request: routes are set

    def _templates(self, scope: Scope) -> Mapping[Any, str]:
        if self._plain is None:
            router = getattr(scope.get("app"), "router", None)
            self._plain = _plain_routes(getattr(router, "routes", ()))
        return self._plain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        info = RequestInfo(_request_id(scope), method if method in METHODS else "other")
        header = (HEADER, info.request_id.encode("ascii"))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - info.started
                info.route = route_template(scope, self._templates(scope))
                info.status = int(message["status"])
                info.duration_ms = round(elapsed * 1000, 3)
                message["headers"] = [*message.get("headers", ()), header]
                instruments().request(info.route, info.method, info.status, elapsed)
            await send(message)

        token = REQUEST.set(info)
        try:
            await self.app(scope, receive, sending)
        finally:
            REQUEST.reset(token)
