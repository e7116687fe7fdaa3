"""Console users, sessions and per-user idempotency keys (mixed into ``Tx``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from engine.store._records import insert_once
from engine.store.rows import IdempotencyRow
from engine.store.tables import user_idempotency_keys, user_sessions, users

__all__ = ["AccountQueries", "SessionRow", "UserRow"]


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: str
    jurisdiction: str | None
    password_hash: str
    failed_logins: int
    locked_until: datetime | None
    disabled_at: datetime | None
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True)
class SessionRow:
    id: int
    session_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None


class AccountQueries:
    conn: Connection

    # -- users --------------------------------------------------------------------------------

    def insert_user(self, **values: Any) -> int | None:
        """The new user's id, or None when the user name is taken."""
        found = insert_once(self.conn, users, values)
        return None if found is None else int(found)

    def users(self) -> list[UserRow]:
        rows = self.conn.execute(select(users).order_by(users.c.id))
        return [UserRow(**r._mapping) for r in rows]

    def user_by_name(self, username: str) -> UserRow | None:
        row = self.conn.execute(select(users).where(users.c.username == username)).first()
        return UserRow(**row._mapping) if row else None

    def user_by_id(self, user_id: int) -> UserRow | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return UserRow(**row._mapping) if row else None

    def update_user(self, user_id: int, **values: Any) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(**values))

    # -- sessions -----------------------------------------------------------------------------

    def insert_session(self, **values: Any) -> None:
        self.conn.execute(insert(user_sessions).values(**values))

    def session_by_hash(self, session_hash: str) -> SessionRow | None:
        row = self.conn.execute(
            select(user_sessions).where(user_sessions.c.session_hash == session_hash)
        ).first()
        return SessionRow(**row._mapping) if row else None

    def touch_session(self, session_id: int, now: datetime) -> None:
        self.conn.execute(
            update(user_sessions).where(user_sessions.c.id == session_id).values(last_seen_at=now)
        )

    def delete_session(self, session_hash: str) -> None:
        self.conn.execute(delete(user_sessions).where(user_sessions.c.session_hash == session_hash))

    def delete_sessions_of(self, user_id: int) -> None:
        self.conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))

    # -- idempotency keys of console submissions -----------------------------------------------

    def user_idempotency(self, user_id: int, key: str) -> IdempotencyRow | None:
        t = user_idempotency_keys
        row = self.conn.execute(select(t).where(t.c.user_id == user_id, t.c.key == key)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values["token_id"] = values.pop("user_id")
        return IdempotencyRow(**values)

    def insert_user_idempotency(
        self, user_id: int, key: str, request_hash: str, status: int, body: Any, now: datetime
    ) -> bool:
        """Record a first response; False when the key was recorded meanwhile."""
        values = {"user_id": user_id, "key": key, "request_hash": request_hash}
        values.update(status=status, body=body, created_at=now)
        return insert_once(self.conn, user_idempotency_keys, values) is not None
