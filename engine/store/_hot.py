"""The per-transition statements, run on the database driver itself.

Every ``Engine.fire`` reads and locks its case row, updates it (compare-and-set on the version),
appends one history row and, in a flow with timers, cancels the timers of the state it leaves,
inserts those of the state it enters and reads the case's live timers for the view it returns;
at commit it locks and moves the head of the global history chain (``_chain.py``).
Through SQLAlchemy's execution each of those costs more in machinery (parameter processing,
result wrapping, events) than the database takes to run it, so they are run on the DB-API cursor
of the same connection, inside the same transaction the ``Tx`` holds.

They are still SQLAlchemy Core statements over the tables of ``engine/store/tables.py``: each is
compiled once for the store's dialect (``Prepared``), and its values are encoded and its rows
decoded by the bind and result processors of the columns' own types (JSON through the store's
serializer, ``UTCDateTime`` as naive UTC, booleans as the backend stores them), as SQLAlchemy's
execution would. ``tests/engine/store/test_hot_path.py`` checks that rows written here and rows
written through SQLAlchemy read back the same both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from engine.errors import FieldError, InvalidInput
from engine.store.rows import LIVE_TIMER, CaseRow, TimerRow
from engine.store.tables import cases, events, history_head, timers

__all__ = [
    "HotStatements",
    "Prepared",
    "execute",
    "execute_many",
    "has_nul",
    "json_serializer",
    "refuse_nul",
]

Processor = Callable[[Any], Any]


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # made once: json.dumps with options
# builds an encoder per call


def json_serializer(value: Any) -> str:
    """How the store writes JSON columns (SQLAlchemy's ``json_serializer``)."""
    return _ENCODE(value)


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    document = getattr(value, "obj", None)  # psycopg's Jsonb wrapper of a JSON column's value
    return document is not None and has_nul(document)


def refuse_nul(values: Any) -> None:
    """PostgreSQL text and JSONB cannot hold U+0000 (SQLite can): refuse it as bad input
    (422 in the API) instead of failing with a database error."""
    if any(has_nul(v) for v in values):
        raise InvalidInput(
            "input", [FieldError("$", "text cannot contain the NUL character (U+0000)")]
        )


def _same(value: Any) -> Any:
    return value


def _result(kind: TypeEngine[Any], dialect: Dialect) -> Processor:
    return kind.dialect_impl(dialect).result_processor(dialect, None) or _same


class Prepared:
    """A Core statement compiled once for ``dialect``: its SQL text, and how to turn a mapping
    of values into the driver's parameters (constants of the statement filled in, each value
    through its bind processor), in the dialect's parameter style."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        self._positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self._positional else list(compiled.binds)
        binds = compiled.binds
        # Per parameter: its name, its bind processor (None: the value goes as it is) and the
        # statement's own value for it (``status = 'pending'``), as its bind parameter holds it.
        self._plan = [
            (
                name,
                binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                None if binds[name].required else binds[name].value,
            )
            for name in names
        ]
        self.refuse_nul = dialect.name != "sqlite"

    def _encoded(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, encode, default in self._plan:
            value = values.get(name, default)
            out.append(value if encode is None else encode(value))
        if self.refuse_nul:
            refuse_nul(out)
        return out

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        encoded = self._encoded(values)
        if self._positional:
            return tuple(encoded)
        return dict(zip([name for name, _, _ in self._plan], encoded, strict=True))


def _row_decoder(table: Table, dialect: Dialect) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A row of ``select(table)`` read on the driver, as the columns' types give it back."""
    decoders = [(c.name, _result(c.type, dialect)) for c in table.columns]

    def decode(row: Sequence[Any]) -> dict[str, Any]:
        return {
            name: None if value is None else read(value)
            for (name, read), value in zip(decoders, row, strict=True)
        }

    return decode


def _values(table: Table, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{column: bindparam(column)}`` for every column but ``skip``."""
    return {c.name: bindparam(c.name) for c in table.columns if c.name not in skip}


class HotStatements:
    """The per-transition statements for one store's dialect (``engine.dialect``, whose JSON
    serializer and types they use)."""

    def __init__(self, dialect: Dialect) -> None:
        by_id = select(cases).where(cases.c.id == bindparam("case_id"))
        if dialect.name != "sqlite":  # SQLite's write transactions are serialised anyway
            by_id = by_id.with_for_update()
        self._lock = Prepared(by_id, dialect)
        changed = ("state", "data", "version", "is_open", "last_hash", "updated_at")
        self._update = Prepared(
            update(cases)
            .where(cases.c.id == bindparam("_id"), cases.c.version == bindparam("_expected"))
            .values({name: bindparam(name) for name in changed}),
            dialect,
        )
        self._insert_event = Prepared(insert(events).values(_values(events, ("id",))), dialect)
        # The head of the global history chain (``_chain.py``), moved at commit: from the head
        # the store moved last if it is still there (one plain UPDATE, judged by its row
        # count), else read and locked as it is, then moved from there.
        moved = ("gseq", "hash", "mac", "updated_at")
        head = history_head.c
        self._move_head = Prepared(
            update(history_head)
            .where(
                head.id == 1,
                head.gseq == bindparam("_was_gseq"),
                head.hash == bindparam("_was_hash"),
            )
            .values({name: bindparam(name) for name in moved}),
            dialect,
        )
        read_head = select(head.gseq, head.hash, head.mac).where(head.id == 1)
        if dialect.name != "sqlite":
            read_head = read_head.with_for_update()
        self._read_head = Prepared(read_head, dialect)
        self._update_head = Prepared(
            update(history_head)
            .where(head.id == 1)
            .values({name: bindparam(name) for name in moved}),
            dialect,
        )
        # The head this store moved last (``_chain.HistoryQueries.seal_history``), or None.
        self.head_cache: tuple[int, str] | None = None
        live = [bindparam(f"live_{n}", s, type_=String) for n, s in enumerate(LIVE_TIMER)]
        self._live_timers = Prepared(
            select(timers)
            .where(timers.c.case_id == bindparam("case_id"), timers.c.status.in_(live))
            .order_by(timers.c.due_at, timers.c.id),
            dialect,
        )
        self._cancel_state_timers = Prepared(
            update(timers)
            .where(
                timers.c.case_id == bindparam("case_id"),
                timers.c.status == "pending",
                timers.c.state == bindparam("leaving"),
            )
            .values(status="cancelled"),
            dialect,
        )
        self._insert_timer = Prepared(insert(timers).values(_values(timers, ("id",))), dialect)
        self._case = _row_decoder(cases, dialect)
        self._timer = _row_decoder(timers, dialect)

    def lock_case(self, conn: Connection, case_id: int) -> CaseRow | None:
        statement = self._lock
        row = execute(conn, statement.sql, statement.params({"case_id": case_id}), fetch=True)
        return None if row is None else CaseRow(**self._case(row))

    def live_timers(self, conn: Connection, case_id: int) -> list[TimerRow]:
        """Pending and paused timers of a case, in due order."""
        statement = self._live_timers
        rows = execute(conn, statement.sql, statement.params({"case_id": case_id}), fetch=None)
        return [TimerRow(**self._timer(row)) for row in rows]

    def cancel_state_timers(self, conn: Connection, case_id: int, state: str) -> int:
        """Cancel the pending timers armed in ``state`` (leaving it); how many."""
        statement = self._cancel_state_timers
        params = statement.params({"case_id": case_id, "leaving": state})
        return int(execute(conn, statement.sql, params))

    def insert_timers(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert timer rows (``id`` aside, a column missing from a row is NULL)."""
        statement = self._insert_timer
        execute_many(conn, statement.sql, [statement.params(row) for row in rows])

    def update_case(
        self, conn: Connection, case_id: int, expected_version: int, values: Mapping[str, Any]
    ) -> bool:
        statement = self._update
        params = statement.params({**values, "_id": case_id, "_expected": expected_version})
        return int(execute(conn, statement.sql, params)) == 1

    def append_event(self, conn: Connection, values: Mapping[str, Any]) -> None:
        statement = self._insert_event
        execute(conn, statement.sql, statement.params(values))

    def insert_events(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        statement = self._insert_event
        if len(rows) == 1:
            execute(conn, statement.sql, statement.params(rows[0]))
        else:
            execute_many(conn, statement.sql, [statement.params(row) for row in rows])

    def move_head(
        self,
        conn: Connection,
        was: tuple[int, str],
        gseq: int,
        ghash: str,
        mac: str,
        at: datetime,
    ) -> tuple[int, str | None, str | None] | None:
        """Move the head from ``was`` (number, link) to ``gseq``/``ghash``/``mac`` if it is still
        at ``was``; the head as it is now (locked until the transaction ends), None if the row
        is missing."""
        statement = self._move_head
        values = {"gseq": gseq, "hash": ghash, "mac": mac, "updated_at": at}
        params = statement.params({**values, "_was_gseq": was[0], "_was_hash": was[1]})
        if int(execute(conn, statement.sql, params)) == 1:
            return gseq, ghash, mac
        row = execute(conn, self._read_head.sql, self._read_head.params({}), fetch=True)
        return None if row is None else (int(row[0]), row[1], row[2])

    def update_head(self, conn: Connection, gseq: int, ghash: str, mac: str, at: datetime) -> None:
        statement = self._update_head
        values = {"gseq": gseq, "hash": ghash, "mac": mac, "updated_at": at}
        execute(conn, statement.sql, statement.params(values))


Params = tuple[Any, ...] | Mapping[str, Any]


def execute(
    conn: Connection, statement: str, params: Params = (), fetch: bool | None = False
) -> Any:
    """Run ``statement`` on the connection's driver cursor: the row fetched (``fetch``), every
    row (``fetch=None``) or the row count. A driver error comes out as SQLAlchemy's wrapper
    (``IntegrityError``, ``OperationalError``...), as from any other statement of the store,
    so callers handle one family of database errors."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement, params)
        if fetch is None:
            return cursor.fetchall()
        return cursor.fetchone() if fetch else cursor.rowcount
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, params, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def execute_many(conn: Connection, statement: str, rows: Sequence[Params]) -> None:
    """``statement`` once per row of parameters (``executemany``); errors as ``execute``."""
    if not rows:
        return
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(statement, rows)  # type: ignore[arg-type]  # all of one style
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, rows, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
