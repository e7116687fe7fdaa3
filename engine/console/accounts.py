"""People who sign in to the console: accounts, passwords, lock-out and sessions.

A user has a user name, a display name, a role and a jurisdiction, checked as a token's are
(``engine.api.tokens``): the same read and write rules then apply to both, from the same code.
Passwords are hashed with argon2id (``argon2-cffi``, memory-hard); only the hash is stored.

What 等保 2.0 audits ask, and what is done here:

- **Lock-out**: ``MAX_FAILURES`` refused passwords in a row lock the account for
  ``LOCK_MINUTES``; a success resets the count. A locked or disabled account is refused with
  the same message as a wrong password, so the answer does not tell which accounts exist.
- **Idle time-out**: a session unused for ``IDLE_MINUTES`` ends; every session ends
  ``MAX_HOURS`` after sign-in whatever its use.
- **Sessions**: the cookie carries a random secret; the database keeps its SHA-256 only, with
  the form token (CSRF) of the session. Signing out, disabling the user or changing the
  password ends the user's sessions.

Security time is real time (``wall``, injected): an installation whose business clock is set to
a past date (``qingliu time set``) still times sessions out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.api.tokens import check_grant
from engine.clock import Clock, SystemClock
from engine.errors import TokenError, Unauthorized
from engine.handlers import Actor
from engine.runtime import Engine
from engine.store._accounts import SessionRow, UserRow
from engine.store.repository import Tx

__all__ = [
    "IDLE_MINUTES",
    "LOCK_MINUTES",
    "MAX_FAILURES",
    "Accounts",
    "SignedIn",
    "check_password",
    "check_username",
    "user_actor",
]

MAX_FAILURES = 5
LOCK_MINUTES = 15
IDLE_MINUTES = 30
MAX_HOURS = 12
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_REFUSED = "用户名或密码错误，或账号已锁定 (wrong user name or password, or the account is locked)"

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def user_actor(user: UserRow) -> Actor:
    """Who a signed-in user is to the engine: the user name (recorded in the history), role and
    jurisdiction."""
    return Actor(user.username, user.role, user.jurisdiction)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_username(username: str) -> None:
    """2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if not _USERNAME.match(username):
        raise TokenError(
            "用户名须为 2 至 64 个小写字母、数字、“.”“_”或“-” (user name "
            f"{username!r}: 2 to 64 lower-case letters, digits, '.', '_' or '-')"
        )


def check_password(password: str) -> None:
    """At least ``MIN_PASSWORD`` characters with letters and digits."""
    if (
        len(password) < MIN_PASSWORD
        or not re.search(r"[A-Za-z]", password)
        or not re.search(r"[0-9]", password)
    ):
        raise TokenError(
            f"密码至少 {MIN_PASSWORD} 个字符，须含字母和数字 (a password needs at least "
            f"{MIN_PASSWORD} characters, with letters and digits)"
        )


@dataclass(frozen=True)
class SignedIn:
    """A live session: its user, the cookie secret (only when just created) and form token."""

    user: UserRow
    session: SessionRow
    secret: str | None = None

    @property
    def actor(self) -> Actor:
        return user_actor(self.user)

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


class Accounts:
    def __init__(self, engine: Engine, wall: Clock | None = None) -> None:
        self.engine = engine
        self.wall = wall or SystemClock()

    # -- users --------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        jurisdiction: str | None = None,
        display_name: str | None = None,
    ) -> UserRow:
        check_username(username)
        check_grant(self.engine, role, jurisdiction)
        check_password(password)
        now = self.wall.now()
        values = {
            "username": username,
            "display_name": display_name or username,
            "role": role,
            "jurisdiction": jurisdiction,
            "password_hash": _hasher.hash(password),
            "failed_logins": 0,
            "created_at": now,
            "password_changed_at": now,
        }
        with self.engine.store.write() as tx:
            if tx.token_by_name(username) is not None:
                # one name, one actor in the history: a token's name is not a user's too
                raise TokenError(
                    f"用户名 {username!r} 已是一个 API 令牌的名称 (an API token has this name)"
                )
            user_id = tx.insert_user(**values)
            if user_id is None:
                raise TokenError(f"a user named {username!r} exists already (`qingliu user list`)")
            user = tx.user_by_id(user_id)
        assert user is not None
        return user

    def users(self) -> list[UserRow]:
        with self.engine.store.read() as tx:
            return tx.users()

    def _named(self, tx: Tx, username: str) -> UserRow:
        user = tx.user_by_name(username)
        if user is None:
            raise TokenError(f"no user named {username!r} (`qingliu user list`)")
        return user

    def set_password(self, username: str, password: str) -> None:
        check_password(password)
        with self.engine.store.write() as tx:
            user = self._named(tx, username)
            tx.update_user(
                user.id,
                password_hash=_hasher.hash(password),
                password_changed_at=self.wall.now(),
                failed_logins=0,
                locked_until=None,
            )
            tx.delete_sessions_of(user.id)

    def disable(self, username: str) -> None:
        with self.engine.store.write() as tx:
            user = self._named(tx, username)
            tx.update_user(user.id, disabled_at=self.wall.now())
            tx.delete_sessions_of(user.id)

    def enable(self, username: str) -> None:
        with self.engine.store.write() as tx:
            user = self._named(tx, username)
            tx.update_user(user.id, disabled_at=None, failed_logins=0, locked_until=None)

    # -- signing in ---------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str | None = None) -> SignedIn:
        """A new session for the user, or ``Unauthorized`` (one message for every refusal)."""
        now = self.wall.now()
        # A refusal is raised after its transaction: raised inside, it would roll back the
        # count of failures with it, and no account would ever lock.
        signed: SignedIn | None = None
        with self.engine.store.write() as tx:
            user = tx.user_by_name(username)
            if user is None:
                _hasher.hash(password)  # the same time as a wrong password
            elif not self._refused(tx, user, password, now):
                secret = self._open(tx, user, password, now, address)
                session = tx.session_by_hash(_digest(secret))
                fresh = tx.user_by_id(user.id)
                assert session is not None
                assert fresh is not None
                signed = SignedIn(fresh, session, secret)
        if signed is None:
            raise Unauthorized(_REFUSED)
        return signed

    def _refused(self, tx: Tx, user: UserRow, password: str, now: datetime) -> bool:
        """Whether ``password`` is refused for ``user`` (disabled, locked or wrong), counting
        the failure and locking the account at the ``MAX_FAILURES``-th in a row."""
        locked = user.locked_until is not None and user.locked_until > now
        if user.disabled_at is None and not locked and self._verify(user, password):
            return False
        failed = user.failed_logins + (0 if locked else 1)
        until = now + timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILURES else None
        tx.update_user(
            user.id,
            failed_logins=0 if until else failed,
            locked_until=until or user.locked_until,
        )
        return True

    def _open(
        self, tx: Tx, user: UserRow, password: str, now: datetime, address: str | None
    ) -> str:
        """A new session for ``user``, whose password was right; the cookie's secret."""
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(user.password_hash):
            values["password_hash"] = _hasher.hash(password)
        tx.update_user(user.id, **values)
        secret = secrets.token_urlsafe(32)
        tx.insert_session(
            session_hash=_digest(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=MAX_HOURS),
            address=(address or "")[:64] or None,
        )
        return secret

    @staticmethod
    def _verify(user: UserRow, password: str) -> bool:
        try:
            return _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def session(self, secret: str) -> SignedIn | None:
        """The live session of a cookie's secret (its last use moved to now), or None when it
        is unknown, idle too long, past its lifetime, or its user is disabled."""
        now = self.wall.now()
        digest = _digest(secret)
        with self.engine.store.read() as tx:
            session = tx.session_by_hash(digest)
            user = tx.user_by_id(session.user_id) if session is not None else None
        if session is None or user is None:
            return None
        idle = now - session.last_seen_at > timedelta(minutes=IDLE_MINUTES)
        if idle or now >= session.expires_at or user.disabled_at is not None:
            with self.engine.store.write() as tx:
                tx.delete_session(digest)
            return None
        # Written at most once a minute: a page's requests do not each take a write turn.
        if now - session.last_seen_at > timedelta(minutes=1):
            with self.engine.store.write() as tx:
                tx.touch_session(session.id, now)
        return SignedIn(user, session)

    def sign_out(self, secret: str) -> None:
        with self.engine.store.write() as tx:
            tx.delete_session(_digest(secret))

    def locked(self, user: UserRow) -> bool:
        now: datetime = self.wall.now()
        return user.locked_until is not None and user.locked_until > now
