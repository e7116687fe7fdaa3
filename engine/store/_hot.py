"""The per-transition statements, on the database driver itself.

Every ``Engine.fire`` reads and locks its case row, updates it (compare-and-set on the version),
appends one history row and, in a flow with timers, cancels the timers of the state it leaves,
inserts those of the state it enters and reads the case's live timers for the view it returns.
Through SQLAlchemy Core each of those costs more in statement execution machinery (parameter
processing, result wrapping, events) than the database takes to run it, so these are issued on
the DB-API cursor of the same connection, inside the same transaction the ``Tx`` holds, and
encode and decode values exactly as the tables' column types do (``engine/store/tables.py``):
JSON through the store's serializer, times as naive UTC (the SQLite text format SQLAlchemy
writes), booleans as the backend stores them. Every other statement stays on SQLAlchemy.
``tests/engine/store/test_hot_path.py`` checks that rows written here and rows written by SQLAlchemy
read back the same both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Table
from sqlalchemy.exc import DBAPIError

from engine.errors import FieldError, InvalidInput
from engine.store.rows import LIVE_TIMER, CaseRow, TimerRow
from engine.store.tables import UTCDateTime, cases, events, timers

__all__ = ["HotStatements", "execute", "execute_many", "has_nul", "json_serializer", "refuse_nul"]

# Column names, in table order, and how each is stored: read from the tables themselves.
_CASE_COLUMNS = tuple(c.name for c in cases.columns)
_EVENT_COLUMNS = tuple(c.name for c in events.columns if c.name != "id")  # the id is the database's
_TIMER_COLUMNS = tuple(c.name for c in timers.columns)
_TIMER_INSERTED = _TIMER_COLUMNS[1:]


def _kinds(table: Table) -> dict[str, str]:
    """``json``, ``time`` or ``bool`` for the columns stored unlike their Python value."""
    kinds: dict[str, str] = {}
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            kinds[column.name] = "time"
        elif isinstance(column.type, JSON):
            kinds[column.name] = "json"
        elif isinstance(column.type, Boolean):
            kinds[column.name] = "bool"
    return kinds


_KINDS = {table.name: _kinds(table) for table in (cases, events, timers)}


def json_serializer(value: Any) -> str:
    """How the store writes JSON columns (SQLAlchemy's ``json_serializer`` too)."""
    return json.dumps(value, ensure_ascii=False)


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


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store: pass an aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


def _sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite ``DateTime`` text format, microseconds always written."""
    naive = _naive_utc(value)
    return None if naive is None else naive.isoformat(" ", "microseconds")


def _sqlite_read_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class HotStatements:
    """The per-transition statements for one dialect (``sqlite``, or ``postgresql`` via psycopg)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self._lock = f"SELECT {', '.join(_CASE_COLUMNS)} FROM cases WHERE id = {mark}" + (
            "" if self.sqlite else " FOR UPDATE"
        )
        self._update = (
            f"UPDATE cases SET state = {mark}, data = {mark}, version = {mark},"
            f" is_open = {mark}, last_hash = {mark}, updated_at = {mark}"
            f" WHERE id = {mark} AND version = {mark}"
        )
        self._insert_event = (
            f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)})"
            f" VALUES ({', '.join([mark] * len(_EVENT_COLUMNS))})"
        )
        self._live_timers = (
            f"SELECT {', '.join(_TIMER_COLUMNS)} FROM timers"
            f" WHERE case_id = {mark} AND status IN ({', '.join([mark] * len(LIVE_TIMER))})"
            " ORDER BY due_at, id"
        )
        self._cancel_state_timers = (
            "UPDATE timers SET status = 'cancelled'"
            f" WHERE case_id = {mark} AND status = 'pending' AND state = {mark}"
        )
        self._insert_timer = (
            f"INSERT INTO timers ({', '.join(_TIMER_INSERTED)})"
            f" VALUES ({', '.join([mark] * len(_TIMER_INSERTED))})"
        )
        self._time: Callable[[datetime | None], Any]
        self._json: Callable[[Any], Any]
        if self.sqlite:
            self._time, self._json = _sqlite_time, json_serializer
        else:
            from psycopg.types.json import Jsonb  # the connection's adapters dump it

            self._time, self._json = _naive_utc, Jsonb
        self._encode = {"time": self._time, "json": self._json, "bool": bool}
        self._event_encoders = self._encoders(events, _EVENT_COLUMNS)
        self._timer_encoders = self._encoders(timers, _TIMER_INSERTED)

    def _encoders(
        self, table: Table, names: tuple[str, ...]
    ) -> list[tuple[str, Callable[[Any], Any]]]:
        kinds = _KINDS[table.name]
        return [(name, self._encode.get(kinds.get(name, ""), _same)) for name in names]

    def _decoded(
        self, table: Table, names: tuple[str, ...], row: tuple[Any, ...]
    ) -> dict[str, Any]:
        """A row read on the driver as the column types would give it back."""
        values = dict(zip(names, row, strict=True))
        for name, kind in _KINDS[table.name].items():
            value = values[name]
            if value is None:
                continue
            if kind == "time":
                values[name] = (
                    _sqlite_read_time(value) if self.sqlite else value.replace(tzinfo=UTC)
                )
            elif kind == "json" and isinstance(value, str):
                values[name] = json.loads(value)
            elif kind == "bool":
                values[name] = bool(value)
        return values

    def lock_case(self, conn: Connection, case_id: int) -> CaseRow | None:
        row = execute(conn, self._lock, (case_id,), fetch=True)
        if row is None:
            return None
        return CaseRow(**self._decoded(cases, _CASE_COLUMNS, row))

    def live_timers(self, conn: Connection, case_id: int) -> list[TimerRow]:
        """Pending and paused timers of a case, in due order."""
        cursor = execute(conn, self._live_timers, (case_id, *LIVE_TIMER), fetch=None)
        return [TimerRow(**self._decoded(timers, _TIMER_COLUMNS, row)) for row in cursor]

    def cancel_state_timers(self, conn: Connection, case_id: int, state: str) -> int:
        """Cancel the pending timers armed in ``state`` (leaving it); how many."""
        return int(execute(conn, self._cancel_state_timers, (case_id, state)))

    def insert_timers(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert timer rows (``id`` aside, a column missing from a row is NULL)."""
        params = [tuple(encode(r.get(c)) for c, encode in self._timer_encoders) for r in rows]
        if not self.sqlite:
            for one in params:
                refuse_nul(one)
        execute_many(conn, self._insert_timer, params)

    def update_case(
        self, conn: Connection, case_id: int, expected_version: int, values: Mapping[str, Any]
    ) -> bool:
        params = (
            values["state"],
            self._json(values["data"]),
            values["version"],
            bool(values["is_open"]),
            values["last_hash"],
            self._time(values["updated_at"]),
            case_id,
            expected_version,
        )
        if not self.sqlite:
            refuse_nul(params)
        return int(execute(conn, self._update, params)) == 1

    def append_event(self, conn: Connection, values: Mapping[str, Any]) -> None:
        params = tuple([encode(values[c]) for c, encode in self._event_encoders])
        if not self.sqlite:
            refuse_nul(params)
        execute(conn, self._insert_event, params)


def execute(
    conn: Connection, statement: str, params: tuple[Any, ...] = (), fetch: bool | None = False
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


def execute_many(conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``statement`` once per row of parameters (``executemany``); errors as ``execute``."""
    if not rows:
        return
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(statement, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, rows, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
