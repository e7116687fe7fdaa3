"""Which database errors mean "the database cannot take requests now" rather than a bug.

``unavailable(exc)`` is True for a fault of the database or its host that the same request
may outlive: it cannot be reached, it is full, it is read-only, a lock was held past the
timeout, the connection broke or the pool has none to give. The API answers those 503 with
``Retry-After`` and the CLI exits with ``Unavailable``'s code; every other database error
(a constraint, a bad statement, a missing table) is a bug, answered 500.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from engine.errors import QingliuError

__all__ = ["Unavailable", "unavailable"]


class Unavailable(QingliuError):
    """The database cannot take the request now: unreachable, full, read-only or locked past
    its timeout. Nothing was changed; the same request may succeed later (``Retry-After``)."""

    status, kind, exit_code = 503, "unavailable", 10
    title = "The service is unavailable for now"
    retry_after: ClassVar[int] = 5  # seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


# SQLite result codes (sqlite3.Error.sqlite_errorname, primary code before the first "_"
# after "SQLITE_") that are the database's state, not the statement's fault.
_SQLITE_CODES = ("FULL", "BUSY", "LOCKED", "READONLY", "IOERR", "CANTOPEN", "NOMEM", "PROTOCOL")
# PostgreSQL SQLSTATE classes and codes of the same kind: connection exceptions, insufficient
# resources (disk full, out of memory, too many connections), operator intervention (shut
# down, starting up), a read-only transaction (a standby), lock not available (lock_timeout).
_PG_PREFIXES = ("08", "53", "57P")
_PG_CODES = ("25006", "55P03")


def _sqlite_code(orig: BaseException) -> str | None:
    name = getattr(orig, "sqlite_errorname", None)
    if not isinstance(name, str) or not name.startswith("SQLITE_"):
        return None
    return name.removeprefix("SQLITE_").partition("_")[0]


def _sqlstate(orig: BaseException) -> str | None:
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy error) means the database is unavailable for now."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if orig is None:
        return False
    code = _sqlite_code(orig)
    if code is not None:
        return code in _SQLITE_CODES
    state = _sqlstate(orig)
    if state is not None:
        return state.startswith(_PG_PREFIXES) or state in _PG_CODES
    # A driver error without a code: psycopg's "connection refused" and the like.
    return isinstance(exc, OperationalError)
