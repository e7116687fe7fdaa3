"""API tokens: created once (only their SHA-256 is stored), listed, revoked, authenticated.

A token carries a name (recorded in the history as the actor), a role and an optional
jurisdiction. ``admin`` is built in; every other role must be declared by a published
definition or in ``config/reference/roles.yaml``; ``system`` belongs to timers and is never
given to a token.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import TokenError
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import TokenRow

__all__ = [
    "TokenError",
    "TokenCache",
    "authenticate",
    "cached_token",
    "create_token",
    "hash_token",
    "known_roles",
    "list_tokens",
    "revoke_token",
    "token_actor",
    "verified",
]

PREFIX = "qlt_"
# How long a verified token is trusted without reading the database again. A token revoked
# through ``revoke_token`` in this process stops working at once; one revoked by another
# process (``qingliu token revoke`` while ``qingliu serve`` runs) within this many seconds.
TRUST_SECONDS = 2.0


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_actor(token: TokenRow) -> Actor:
    return Actor(token.name, token.role, token.jurisdiction)


def _reference_roles(reference: Any) -> set[str]:
    listing = reference.get("roles") if isinstance(reference, dict) else reference
    if isinstance(listing, dict):
        return {str(k) for k in listing}
    out: set[str] = set()
    for item in listing or []:
        if isinstance(item, dict) and "code" in item:
            out.add(str(item["code"]))
        elif isinstance(item, str):
            out.add(item)
    return out


def known_roles(engine: Engine) -> set[str]:
    """``admin``, the roles of every published definition, and config/reference/roles.yaml."""
    roles = {ADMIN} | _reference_roles(engine.reference.get("roles"))
    for row in engine.definitions():
        _, definition = engine.definition(row.name, row.version)
        roles.update(definition.roles)
        roles.update(r for t in definition.transitions for r in t.roles)
    roles.discard(SYSTEM)
    return roles


def _check(engine: Engine, name: str, role: str, jurisdiction: str | None) -> None:
    if not name.strip() or len(name) > 200:
        raise TokenError("a token name must be 1 to 200 characters")
    if role == SYSTEM:
        raise TokenError("role 'system' is reserved for timers and cannot be given to a token")
    roles = known_roles(engine)
    if role not in roles:
        raise TokenError(
            f"unknown role {role!r}: declare it in a workflow or config/reference/roles.yaml "
            f"(known: {', '.join(sorted(roles))})"
        )
    if jurisdiction is not None and not engine.scope.knows(jurisdiction):
        known = ", ".join(sorted(engine.scope.parents))
        raise TokenError(f"unknown jurisdiction {jurisdiction!r} (known: {known})")


def create_token(
    engine: Engine, name: str, role: str, jurisdiction: str | None = None
) -> tuple[TokenRow, str]:
    """A new token; the secret is returned here and never again."""
    _check(engine, name, role, jurisdiction)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = engine.clock.now()
    with engine.store.write() as tx:
        token_id = tx.insert_token(name, role, jurisdiction, hash_token(secret), now)
        if token_id is None:
            raise TokenError(f"a token named {name!r} exists already")
    row = TokenRow(token_id, name, role, jurisdiction, hash_token(secret), now, None)
    return row, secret


def list_tokens(engine: Engine) -> list[TokenRow]:
    with engine.store.read() as tx:
        return tx.tokens()


def revoke_token(engine: Engine, name_or_id: str) -> TokenRow:
    with engine.store.write() as tx:
        rows = tx.tokens()
        found = [r for r in rows if r.name == name_or_id] or [
            r for r in rows if str(r.id) == name_or_id
        ]
        if not found:
            raise TokenError(f"no token named or numbered {name_or_id!r}")
        token = found[0]
        if not tx.revoke_token(token.id, engine.clock.now()):
            raise TokenError(f"token {token.name!r} is revoked already")
    verified.clear()
    return token


class TokenCache:
    """Live tokens verified in the last ``ttl`` seconds, keyed by database URL and token hash.
    Only live tokens are kept (an unknown or revoked one is read again every time), so the
    cache can only delay a revocation, never let an unknown token in."""

    def __init__(self, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self._rows: dict[tuple[str, str], tuple[float, TokenRow]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, digest: str) -> TokenRow | None:
        with self._lock:
            hit = self._rows.get((url, digest))
            if hit is None:
                return None
            if self.monotonic() - hit[0] >= self.ttl:
                del self._rows[(url, digest)]
                return None
            return hit[1]

    def put(self, url: str, digest: str, token: TokenRow) -> None:
        with self._lock:
            if len(self._rows) >= 10_000:
                self._rows.clear()
            self._rows[(url, digest)] = (self.monotonic(), token)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


verified = TokenCache(TRUST_SECONDS)


def authenticate(engine: Engine, secret: str) -> TokenRow | None:
    """The live token with this secret, or None (unknown or revoked)."""
    digest = hash_token(secret)
    url = engine.store.url
    cached = verified.get(url, digest)
    if cached is not None:
        return cached
    with engine.store.read() as tx:
        token = tx.token_by_hash(digest)
    if token is None or token.revoked_at is not None:
        return None
    verified.put(url, digest, token)
    return token


def cached_token(engine: Engine, secret: str) -> TokenRow | None:
    """The token if it was verified in the last ``TRUST_SECONDS`` (no database read)."""
    return verified.get(engine.store.url, hash_token(secret))
