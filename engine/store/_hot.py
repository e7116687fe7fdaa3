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
``tests/unit/test_hot_path.py`` checks that rows written here and rows written by SQLAlchemy
read back the same both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.errors import FieldError, InvalidInput
from engine.store.rows import LIVE_TIMER, CaseRow, TimerRow

__all__ = ["HotStatements", "execute", "execute_many", "has_nul", "json_serializer", "refuse_nul"]

_CASE_COLUMNS = (
    "id, definition_id, workflow, workflow_version, state, data, version, subject,"
    " jurisdiction, is_open, last_hash, created_at, updated_at"
)
_EVENT_COLUMNS = (
    "case_id",
    "seq",
    "kind",
    "trigger",
    "transition",
    "from_state",
    "to_state",
    "actor",
    "role",
    "jurisdiction",
    "payload",
    "patch",
    "at",
    "due_at",
    "prev_hash",
    "hash",
)
_TIMER_COLUMNS = (
    "id",
    "case_id",
    "name",
    "trigger",
    "state",
    "deadline",
    "due_at",
    "status",
    "payload",
    "catch_up",
    "every",
    "provisional",
    "created_at",
    "fired_at",
    "base_at",
    "duration",
    "remaining_seconds",
    "remaining_working_days",
)
_TIMER_TIMES = frozenset({"due_at", "created_at", "fired_at", "base_at"})
_TIMER_INSERTED = _TIMER_COLUMNS[1:]  # the id is the database's
_EVENT_JSON = frozenset({"payload", "patch"})
_EVENT_TIMES = frozenset({"at", "due_at"})


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
    """The three hot statements for one dialect (``sqlite`` or ``postgresql`` via psycopg)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self._lock = f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = {mark}" + (
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
        self._event_encoders = [
            (c, self._json if c in _EVENT_JSON else self._time if c in _EVENT_TIMES else _same)
            for c in _EVENT_COLUMNS
        ]
        self._timer_encoders = [
            (
                c,
                self._json
                if c == "payload"
                else self._time
                if c in _TIMER_TIMES
                else bool
                if c == "provisional"
                else _same,
            )
            for c in _TIMER_INSERTED
        ]

    def lock_case(self, conn: Connection, case_id: int) -> CaseRow | None:
        row = execute(conn, self._lock, (case_id,), fetch=True)
        if row is None:
            return None
        data, created, updated = row[5], row[11], row[12]
        if self.sqlite:
            data = json.loads(data)
            created, updated = _sqlite_read_time(created), _sqlite_read_time(updated)
        else:
            created, updated = created.replace(tzinfo=UTC), updated.replace(tzinfo=UTC)
        return CaseRow(
            id=row[0],
            definition_id=row[1],
            workflow=row[2],
            workflow_version=row[3],
            state=row[4],
            data=data,
            version=row[6],
            subject=row[7],
            jurisdiction=row[8],
            is_open=bool(row[9]),
            last_hash=row[10],
            created_at=created,
            updated_at=updated,
        )

    def live_timers(self, conn: Connection, case_id: int) -> list[TimerRow]:
        """Pending and paused timers of a case, in due order."""
        cursor = execute(conn, self._live_timers, (case_id, *LIVE_TIMER), fetch=None)
        return [self._timer(row) for row in cursor]

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

    def _timer(self, row: tuple[Any, ...]) -> TimerRow:
        values = dict(zip(_TIMER_COLUMNS, row, strict=True))
        for name in _TIMER_TIMES:
            value = values[name]
            if value is not None:
                values[name] = (
                    _sqlite_read_time(value) if self.sqlite else value.replace(tzinfo=UTC)
                )
        if self.sqlite:
            values["payload"] = json.loads(values["payload"])
            values["provisional"] = bool(values["provisional"])
        return TimerRow(**values)

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
