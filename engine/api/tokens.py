"""API tokens: created once (only their SHA-256 is stored), listed, rotated, revoked,
authenticated.

A token carries a name (recorded in the history as the actor), a role, an optional
jurisdiction and an expiry (``DEFAULT_EXPIRES`` unless told otherwise; ``never`` is allowed).
``admin`` is built in; every other role must be declared by a published definition or in
``config/reference/roles.yaml``; ``system`` belongs to timers and is never given to a token.
Roles whose level is ``county`` or ``party`` (``engine.roles``) act inside one jurisdiction
and must be issued with one.

Names are unique among tokens that are not revoked: revoking a token renames its row
(``<name> [revoked #<id>]``, rotating: ``<name> [rotated #<id>]``), so the name can be issued
again, and the history keeps recording the same actor name for the holder's next token.
Expiry is judged with the engine's clock.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.definition.model import ADMIN, SYSTEM
from engine.errors import TokenError, Unauthorized
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store.repository import TokenRow, Tx

__all__ = [
    "DEFAULT_EXPIRES",
    "TokenError",
    "TokenCache",
    "authenticate",
    "cached_token",
    "check_grant",
    "create_token",
    "expiry",
    "hash_token",
    "is_expired",
    "known_roles",
    "list_tokens",
    "revoke_token",
    "rotate_token",
    "token_actor",
    "verified",
]

PREFIX = "qlt_"
# How long a verified token is trusted without reading the database again. A token revoked
# through ``revoke_token`` in this process stops working at once; one revoked by another
# process (``qingliu token revoke`` while ``qingliu serve`` runs) within this many seconds.
TRUST_SECONDS = 2.0
# The lifetime of a token made without ``--expires``.
DEFAULT_EXPIRES = "365d"
MAX_NAME = 200  # api_tokens.name is String(200)
# The suffix a revoked token's row is renamed with; no token may be named so by hand.
_RETIRED = re.compile(r" \[(revoked|rotated) #\d+\]\Z")
_DAYS = re.compile(r"([1-9][0-9]{0,4})d")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_actor(token: TokenRow) -> Actor:
    return Actor(token.name, token.role, token.jurisdiction)


def is_expired(token: TokenRow, now: datetime) -> bool:
    return token.expires_at is not None and now >= token.expires_at


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


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable() or name != name.strip():
        raise TokenError(
            f"a token name must be 1 to {MAX_NAME} printable characters (no tabs, newlines or "
            f"other control characters) without leading or trailing spaces, not {name!r}"
        )
    if _RETIRED.search(name):
        raise TokenError(
            f"token name {name!r}: names ending in ' [revoked #N]' or ' [rotated #N]' are "
            "given to revoked tokens"
        )


def _check(engine: Engine, name: str, role: str, jurisdiction: str | None) -> None:
    _check_name(name)
    check_grant(engine, role, jurisdiction)


def check_grant(engine: Engine, role: str, jurisdiction: str | None) -> None:
    """``TokenError`` unless ``role`` and ``jurisdiction`` may be given to a token or a console
    user (engine/console/accounts.py): a known role, with a known jurisdiction where its level
    needs one."""
    if role == SYSTEM:
        raise TokenError("role 'system' is reserved for timers and cannot be given to a token")
    roles = known_roles(engine)
    if role not in roles:
        raise TokenError(
            f"unknown role {role!r}: declare it in a workflow or config/reference/roles.yaml "
            f"(known: {', '.join(sorted(roles))})"
        )
    if jurisdiction is None and engine.roles.needs_jurisdiction(role):
        raise TokenError(
            f"role {role!r} ({engine.roles.level(role)} level) acts inside one jurisdiction: "
            "give the token one (--jurisdiction CODE)"
        )
    if jurisdiction is not None and not engine.scope.knows(jurisdiction):
        known = ", ".join(sorted(engine.scope.parents))
        raise TokenError(f"unknown jurisdiction {jurisdiction!r} (known: {known})")


def expiry(engine: Engine, expires: str | datetime | None) -> datetime | None:
    """When a token made now stops working (None: never). ``expires`` is ``<N>d`` (N days
    from now), a date ``YYYY-MM-DD`` (the token works through that day, in the calendar's time
    zone), an ISO datetime, ``never``, or None for ``DEFAULT_EXPIRES``."""
    now = engine.clock.now()
    text = DEFAULT_EXPIRES if expires is None else expires
    if isinstance(text, datetime):
        moment = text
    elif text == "never":
        return None
    elif days := _DAYS.fullmatch(text):
        moment = now + timedelta(days=int(days.group(1)))
    else:
        try:
            moment = engine.planner.parse_moment(text)
        except ValueError:
            raise TokenError(
                f"--expires {text!r}: give a number of days (90d), a date (2027-06-30), "
                "a date and time (2027-06-30T18:00+08:00) or never"
            ) from None
    if moment.tzinfo is None:
        raise TokenError(f"expiry {moment.isoformat()} has no time zone")
    if moment <= now:
        raise TokenError(f"--expires {text!r} is not in the future")
    return moment.astimezone(UTC)


def create_token(
    engine: Engine,
    name: str,
    role: str,
    jurisdiction: str | None = None,
    *,
    expires: str | datetime | None = None,
) -> tuple[TokenRow, str]:
    """A new token; the secret is returned here and never again. ``expires`` as ``expiry``
    reads it (default ``DEFAULT_EXPIRES``)."""
    _check(engine, name, role, jurisdiction)
    expires_at = expiry(engine, expires)
    with engine.store.write() as tx:
        return _insert(engine, tx, name, role, jurisdiction, expires_at)


def _insert(
    engine: Engine,
    tx: Tx,
    name: str,
    role: str,
    jurisdiction: str | None,
    expires_at: datetime | None,
) -> tuple[TokenRow, str]:
    if tx.user_by_name(name) is not None:
        # one name, one actor in the history: a console user's name is not a token's too
        raise TokenError(f"a console user is named {name!r}: give the token another name")
    secret = PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(secret)
    now = engine.clock.now()
    token_id = tx.insert_token(name, role, jurisdiction, digest, now, expires_at)
    if token_id is None:
        raise TokenError(f"a token named {name!r} exists already (`qingliu token list`)")
    return TokenRow(token_id, name, role, jurisdiction, digest, now, None, expires_at), secret


def list_tokens(engine: Engine) -> list[TokenRow]:
    with engine.store.read() as tx:
        return tx.tokens()


def _retire(engine: Engine, tx: Tx, token: TokenRow, how: str) -> None:
    """Revoke ``token`` and rename its row so that its name is free again."""
    if token.revoked_at is not None:
        raise TokenError(f"token {token.id} ({token.name}) is revoked already")
    suffix = f" [{how} #{token.id}]"
    retired = token.name[: MAX_NAME - len(suffix)] + suffix
    if not tx.revoke_token(token.id, engine.clock.now(), rename_to=retired):
        raise TokenError(f"token {token.id} ({token.name}) is revoked already")


def revoke_token(
    engine: Engine, token_id: int | None = None, *, name: str | None = None
) -> TokenRow:
    """Revoke the token with this id, or (``name=``) the unrevoked token of that name; the
    token as it was. Requests with it get 401 from now on (in this process at once)."""
    if (token_id is None) == (name is None):
        raise TokenError("revoke a token by its id or by its name (one of them)")
    with engine.store.write() as tx:
        if token_id is not None:
            token = tx.token_by_id(token_id)
            if token is None:
                raise TokenError(f"no token has id {token_id} (`qingliu token list` shows them)")
        else:
            token = tx.token_by_name(str(name))
            if token is None:
                raise TokenError(f"no token is named {name!r} (`qingliu token list`)")
        _retire(engine, tx, token, "revoked")
    verified.clear()
    return token


def rotate_token(
    engine: Engine, token_id: int, *, expires: str | datetime | None = None
) -> tuple[TokenRow, str]:
    """A new secret for the same name, role and jurisdiction (expiring as ``expires`` says,
    default ``DEFAULT_EXPIRES`` from now); the old token is revoked in the same transaction.
    An expired token may be rotated, a revoked one not (create a new token instead)."""
    with engine.store.read() as tx:
        old = tx.token_by_id(token_id)
    if old is None:
        raise TokenError(f"no token has id {token_id} (`qingliu token list` shows them)")
    if old.revoked_at is not None:
        raise TokenError(f"token {old.id} ({old.name}) is revoked: create a new token instead")
    _check(engine, old.name, old.role, old.jurisdiction)  # as a new token would be checked
    expires_at = expiry(engine, expires)
    with engine.store.write() as tx:
        _retire(engine, tx, old, "rotated")
        new = _insert(engine, tx, old.name, old.role, old.jurisdiction, expires_at)
    verified.clear()
    return new


class TokenCache:
    """Live tokens verified in the last ``ttl`` seconds, keyed by database URL and token hash.
    Only live tokens are kept (an unknown or revoked one is read again every time) and an
    expired one is never answered, so the cache can only delay a revocation by another process,
    never let an unknown or expired token in."""

    def __init__(self, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self._rows: dict[tuple[str, str], tuple[float, TokenRow]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, digest: str, now: datetime) -> TokenRow | None:
        """The token if verified in the last ``ttl`` seconds and not expired at ``now``."""
        with self._lock:
            hit = self._rows.get((url, digest))
            if hit is None:
                return None
            if self.monotonic() - hit[0] >= self.ttl or is_expired(hit[1], now):
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


def authenticate(engine: Engine, secret: str) -> TokenRow:
    """The live token with this secret; ``Unauthorized`` if it is unknown or revoked, or has
    expired (the only thing the answer tells about a token it refuses)."""
    digest = hash_token(secret)
    url = engine.store.url
    now = engine.clock.now()
    cached = verified.get(url, digest, now)
    if cached is not None:
        return cached
    with engine.store.read() as tx:
        token = tx.token_by_hash(digest)
    if token is None or token.revoked_at is not None:
        raise Unauthorized("the token is unknown or revoked")
    if is_expired(token, now):
        raise Unauthorized("the token has expired")
    verified.put(url, digest, token)
    return token


def cached_token(engine: Engine, secret: str) -> TokenRow | None:
    """The token if it was verified in the last ``TRUST_SECONDS`` and has not expired since
    (no database read)."""
    return verified.get(engine.store.url, hash_token(secret), engine.clock.now())
