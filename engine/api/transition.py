"""``POST /api/v1/cases/{id}/transitions``, the busiest route, as a plain Starlette route.

This is the route's one entrance (``route``, mounted first by ``engine.api.app``). It reads its
request itself, in the order FastAPI reads declared parameters and with FastAPI's answers,
because FastAPI's per-request dependency solving and parameter validation cost about as much
CPU as the transition itself (``bench.http_bench``: ~1.5 ms of server CPU per transition with
declared parameters; callgrind: 1.60 M instructions per request as a FastAPI route taking the
bare ``Request``, 1.41 M as this Starlette route). ``described`` is the same operation as an
``APIRoute`` that is never mounted: it only gives the OpenAPI document its parameters, body,
security and responses, from the same models.

1. the body: JSON when the media type says so (400 when it is not JSON), else its raw bytes;
2. the query string: this route takes no query parameter (422 for any);
3. the bearer token (401; 429 after too many refused ones, ``engine.api.auth``);
4. the path's case id and the body against ``TransitionRequest`` (422, every fault at once);
5. ``If-Match`` and ``Idempotency-Key`` (400), then the transition.
"""

from __future__ import annotations

import email.message
import json
from typing import Annotated, Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import Field, TypeAdapter, ValidationError
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.api import idempotency
from engine.api.auth import bearer_token, client_address
from engine.api.limits import body_size
from engine.api.models import MAX_ID, CaseOut, TransitionRequest
from engine.api.problems import field_problems, problem_responses
from engine.api.tokens import token_actor
from engine.api.writes import HEAVY_BODY_BYTES, run_write
from engine.errors import FieldError, InvalidRequest, RequestError
from engine.runtime import Engine

__all__ = ["PATH", "described", "fire", "route"]

PATH = "/api/v1/cases/{case_id}/transitions"

_CASE_ID = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_ID)])
_MISSING = object()


def _is_json(content_type: str | None) -> bool:
    """FastAPI's test: ``application/json`` or any ``application/*+json``, parameters aside."""
    if not content_type:
        return False
    if content_type.partition(";")[0].strip().lower() == "application/json":
        return True  # the usual answer, without parsing the header
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return _MISSING
    if not _is_json(request.headers.get("content-type")):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestError(f"the body is not valid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8 text, nested too deeply
        raise RequestError("There was an error parsing the body") from exc


def _unknown_query(request: Request) -> None:
    if not request.scope["query_string"]:
        return
    names = sorted(set(request.query_params))
    if names:
        raise InvalidRequest(
            "; ".join(f"query parameter {name!r}: unknown query parameter" for name in names),
            [FieldError(f"$.{name}", "unknown query parameter", "query") for name in names],
        )


def _checked(request: Request, body: Any) -> tuple[int, TransitionRequest]:
    faults: list[FieldError] = []
    raw = request.path_params["case_id"]
    case_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 20 else 0
    if not 1 <= case_id <= MAX_ID:  # pydantic says why, in its words, as for other routes
        try:
            case_id = _CASE_ID.validate_python(raw)
        except ValidationError as exc:
            faults += field_problems(exc.errors(), ("path", "case_id"))
    transition = None
    if body is _MISSING:
        faults.append(FieldError("$", "Field required"))
    else:
        try:
            transition = TransitionRequest.model_validate(body, from_attributes=True)
        except ValidationError as exc:
            faults += field_problems(exc.errors(), ("body",))
    if faults or transition is None:
        raise InvalidRequest("; ".join(f"{e.where} {e}" for e in faults), faults)
    return case_id, transition


async def fire(request: Request) -> JSONResponse:
    """Fire the body's trigger on the case as the token's actor: the case after it, with its
    ``ETag`` (and ``Idempotent-Replayed: true`` for a repeated key)."""
    engine: Engine = request.app.state.engine
    body = await _body(request)
    _unknown_query(request)
    authorization = request.headers.get("authorization")
    token = await bearer_token(engine, authorization, client_address(request))
    case_id, transition = _checked(request, body)
    key = idempotency.parse_key(request.headers.get("idempotency-key"))
    expected = idempotency.parse_if_match(request.headers.get("if-match"))
    actor = token_actor(token)
    out, replayed = await run_write(
        engine,
        lambda: idempotency.fire(
            engine, token, actor, case_id, transition.trigger, transition.payload, expected, key
        ),
        heavy=body_size(request.scope) > HEAVY_BODY_BYTES,
    )
    headers = {"ETag": f'"{out["version"]}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(out, headers=headers)


def _header(name: str, description: str) -> dict[str, Any]:
    schema = {"type": "string"}
    return {"name": name, "in": "header", "description": description, "schema": schema}


# The operation's parameters, body and security, as FastAPI would have declared them.
_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "case_id",
            "in": "path",
            "required": True,
            "description": "the case id",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        },
        _header("If-Match", "the case version you read (412 if it moved on)"),
        _header("Idempotency-Key", "a repeated key returns the first result"),
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TransitionRequest"}}
        },
    },
    "security": [{"HTTPBearer": []}],
}


route = Route(PATH, fire, methods=["POST"], name="fire")

described = APIRoute(
    PATH,
    fire,
    methods=["POST"],
    tags=["cases"],
    response_model=CaseOut,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 503),
    summary="Fire a trigger",
    description="The body names the trigger and its payload. `If-Match` (the ETag of the case "
    "you read) refuses a stale write with 412; a repeated `Idempotency-Key` returns the first "
    "answer with `Idempotent-Replayed: true`.",
    openapi_extra=_OPENAPI,
)
