"""The express lane of the busiest route: ``POST /api/v1/cases/{id}/transitions`` answered
without FastAPI's per-request machinery when the request is plain.

Under load (``python -m bench.http_bench``, py-spy on the server) FastAPI's dependency solving
and routing took about 30% of the server's CPU per transition (the transition itself ~40%).
This middleware sits inside the app (so ``ServerErrorMiddleware`` still answers an unexpected
error) and takes a request only when it is plain:

- ``POST`` to exactly ``/api/v1/cases/{id}/transitions``, ``1 <= id <= MAX_ID``, no query string;
- ``Content-Type: application/json`` and a ``Content-Length`` of at most ``MAX_BODY`` bytes;
- ``Authorization: Bearer <token>`` naming a live token (``engine.api.auth.verify``);
- a body that ``json.loads`` reads (as Starlette does) and ``TransitionRequest`` accepts.

Everything else goes to the FastAPI route unchanged, with the body it has already read
replayed, so every refusal of a malformed or unauthenticated request comes from one place.
What the lane runs for a plain request is what the route runs: ``fire_response``. Its engine
errors and ``ApiProblem`` are rendered by ``engine.api.problems`` as the app's exception
handlers render them. ``tests/engine/api/test_express.py`` sends the same requests through the lane
and through the route and compares the answers.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.auth import verify
from engine.api.models import MAX_ID, TransitionRequest
from engine.api.problems import engine_problem
from engine.api.routes_cases import fire_response, router
from engine.errors import QingliuError
from engine.runtime import Engine
from engine.store.repository import TokenRow

__all__ = ["MAX_BODY", "ExpressLane"]

MAX_BODY = 1 << 20
_PATH = re.compile("^" + re.escape(router.prefix) + "/([0-9]{1,19})/transitions$")
_WANTED = {b"authorization", b"content-type", b"content-length", b"if-match", b"idempotency-key"}


def _headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header the lane reads (as ``Request.headers.get`` gives it)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _case_id(scope: Scope) -> int | None:
    if scope["method"] != "POST" or scope["query_string"] or scope.get("root_path"):
        return None
    match = _PATH.match(scope["path"])
    if match is None:
        return None
    case_id = int(match[1])
    return case_id if 1 <= case_id <= MAX_ID else None


def _plain_json(headers: dict[bytes, str]) -> bool:
    """The body is JSON, of a declared length the lane reads."""
    media = headers.get(b"content-type", "").partition(";")[0].strip().lower()
    length = headers.get(b"content-length", "")
    return media == "application/json" and length.isdigit() and int(length) <= MAX_BODY


def _secret(headers: dict[bytes, str]) -> str | None:
    scheme, _, secret = headers.get(b"authorization", "").partition(" ")
    return secret if scheme.lower() == "bearer" and secret else None


def _transition(body: bytes) -> TransitionRequest | None:
    try:
        return TransitionRequest.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError included
        return None


async def _read(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` as if the body had not been read yet."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class ExpressLane:
    """ASGI middleware: plain transition requests answered here, the rest by ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        case_id = _case_id(scope) if scope["type"] == "http" else None
        if case_id is None:
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        secret = _secret(headers)
        if not _plain_json(headers) or secret is None:
            return await self.app(scope, receive, send)
        body = await _read(receive)
        if body is None:
            return None
        engine: Engine = scope["app"].state.engine
        transition = _transition(body)
        token = None if transition is None else await verify(engine, secret)
        if transition is None or token is None:
            return await self.app(scope, _replay(body, receive), send)
        response = await _answer(engine, token, case_id, transition, headers, scope["path"])
        await response(scope, receive, send)
        return None


async def _answer(
    engine: Engine,
    token: TokenRow,
    case_id: int,
    transition: TransitionRequest,
    headers: dict[bytes, str],
    path: str,
) -> Response:
    """What the route answers: ``fire_response``, or the problem document of its error."""
    if_match = headers.get(b"if-match")
    key = headers.get(b"idempotency-key")
    try:
        return await fire_response(engine, token, case_id, transition, if_match, key)
    except QingliuError as exc:
        return engine_problem(exc, path)
