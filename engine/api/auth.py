"""Bearer-token authentication: ``Authorization: Bearer <token>`` → the token's ``Actor``.

Domain routes use ``current_actor`` (and ``engine.api.deps.get_engine``) as dependencies; the
actor's role and jurisdiction then decide what it may see and do, as for the engine's routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from engine.api.tokens import authenticate, cached_token, token_actor
from engine.definition.model import ADMIN
from engine.errors import Forbidden, Unauthorized
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import TokenRow

__all__ = ["bearer_token", "current_actor", "current_token", "require_admin", "verify"]

_bearer = HTTPBearer(auto_error=False, description="a token from `qingliu token create`")


def _no_token() -> Unauthorized:
    return Unauthorized("send the header 'Authorization: Bearer <token>'")


async def verify(engine: Engine, secret: str) -> TokenRow | None:
    """The live token with this secret, or None. A token verified moments ago is answered on
    the event loop; otherwise the database is read in the thread pool
    (``engine.api.tokens.TRUST_SECONDS``)."""
    return cached_token(engine, secret) or await run_in_threadpool(authenticate, engine, secret)


async def current_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenRow:
    """The caller's live token (``verify``). The engine is the app's (as ``get_engine`` gives
    it), read here rather than through one more dependency."""
    engine: Engine = request.app.state.engine
    if credentials is None:
        raise _no_token()
    return await _live(engine, credentials.credentials)


async def bearer_token(engine: Engine, authorization: str | None) -> TokenRow:
    """The live token of an ``Authorization`` header, read as ``HTTPBearer`` reads it (for a
    route that reads its request itself, ``engine.api.transition``)."""
    scheme, secret = get_authorization_scheme_param(authorization)
    if not (scheme and secret) or scheme.lower() != "bearer":
        raise _no_token()
    return await _live(engine, secret)


async def _live(engine: Engine, secret: str) -> TokenRow:
    token = await verify(engine, secret)
    if token is None:
        raise Unauthorized("the token is unknown or revoked")
    return token


async def current_actor(token: Annotated[TokenRow, Depends(current_token)]) -> Actor:
    """Who is calling: the token's name, role and jurisdiction (recorded in the history)."""
    return token_actor(token)


async def require_admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.role != ADMIN:
        raise Forbidden(
            f"only the admin role may do this (your role: {actor.role})", role=actor.role
        )
    return actor
