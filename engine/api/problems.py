"""The ONE place that turns errors into HTTP answers: RFC 9457 ``application/problem+json``.

Every error kind has a stable ``type`` URI (``https://qingliu.dev/problems/<kind>``) that clients
may switch on; ``title`` is fixed per kind, ``detail`` is the sentence for this occurrence.

    engine error                 status  type
    DefinitionError               422    invalid-definition   (errors: line, column, path)
    InvalidInput                  422    invalid-input        (errors: json_path, message)
    WorkflowNotFound              404    workflow-not-found
    CaseNotFound                  404    case-not-found
    Forbidden                     403    forbidden
    GuardFailed                   409    guard-failed         (allowed_triggers, guards)
    TriggerNotAllowed             409    trigger-not-allowed  (allowed_triggers)
    StaleVersion                  412    stale-version        (current_version)
    DuplicateOpenCase             409    duplicate-open-case  (existing_case_id)
    HandlerFailed                 500    handler-failed
    request validation (FastAPI)  422    invalid-request      (errors: in, json_path, message)
    malformed JSON / header       400    malformed-request
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from engine.errors import (
    CaseNotFound,
    ConfigError,
    Conflict,
    DefinitionError,
    DuplicateOpenCase,
    FieldError,
    Forbidden,
    GuardFailed,
    HandlerFailed,
    InvalidInput,
    NotFound,
    Problem,
    QingliuError,
    StaleVersion,
    TriggerNotAllowed,
    WorkflowNotFound,
)

__all__ = [
    "PROBLEM_JSON",
    "ApiProblem",
    "FieldProblem",
    "ProblemDetails",
    "api_problem",
    "definition_errors",
    "engine_problem",
    "install",
    "problem_responses",
    "type_uri",
]

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


class ApiProblem(Exception):
    """An HTTP-level problem raised by the API layer itself (auth, headers, idempotency)."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: Any) -> None:
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.extra = extra
        super().__init__(detail)


# -- engine errors ---------------------------------------------------------------------------

# Most specific first: (error class, status, kind, title).
_KINDS: list[tuple[type[QingliuError], int, str, str]] = [
    (DefinitionError, 422, "invalid-definition", "The definition is not valid"),
    (InvalidInput, 422, "invalid-input", "The data or payload break their schema"),
    (WorkflowNotFound, 404, "workflow-not-found", "No such workflow"),
    (CaseNotFound, 404, "case-not-found", "No such case"),
    (NotFound, 404, "not-found", "Not found"),
    (Forbidden, 403, "forbidden", "Your role or jurisdiction may not do this"),
    (GuardFailed, 409, "guard-failed", "The trigger's conditions do not hold now"),
    (TriggerNotAllowed, 409, "trigger-not-allowed", "The trigger is not allowed now"),
    (StaleVersion, 412, "stale-version", "The case has moved on since you read it"),
    (DuplicateOpenCase, 409, "duplicate-open-case", "A case for this subject is open already"),
    (Conflict, 409, "conflict", "Conflict"),
    (HandlerFailed, 500, "handler-failed", "A guard or action failed; nothing was changed"),
    (ConfigError, 500, "configuration-error", "The server is misconfigured"),
    (QingliuError, 500, "internal-error", "Internal error"),
]


def definition_errors(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """Definition problems as the API lists them (``path`` is the JSON path in the YAML)."""
    return [
        {
            "line": p.line,
            "column": p.column,
            "path": p.json_path,
            "json_path": p.json_path,
            "message": p.message,
        }
        for p in problems
    ]


def _rebase(what: str, errors: Sequence[FieldError]) -> list[dict[str, Any]]:
    """``$.x`` in the data becomes ``$.data.x``: paths point into the request body (an empty
    ``what``: the body is the object itself, e.g. an outfall record)."""
    root = "$." + what if what else "$"
    return [
        {"in": "body", "json_path": root + e.json_path[1:], "message": e.message} for e in errors
    ]


def _extensions(error: QingliuError) -> dict[str, Any]:
    extractors: list[tuple[type[QingliuError], Callable[[Any], dict[str, Any]]]] = [
        (DefinitionError, lambda e: {"errors": definition_errors(e.problems)}),
        (InvalidInput, lambda e: {"errors": _rebase(e.what, e.errors)}),
        (GuardFailed, lambda e: {"allowed_triggers": e.allowed, "guards": e.guards}),
        (TriggerNotAllowed, lambda e: {"allowed_triggers": e.allowed}),
        (StaleVersion, lambda e: {"current_version": e.actual}),
        (DuplicateOpenCase, lambda e: {"existing_case_id": e.existing_id}),
    ]
    for kind, extract in extractors:
        if isinstance(error, kind):
            return extract(error)
    return {}


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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def engine_problem(error: QingliuError, instance: str | None = None) -> JSONResponse:
    status, kind, title = next((s, k, t) for c, s, k, t in _KINDS if isinstance(error, c))
    detail = str(error) if status < 500 or isinstance(error, HandlerFailed) else title
    return problem_response(status, kind, title, detail, instance, **_extensions(error))


def api_problem(error: ApiProblem, instance: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return problem_response(
        error.status, error.kind, error.title, error.detail, instance, headers, **error.extra
    )


# -- request validation ----------------------------------------------------------------------


def _json_path(parts: Sequence[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _field_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = list(e.get("loc", ()))
        where = str(loc.pop(0)) if loc else "body"
        out.append({"in": where, "json_path": _json_path(loc), "message": str(e.get("msg", ""))})
    return out


def validation_problem(error: RequestValidationError, instance: str) -> JSONResponse:
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(str((e.get("ctx") or {}).get("error", "")) for e in errors)
        return problem_response(
            400,
            "malformed-request",
            "The request is malformed",
            f"the body is not valid JSON: {reason}",
            instance,
        )
    return problem_response(
        422,
        "invalid-request",
        "The request breaks the API schema",
        "; ".join(f"{p['in']} {p['json_path']}: {p['message']}" for p in _field_problems(errors)),
        instance,
        errors=_field_problems(errors),
    )


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
    """Every method some route offers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the exception handlers that make every error a problem document."""

    async def on_engine_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, QingliuError)
        return engine_problem(exc, request.url.path)

    async def on_api_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return api_problem(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc, request.url.path)

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
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring problem+json bodies for ``statuses``."""
    described = {
        400: "Malformed request (bad JSON or header)",
        401: "No token, or a bad or revoked token",
        403: "Role or jurisdiction not allowed",
        404: "Not found (or not in your jurisdiction)",
        409: "Trigger not allowed now, or a conflicting open case",
        412: "Stale version (If-Match)",
        413: "Request body too large",
        422: "Invalid input, with JSON paths",
    }
    return {
        status: {
            "description": described.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
