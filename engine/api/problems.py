"""The ONE place that turns errors into HTTP answers: RFC 9457 ``application/problem+json``.

Every error of the tree (``engine.errors``) carries its status, its problem kind and its title;
this module renders them, and FastAPI's and Starlette's own refusals (request validation,
unknown routes, methods) in the same shape. ``type`` is ``https://qingliu.dev/problems/<kind>``,
stable for clients to switch on; ``title`` is fixed per kind, ``detail`` is the sentence for
this occurrence.

Anything else that escapes a route is caught by ``Shield`` (a pure ASGI middleware) and
answered here too, as a normal response, so the client's keep-alive connection survives it: a
database that is unavailable (``engine.store.faults``) is 503 ``unavailable`` with
``Retry-After``, and anything else is a bug, 500. A 500 says nothing internal (no class name,
message, statement or path): its ``error_id`` (a UUID) is in the detail, and the server log
has the traceback under that id; a 503's id is logged too, with the database's own message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from engine.api.logs import current_request_id
from engine.errors import (
    FieldError,
    HandlerFailed,
    InvalidRequest,
    QingliuError,
    RequestError,
)
from engine.store.faults import Unavailable, unavailable

__all__ = [
    "PROBLEM_JSON",
    "FieldProblem",
    "ProblemDetails",
    "Shield",
    "engine_problem",
    "field_problems",
    "install",
    "problem_responses",
    "type_uri",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
BASE_URI = "https://qingliu.dev/problems/"


def type_uri(kind: str) -> str:
    return BASE_URI + kind


class FieldProblem(BaseModel):
    """One fault in the input: where (``in`` and a JSON path into it) and what."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    json_path: str
    message: str
    in_: str | None = Field(default=None, alias="in")
    line: int | None = None
    column: int | None = None
    path: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457 problem details with Qingliu's extension members."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    allowed_triggers: list[str] | None = None
    guards: list[str] | None = None
    existing_case_id: int | None = None
    current_version: int | None = None
    error_id: str | None = None
    request_id: str | None = None  # the X-Request-ID of the request (engine.api.observe)


def problem_response(
    status: int,
    kind: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_uri(kind),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    request_id = current_request_id()
    if request_id is not None:
        body.setdefault("request_id", request_id)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _internal(kind: str, title: str, error: BaseException, instance: str | None) -> JSONResponse:
    """A 500: logged with its traceback under a fresh error id, answered with the id only."""
    error_id = str(uuid.uuid4())
    log.error("error %s on %s: %s", error_id, instance or "-", kind, exc_info=error)
    detail = f"{title} (error id {error_id}; the server log has the details)"
    return problem_response(500, kind, title, detail, instance, error_id=error_id)


def _unavailable(error: BaseException, instance: str | None) -> JSONResponse:
    """A 503: the database's own message goes to the log under the id, never to the caller."""
    error_id = str(uuid.uuid4())
    log.warning("error %s on %s: the database is unavailable", error_id, instance, exc_info=error)
    refusal = Unavailable(
        f"the database cannot take requests now; nothing was changed: try again in "
        f"{Unavailable.retry_after} s (error id {error_id})"
    )
    return problem_response(
        refusal.status,
        refusal.kind,
        refusal.title,
        str(refusal),
        instance,
        refusal.headers(),
        error_id=error_id,
    )


def unexpected_problem(error: Exception, instance: str | None = None) -> JSONResponse:
    """The answer to an exception outside the tree: 503 if the database is unavailable, else
    a bug (500)."""
    if unavailable(error):
        return _unavailable(error, instance)
    return _internal(QingliuError.kind, QingliuError.title, error, instance)


def engine_problem(error: QingliuError, instance: str | None = None) -> JSONResponse:
    """The problem document of an error of the tree, from the attributes its class declares."""
    if isinstance(error, HandlerFailed) and unavailable(error.cause):
        return _unavailable(error, instance)  # the handler met the database's fault
    if error.status == 500:
        return _internal(error.kind, error.title, error, instance)
    return problem_response(
        error.status,
        error.kind,
        error.title,
        str(error),
        instance,
        error.headers() or None,
        **error.extensions(),
    )


# -- request validation ----------------------------------------------------------------------


def _json_path(parts: Sequence[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def field_problems(errors: Sequence[Any], prefix: Sequence[str] = ()) -> list[FieldError]:
    """Pydantic's errors as faults of the request: the first part of each location (or of
    ``prefix`` and the location) says where (``body``, ``path``, ``query`` ...)."""
    out = []
    for e in errors:
        loc = [*prefix, *e.get("loc", ())]
        where = str(loc.pop(0)) if loc else "body"
        out.append(FieldError(_json_path(loc), str(e.get("msg", "")), where))
    return out


def request_error(error: RequestValidationError) -> RequestError:
    """FastAPI's refusal of a request as an error of the tree: a body that is not JSON is
    malformed (400), anything else breaks the API schema (422, with JSON paths)."""
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(str((e.get("ctx") or {}).get("error", "")) for e in errors)
        return RequestError(f"the body is not valid JSON: {reason}")
    found = field_problems(errors)
    return InvalidRequest("; ".join(f"{e.where} {e}" for e in found), found)


# -- the last line ---------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Shield:
    """Answer whatever the app raised that no exception handler took (``unexpected_problem``)
    as a normal response, instead of Starlette's plain-text 500 followed by the server closing
    the connection. Once the answer has begun nothing can be said: the error goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            await unexpected_problem(exc, scope.get("path"))(scope, receive, send)


# -- installing ------------------------------------------------------------------------------

_HTTP_KINDS = {
    400: ("malformed-request", "The request is malformed"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Your role or jurisdiction may not do this"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods of the path this request names: every route of the first path template
    that matches it (in route order, as requests are routed), included routers' too."""
    contexts = list(iter_route_contexts(app.router.routes))
    path = request.url.path
    template = next(
        (c.path for c in contexts if c.path and compile_path(c.path)[0].match(path)), None
    )
    methods = {m for c in contexts if c.path == template for m in c.methods or ()}
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the exception handlers that make every error a problem document."""

    async def on_engine_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, QingliuError)
        return engine_problem(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return engine_problem(request_error(exc), request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind, title = _HTTP_KINDS.get(exc.status_code, ("http-error", "HTTP error"))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return problem_response(
            exc.status_code, kind, title, str(exc.detail), request.url.path, headers
        )

    app.add_exception_handler(QingliuError, on_engine_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring problem+json bodies for ``statuses``; where a
    token is checked (401), too many refused ones from an address are 429 too
    (``engine.api.auth``)."""
    if 401 in statuses and 429 not in statuses:
        statuses = (*statuses, 429)
    described = {
        400: "Malformed request (bad JSON or header)",
        401: "No token, or a bad or revoked token",
        403: "Role or jurisdiction not allowed",
        404: "Not found (or not in your jurisdiction)",
        409: "Trigger not allowed now, or a conflicting open case",
        412: "Stale version (If-Match)",
        413: "Request body or file too large",
        415: "The file is not of a type its field accepts",
        422: "Invalid input, with JSON paths",
        429: "Too many refused tokens from your address (Retry-After)",
        503: "The database cannot take requests now; nothing was changed (Retry-After)",
    }
    return {
        status: {
            "description": described.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
