"""How the store connects: one SQLAlchemy engine per database URL, with what each backend
needs. SQLite: WAL, ``synchronous=NORMAL``, foreign keys, transactions begun by the store
(``BEGIN IMMEDIATE`` for writes) and a statement compiler that renders table hints
(``with_hint(table, "INDEXED BY ...", "sqlite")``, which SQLAlchemy's SQLite compiler drops).
PostgreSQL: pre-pinged pooled connections, and text with U+0000 refused before it is sent.

A new SQLite file is created here, before SQLAlchemy opens it, readable and writable by its
owner only (0600, whatever the umask); SQLite gives its ``-wal`` and ``-shm`` files the
database file's permissions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.selectable import FromClause

from engine.store._hot import execute, json_serializer, refuse_nul

__all__ = ["PRIVATE_FILE", "SQLITE_TIMEOUT", "create_private_file", "make_engine"]

SQLITE_TIMEOUT = 30  # seconds a SQLite writer waits for another process's write to end
PRIVATE_FILE = 0o600


def create_private_file(url: str) -> None:
    """Create the file of a SQLite URL, empty and 0600, if it does not exist yet (an empty
    file is an empty database to SQLite). Nothing for ``:memory:``, a URI filename or a
    missing folder (SQLite then reports the real error)."""
    parsed = make_url(url)
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:") or "uri" in parsed.query:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except (FileExistsError, FileNotFoundError, NotADirectoryError):
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the umask may have taken bits off
    finally:
        os.close(fd)


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's statement compiler, with the table hints of ``Select.with_hint`` rendered after
    the table name (``FROM timers INDEXED BY ix_timers_provisional``)."""

    def get_from_hint_text(self, table: FromClause, text: str | None) -> str | None:
        return text


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        create_private_file(url)
        engine = create_engine(
            url,
            json_serializer=json_serializer,
            poolclass=StaticPool if ":memory:" in url else None,
            connect_args={"timeout": SQLITE_TIMEOUT, "check_same_thread": False},
        )
        engine.dialect.statement_compiler = _SQLiteCompiler

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            if conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
                return  # a write the store began itself (_sqlite_write._begin)
            immediate = conn.get_execution_options().get("qingliu_write", False)
            execute(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    engine = create_engine(url, json_serializer=json_serializer, pool_pre_ping=True)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _refuse_nul(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    for row in parameters if many else [parameters]:
        refuse_nul(row.values() if isinstance(row, Mapping) else row or ())
