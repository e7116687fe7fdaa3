"""Bearer-token authentication: ``Authorization: Bearer <token>`` → the token's ``Actor``, and
the throttle on failed attempts.

Domain routes use ``current_actor`` (and ``engine.api.deps.get_engine``) as dependencies; the
actor's role and jurisdiction then decide what it may see and do, as for the engine's routes.
Both entrances (``current_token``, the dependency, and ``bearer_token``, for a route that reads
its own request) go through ``_live``: an address that sent ``MAX_FAILURES`` tokens that were
refused (unknown, revoked, expired) within ``FAILURE_WINDOW`` seconds is answered 429, with
``Retry-After``, until the oldest of those failures is that old; nothing it sends meanwhile is
verified. A missing or non-Bearer header is not an attempt and does not count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from engine.api.tokens import authenticate, cached_token, token_actor
from engine.definition.model import ADMIN
from engine.errors import Forbidden, RequestError, Unauthorized
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import TokenRow

__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "FailureThrottle",
    "TooManyRequests",
    "bearer_token",
    "client_address",
    "current_actor",
    "current_token",
    "failures",
    "require_admin",
    "verify",
]

MAX_FAILURES = 10  # refused tokens an address may send ...
FAILURE_WINDOW = 60.0  # ... within this many seconds
MAX_ADDRESSES = 10_000  # addresses remembered at once (the oldest are forgotten first)

_bearer = HTTPBearer(auto_error=False, description="a token from `qingliu token create`")


class TooManyRequests(RequestError):
    """Too many refused tokens from the caller's address; ``retry_after`` seconds to wait.
    (Part of the tree of ``engine.errors``, which is full at 400 lines.)"""

    status, kind, exit_code = 429, "too-many-requests", 4
    title = "Too many failed authentications"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed authentications: try again in {retry_after} s")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class FailureThrottle:
    """Refused authentications per key (database URL and client address) in a sliding window,
    in this process. Memory is bounded: at most ``limit`` moments per key, ``capacity`` keys."""

    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
        capacity: int = MAX_ADDRESSES,
    ) -> None:
        self.limit = limit
        self.window = window
        self.monotonic = monotonic
        self.capacity = capacity
        self._failed: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: tuple[str, str]) -> None:
        """``TooManyRequests`` while ``key`` has ``limit`` failures in the window."""
        if key not in self._failed:  # the usual answer, without the lock
            return
        with self._lock:
            moments = self._failed.get(key)
            if moments is None or len(moments) < self.limit:
                return
            wait = moments[0] + self.window - self.monotonic()
            if wait <= 0:
                return
        raise TooManyRequests(max(1, math.ceil(wait)))

    def failed(self, key: tuple[str, str]) -> None:
        now = self.monotonic()
        with self._lock:
            moments = self._failed.pop(key, None)  # re-inserted last: the newest key
            if moments is None:
                if len(self._failed) >= self.capacity:
                    self._forget(now)
                moments = deque(maxlen=self.limit)
            moments.append(now)
            self._failed[key] = moments

    def _forget(self, now: float) -> None:
        """Drop the keys whose failures are all out of the window, else the oldest key."""
        stale = [k for k, m in self._failed.items() if m[-1] + self.window <= now]
        for key in stale or [next(iter(self._failed))]:
            del self._failed[key]

    def clear(self) -> None:
        with self._lock:
            self._failed.clear()


failures = FailureThrottle()


def _no_token() -> Unauthorized:
    return Unauthorized("send the header 'Authorization: Bearer <token>'")


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether that is the proxy's or the client's)."""
    return request.client.host if request.client else ""


async def verify(engine: Engine, secret: str) -> TokenRow:
    """The live token with this secret, or ``Unauthorized``. A token verified moments ago is
    answered on the event loop; otherwise the database is read in the thread pool
    (``engine.api.tokens.TRUST_SECONDS``)."""
    cached = cached_token(engine, secret)
    if cached is not None:
        return cached
    return await run_in_threadpool(authenticate, engine, secret)


async def current_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenRow:
    """The caller's live token (``verify``). The engine is the app's (as ``get_engine`` gives
    it), read here rather than through one more dependency."""
    engine: Engine = request.app.state.engine
    if credentials is None:
        raise _no_token()
    return await _live(engine, credentials.credentials, client_address(request))


async def bearer_token(engine: Engine, authorization: str | None, address: str) -> TokenRow:
    """The live token of an ``Authorization`` header, read as ``HTTPBearer`` reads it, sent
    from ``address`` (for a route that reads its request itself, ``engine.api.transition``)."""
    scheme, secret = get_authorization_scheme_param(authorization)
    if not (scheme and secret) or scheme.lower() != "bearer":
        raise _no_token()
    return await _live(engine, secret, address)


async def _live(engine: Engine, secret: str, address: str) -> TokenRow:
    key = (engine.store.url, address)
    failures.check(key)
    try:
        return await verify(engine, secret)
    except Unauthorized:
        failures.failed(key)
        raise


async def current_actor(token: Annotated[TokenRow, Depends(current_token)]) -> Actor:
    """Who is calling: the token's name, role and jurisdiction (recorded in the history)."""
    return token_actor(token)


async def require_admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.role != ADMIN:
        raise Forbidden(
            f"only the admin role may do this (your role: {actor.role})", role=actor.role
        )
    return actor
