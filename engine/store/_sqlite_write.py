"""SQLite's write path: one connection per process kept for writing, used in turn.

SQLite takes one writer at a time, so the writers of a process queue for their turn
(``_turn.py``) and share one connection kept for writing (no pool checkout per write). Each
write is one transaction begun and ended on the driver (``BEGIN IMMEDIATE`` ... ``COMMIT``):
SQLAlchemy's transaction objects and begin event cost ~10% of a transition.

A write that fails, its ``COMMIT`` included (a full disk, a read-only file, an I/O error), is
rolled back twice over: SQLAlchemy's transaction object (a failed ``COMMIT`` leaves it
inactive but in place, and every later statement would raise ``PendingRollbackError``) and
the driver's transaction (a failed ``COMMIT`` may leave SQLite's open). A connection that
cannot even roll back is invalidated, and the next write opens a new one. Either way the
database error itself goes on to the caller unchanged, and the next write finds a clean
connection: the process writes again as soon as the fault is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from engine.store._connect import SQLITE_TIMEOUT
from engine.store._hot import execute
from engine.store._turn import WriteTurn

__all__ = ["KeptWriter", "WriteBusy", "roll_back"]


class WriteBusy(Exception):
    """A write under ``Store.without_waiting()`` would have waited; nothing was written."""


def roll_back(conn: Connection) -> None:
    """End a failed write on ``conn``: SQLAlchemy's transaction object if there is one (active,
    or left inactive by a failed ``COMMIT``), then the driver's transaction if it is still
    open. If that fails too, the connection is invalidated (its driver connection closed)."""
    try:
        if conn.get_transaction() is not None:
            conn.rollback()
        if conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            execute(conn, "ROLLBACK")
    except Exception:  # a connection that cannot roll back is not reused
        conn.invalidate()


class KeptWriter:
    """The write turn and the kept write connection of one SQLite store."""

    def __init__(self, writer: Engine, database: str | None) -> None:
        self._writer = writer
        self._turn = WriteTurn(database)
        self._conn: Connection | None = None

    def dispose(self) -> None:
        self._turn.acquire()
        try:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        finally:
            self._turn.release()
        self._turn.close()

    @contextmanager
    def transaction(self, wait: bool) -> Iterator[Connection]:
        """The kept connection in a write transaction, in this writer's turn; without ``wait``,
        ``WriteBusy`` at once when another thread or process is writing."""
        if not self._turn.acquire(blocking=wait):
            raise WriteBusy
        try:
            conn = self._connection()
            with _begin(conn, wait):
                yield conn
        finally:
            self._turn.release()

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.invalidated:
            return conn
        if conn is not None:
            conn.close()
        self._conn = self._writer.connect()
        return self._conn


@contextmanager
def _begin(conn: Connection, wait: bool) -> Iterator[None]:
    """One write transaction on the driver connection (``BEGIN IMMEDIATE`` ... ``COMMIT``, or
    ``roll_back`` on an error). A statement run through SQLAlchemy inside makes it begin its
    own transaction object; the begin hook then sees the driver's transaction and emits
    nothing, and that object ends it. Without ``wait``, SQLite's busy timeout is 0 for the
    ``BEGIN IMMEDIATE``, so a database locked by another process raises ``WriteBusy`` at once."""
    if wait:
        execute(conn, "BEGIN IMMEDIATE")
    else:
        execute(conn, "PRAGMA busy_timeout = 0")
        try:
            execute(conn, "BEGIN IMMEDIATE")
        except OperationalError as exc:
            raise WriteBusy from exc
        finally:
            execute(conn, f"PRAGMA busy_timeout = {SQLITE_TIMEOUT * 1000}")
    try:
        yield
        if conn.in_transaction():
            conn.commit()
        else:
            execute(conn, "COMMIT")
    except BaseException:
        roll_back(conn)
        raise
